#pragma once
// The bt differential fuzzer's generator: random kernel-mode instructions as Zydis encoder
// requests, drawn by kind from the menu (bt_diff_menu.hpp), into the body snippets and local
// functions of a Case. Gen's machinery (emitting, operands, safe instructions, functions) is
// in bt_diff_generator.cpp, the kinds in bt_diff_kinds_*.cpp.
#include <Zydis/Zydis.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "bt_diff_layout.hpp"
#include "bt_diff_menu.hpp"
#include "bt_diff_program.hpp"
#include "fuzz_support.hpp"

namespace hvsim::fuzz::bt_diff {

// Mnemonics the kinds draw from.
constexpr std::array<ZydisMnemonic, 16> kJcc = {
    ZYDIS_MNEMONIC_JB,  ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JL,  ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNB, ZYDIS_MNEMONIC_JNBE,
    ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JNLE, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JNP, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JNZ,
    ZYDIS_MNEMONIC_JO,  ZYDIS_MNEMONIC_JP,  ZYDIS_MNEMONIC_JS,  ZYDIS_MNEMONIC_JZ};
constexpr std::array<ZydisMnemonic, 16> kCmov = {
    ZYDIS_MNEMONIC_CMOVB,  ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVL,  ZYDIS_MNEMONIC_CMOVLE,
    ZYDIS_MNEMONIC_CMOVNB, ZYDIS_MNEMONIC_CMOVNBE, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVNLE,
    ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVNP, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVNZ,
    ZYDIS_MNEMONIC_CMOVO,  ZYDIS_MNEMONIC_CMOVP,  ZYDIS_MNEMONIC_CMOVS,  ZYDIS_MNEMONIC_CMOVZ};
constexpr std::array<ZydisMnemonic, 16> kSetcc = {
    ZYDIS_MNEMONIC_SETB,  ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETL,  ZYDIS_MNEMONIC_SETLE,
    ZYDIS_MNEMONIC_SETNB, ZYDIS_MNEMONIC_SETNBE, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETNLE,
    ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETNP, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETNZ,
    ZYDIS_MNEMONIC_SETO,  ZYDIS_MNEMONIC_SETP,  ZYDIS_MNEMONIC_SETS,  ZYDIS_MNEMONIC_SETZ};
constexpr std::array<ZydisMnemonic, 9> kAlu = {ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,  ZYDIS_MNEMONIC_ADC,
                                               ZYDIS_MNEMONIC_SBB, ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB,
                                               ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_MOV};
constexpr std::array<ZydisMnemonic, 7> kShift = {ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR,
                                                 ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL,
                                                 ZYDIS_MNEMONIC_RCR};

// Selectors for LAR/LSL/VERR/VERW: the flat GDT's (docs/flat-guests.md), RPL variants, the
// TSS's upper half, beyond the limit, null.
constexpr std::array<uint16_t, 16> kSelectors = {0x00, 0x08, 0x0b, 0x10, 0x13, 0x18, 0x1b, 0x20,
                                                 0x23, 0x28, 0x2b, 0x30, 0x38, 0x40, 0x04, 0xfff8};

// Fills a Case (functions, then body snippets) with random instructions; every random draw
// comes from `r`, so a case depends on the seed, its index, the menu and the options alone.
class Gen {
 public:
  Gen(Case& c, Rng& r, const std::vector<const Kind*>& menu, Options opt = {});

  int new_label() { return c_.labels++; }

  // Encodable with a dummy address and the label placeholders the first pass uses.
  static bool ok(const ZydisEncoderRequest& q);
  // A request the encoder refuses marks the snippet being generated as failed (it is then
  // generated again), so that no snippet silently lacks an instruction.
  bool emit(Snippet& s, const ZydisEncoderRequest& q);
  bool emit(Snippet& s, ZydisMnemonic m, std::initializer_list<ZydisEncoderOperand> ops, ZydisInstructionAttributes p = 0);
  // An instruction with a label in operand `fix` (a branch target, a LEA or MOV of its address).
  bool emit_ref(Snippet& s, ZydisEncoderRequest q, int fix, int label, bool branch, int64_t addend = 0);
  bool branch(Snippet& s, ZydisMnemonic m, int label, bool short_form);
  static void label(Snippet& s, int l);
  static void raw(Snippet& s, Bytes b);

  int pick_reg(uint32_t mask);
  int any_reg() { return static_cast<int>(r_.below(16)); }
  int size() { return r_.pick({1, 2, 4, 4, 8, 8, 8}); }
  int64_t imm(int size);
  uint64_t value64();

