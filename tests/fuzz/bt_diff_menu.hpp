#pragma once
// What the bt differential generator draws from: the snippet kinds with their weights, the
// kinds left out because bt gets a whole category wrong, and the switches for what native and
// bt disagree on below the level of a kind. Each says what it guards against (the .cpp for
// the kinds, Options below for the switches).
#include <set>
#include <string>
#include <vector>

namespace hvsim::fuzz::bt_diff {

struct Kind {
  const char* name;
  unsigned weight;
  const char* what;
};
// The menu. Weights are relative.
extern const std::vector<Kind> kKinds;

// Kinds left out of the default menu because bt gets a whole category wrong (bt_diff_menu.cpp
// says what this fuzzer found and what was fixed).
extern const std::set<std::string> kKnownBrokenInBt;

// Generator switches for what native and bt disagree on below the level of a whole kind, off
// by default: three things the CPU substrate (Unicorn 2.1) gets wrong or leaves to chance
// under both engines, one that bt gets wrong; and three for bugs since fixed, on by default.
struct Options {
  // (substrate) HVSIM_FUZZ_LOOPE=1: LOOPE/LOOPNE. When RCX reaches 0 the substrate leaves RFLAGS
  // garbage (its lazy condition codes are not written back on that path; TF may come on),
  // under native as under bt: `mov ecx, 1; cmp rdx, 0x4d418d5d; loopne $; pushfq` reads
  // 0x4d408d5f. Without it, LOOP takes their place.
  bool loope = false;
  // (substrate) HVSIM_FUZZ_UNDEFINED_FLAGS=1: BT/BTS/BTR/BTC leave OF, SF, AF and PF
  // undefined (SDM); the substrate derives them from whatever its lazy flags held before,
  // which depends on block boundaries and stops, so native and bt differ (DIV/IDIV leave the
  // flags as they are and carry it on): `mov rax, 0xcce10087b42f1d4b; mov rbx, 0x800000000;
  // add rax, rbx; mov r11, cr4; bts r11, 26; pushfq` reads 0x886 under native, 0x86 under
  // bt. Without it an ADC/SBB that defines every flag (from BT's CF) follows each of them.
  bool undefined_flags = false;
  // (substrate) HVSIM_FUZZ_CMPXCHG8B=1: CMPXCHG8B/CMPXCHG16B. The substrate leaves RFLAGS garbage after
  // them (native: `mov r13, 5; add r13, -0x6c; cmpxchg16b [0x200000]; pushfq` reads
  // 0xffffffd6, with bits above 31 set; under bt TF comes on and the guest triple-faults).
  // Without it, CMPXCHG r/m64, RBX on the same operand takes their place.
  bool cmpxchg8b = false;
  // (bt, fixed; on by default, HVSIM_FUZZ_BT_NONCANONICAL=0 turns it off) CALL r/m, JMP m and
  // RET on a non-canonical stack or through a non-canonical memory operand. bt emulates them;
  // raising #GP it also set CR2 (to 0), which only #PF may change: `mov cr2, 0x1234; mov rsp,
  // 1 << 63; ret`, the #GP handler read CR2 0x1234 under native, 0 under bt.
  bool bt_noncanonical = true;
  // (bt) HVSIM_FUZZ_FAST_TIMER=1: timer periods from 20 ns, shorter than the handler (about
  // 40 instructions), so that the next interrupt is due when IRETQ returns. Native runs on
  // into the interrupted code and gets through; bt, whose IRETQ is a callout (a stop), takes
  // the next interrupt first, every time, and never returns to the guest's code (the budget
  // ends it): both deliver at the same times for a while, then bt livelocks. Without it
  // periods start at 120 ns.
  bool fast_timer = false;
  // (native and bt, fixed; on by default, HVSIM_FUZZ_IRQ_WINDOWS=0 turns it off) CLI ... STI
  // inside the timer loop. A timer interrupt that fell due while IF was 0 was taken by native
  // only at the next timer deadline (the VM looked for interrupts when the CPU stopped, and
  // nothing stopped it at STI): timer period 1000, CLI, 1500 instructions, STI at t = 1506:
  // native delivered at t = 2004. bt delivered right after STI, but before the instruction in
  // its shadow (the HLT returning from STI's trampoline ended the CPU's shadow). Both now take
  // it after the one instruction in STI's shadow (the CPU stops where IF becomes 1 while an
  // interrupt waits; guest/flat/irq_window.asm). Without it the loop has no CLI/STI.
  bool irq_windows = true;
  // (bt, fixed; on by default, HVSIM_FUZZ_BT_FAR_CODE=0 turns it off) RIP-relative operands in
  // the alias kind's function, which runs above 3 GiB, out of rel32 reach of the translation
  // cache. bt ended the run with a host error ("callout RipRelativeOutOfReach ... is not
  // supported", exit status 123): map 0xc0000000 to frame 0, call f's alias, f: `mov rcx,
  // [rel data]; ret`. Now such an instruction runs from a trampoline that addresses the
  // operand through a scratch register (bt_far_riprel). Off, that function has no
  // RIP-relative operand.
  bool bt_far_code = true;
  // The switches from the environment (HVSIM_FUZZ_LOOPE ... above).
  static Options from_env();
};

// The kinds to draw from: kKinds without kKnownBrokenInBt, or the kinds of
// HVSIM_FUZZ_ONLY_KINDS (known-broken ones too); never those of HVSIM_FUZZ_EXCLUDE.
std::vector<const Kind*> menu();

}  // namespace hvsim::fuzz::bt_diff