  // A memory operand into the scratch area: [r14 + disp], [base + index*scale + disp] with
  // the index bounded by a MOVZX first (and a base LEA'd from r14), or RIP-relative.
  ZydisEncoderOperand mem(Snippet& s, uint32_t mask, int size);

  // One instruction (with its MOVZX/LEA preparation) that writes only registers in `mask` (and
  // scratch memory and flags), never branches, never touches the stack.
  void safe(Snippet& out, uint32_t mask);
  bool safe_try(Snippet& s, uint32_t mask);

  // After BT*: ADC/SBB r, imm8 defines OF, SF, ZF, AF, PF from BT's CF (see Options).
  bool define_flags_after_bt(Snippet& s, uint32_t mask);

  void safes(Snippet& s, uint32_t mask, int lo, int hi);

  // ---- functions ----
  void make_functions();

  // The mask for the top level: everything but RSP and R14.
  static constexpr uint32_t kTop = kAllRegs & ~kPinned;

  // Pushes the qwords a RET imm16 will drop.
  void call_padding(Snippet& s, const Function& f);

  // The resume slot for a fault: the handler continues at `resume`.
  void set_resume(Snippet& s, int resume);
  void clear_resume(Snippet& s);

  // RETFQ: pops RIP, then CS.
  void emit_far_ret(Snippet& s);
  // PUSHFQ; POP t; XOR t with random flags of kFlagsToggle; PUSH t; POPFQ.
  void emit_popf_toggling(Snippet& s, int t);

  // One of the 512 2 MiB pages of GiB 3, mapped by PD 3 (identity, above RAM): its address,
  // the address of its PDE, and the PDE's own value, to restore after changing it.
  struct Gib3Page {
    uint64_t va;
    int64_t pde;
    uint64_t original;
  };
  Gib3Page gib3_page();

  const Kind& pick_kind();
  BodySnippet snippet();
  // Generates one snippet of the kind called `kind` (a name in kKinds) into `s`.
  void gen_kind(const std::string& kind, Snippet& s);

  unsigned retries() const { return retries_; }
  const std::map<std::string, unsigned>& refusals() const { return refusals_; }

 private:
  // The kinds of kKinds, one function each (string and repstring share one, alias and unmap
  // too); gen_kind calls them by name.
  // bt_diff_kinds_general.cpp
  void kind_alu(Snippet& s);
  void kind_muldiv(Snippet& s);
  void kind_stack(Snippet& s);
  void kind_branch(Snippet& s);
  void kind_loop(Snippet& s);
  void kind_call(Snippet& s);
  void kind_indirect(Snippet& s);
  void kind_pushf(Snippet& s);
  void kind_clisti(Snippet& s);
  void kind_atomic(Snippet& s);
  void kind_string(Snippet& s, bool rep);  // rep: the repstring kind
  void kind_cpuid(Snippet& s);
  void kind_rdtsc(Snippet& s);
  void kind_rdrand(Snippet& s);
  // bt_diff_kinds_system.cpp
  void kind_msr(Snippet& s);
  void kind_fsgs(Snippet& s);
  void kind_cr(Snippet& s);
  void kind_dr(Snippet& s);
  void kind_dtables(Snippet& s);
  void kind_sysseg(Snippet& s);
  void kind_segcheck(Snippet& s);
  void kind_segregs(Snippet& s);
  void kind_cache(Snippet& s);
  void kind_portio(Snippet& s);
  void kind_far(Snippet& s);
  void kind_user(Snippet& s);
  // bt_diff_kinds_faults.cpp
  void kind_softint(Snippet& s);
  void kind_fault(Snippet& s);
  void kind_paging(Snippet& s);
  void kind_sysfault(Snippet& s);
  void kind_timer(Snippet& s);
  void kind_triplefault(Snippet& s);
  void kind_alias(Snippet& s, bool then_unmap);  // then_unmap: the unmap kind
  void kind_smc(Snippet& s);

  bool refused(const ZydisEncoderRequest& q);
  bool failed_ = false;
  bool no_rip_ = false;  // safe() and mem() make no RIP-relative operand
  bool in_far_code_ = false;  // generating the alias kind's function, run above 3 GiB
  unsigned retries_ = 0;
  std::map<std::string, unsigned> refusals_;
  Case& c_;
  Rng& r_;
  std::vector<const Kind*> menu_;
  Options opt_;
  uint64_t total_weight_ = 0;
};

// Case `index` of `seed`, drawn from `kinds`; the same (seed, index, kinds, opt) give the same case.
Case make_case(uint64_t seed, unsigned index, const std::vector<const Kind*>& kinds, const Options& opt);

}  // namespace hvsim::fuzz::bt_diff
