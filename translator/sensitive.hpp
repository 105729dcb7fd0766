#pragma once
// The instructions that may not run IDENT from the translation cache: privileged ones (the
// translated kernel does not run at the privilege the guest thinks it has) and sensitive
// unprivileged ones (Robin & Irvine 2000, ../shared/REFERENCES.md §4), which would silently
// reveal or change the real machine state instead of the guest's virtual one.
//
// One row per kind: name, text, handling (InCache: emulated by code inside the cache;
// Callout: a HLT the engine catches), whether it ends the translation unit (it may change
// control flow, or the VMM must regain control right after it), and why, in one sentence
// for the documentation and the visualizer.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/isa/decoder.hpp"

namespace hvsim::bt {

enum class Handling : uint8_t { InCache, Callout };

// clang-format off
#define HVSIM_SENSITIVE_INSTRUCTIONS(X)                                                                                 \
  X(Cli, "CLI", InCache, false, "clears the guest's virtual IF in the VMM data area; the real IF stays set for the VMM") \
  X(Sti, "STI", Callout, true, "sets the virtual IF; the VMM delivers pending virtual interrupts after STI's one-instruction shadow") \
  X(Pushf, "PUSHF", Callout, false, "would push the real IF and IOPL, not the guest's virtual ones (unprivileged, Robin & Irvine)") \
  X(Popf, "POPF", Callout, false, "below CPL 0 it silently ignores IF and IOPL changes; the VMM updates the virtual RFLAGS (Robin & Irvine)") \
  X(MovToCr, "MOV to CR0/CR2/CR3/CR4", Callout, true, "changes paging or protection of the virtual machine; the VMM updates shadow state, and the code being translated may move") \
  X(MovFromCr, "MOV from CR0/CR2/CR3/CR4", Callout, false, "the guest must read its own control registers, not the shadow CR3 or the VMM's CR0/CR4") \
  X(MovToCr8, "MOV to CR8", InCache, false, "writes the guest's task-priority register, which the VMM virtualizes: in the cache, with a callout when a waiting interrupt gets through or reserved bits are set") \
  X(MovFromCr8, "MOV from CR8", InCache, false, "reads the guest's virtual task-priority register, kept in the VMM data area") \
  X(MovDr, "MOV to/from DR0-DR7", Callout, false, "debug registers are privileged and belong to the VMM; the guest gets virtual ones") \
  X(LoadDescriptorTable, "LGDT/LIDT", Callout, false, "loads a descriptor-table register that the VMM owns; the guest's values are kept virtually") \
  X(StoreDescriptorTable, "SGDT/SIDT", Callout, false, "unprivileged reads of GDTR/IDTR would reveal the VMM's tables (Red Pill, Robin & Irvine)") \
  X(LoadSystemSegment, "LLDT/LTR", Callout, false, "loads LDTR/TR, privileged and owned by the VMM") \
  X(StoreSystemSegment, "SLDT/STR", Callout, false, "unprivileged reads of LDTR/TR would reveal the VMM's selectors (Robin & Irvine)") \
  X(Smsw, "SMSW", Callout, false, "unprivileged read of CR0's low bits would reveal the real CR0 (Robin & Irvine)") \
  X(Lmsw, "LMSW", Callout, false, "writes CR0's low bits, privileged") \
  X(Clts, "CLTS", Callout, false, "clears CR0.TS, privileged; the guest's CR0 is virtual") \
  X(SegmentCheck, "LAR/LSL/VERR/VERW", Callout, false, "their result depends on the real CPL and descriptor DPLs, which differ from the guest's view (Robin & Irvine)") \
  X(PushSegment, "PUSH FS/GS", Callout, false, "would push the real selector, whose RPL shows the deprivileged CPL; the guest kernel must see RPL 0 (Robin & Irvine)") \
  X(PopSegment, "POP FS/GS", Callout, false, "a segment load checks privilege against the real CPL and descriptor table (Robin & Irvine)") \
  X(MovSegment, "MOV to/from a segment register", Callout, false, "loads check privilege against the real CPL; reads reveal the real RPL (Robin & Irvine)") \
  X(LoadFarPointer, "LSS/LFS/LGS", Callout, false, "segment loads, checked against the real CPL and descriptor table") \
  X(FarTransfer, "far CALL/JMP/RET", Callout, true, "far transfers load CS and check privilege against the real CPL (Robin & Irvine)") \
  X(IntN, "INT n", Callout, true, "software interrupts go through the guest's virtual IDT, not the VMM's (Robin & Irvine)") \
  X(Int3, "INT3", Callout, true, "a breakpoint trap delivered through the guest's virtual IDT") \
  X(Int1, "INT1 (ICEBP)", Callout, true, "a debug trap delivered through the guest's virtual IDT") \
  X(Iret, "IRETQ/IRETD", Callout, true, "returns through the guest's virtual stack frame: restores virtual IF and may leave the translated kernel for user code") \
  X(Sysret, "SYSRET", Callout, true, "returns to guest user code, which runs directly; the VMM switches execution mode") \
  X(Syscall, "SYSCALL", Callout, true, "enters the guest kernel through its virtual LSTAR/STAR/FMASK") \
  X(Sysenter, "SYSENTER/SYSEXIT", Callout, true, "fast system-call transfers through the guest's virtual MSRs") \
  X(Swapgs, "SWAPGS", Callout, false, "exchanges GS base with the guest's virtual KERNEL_GS_BASE MSR") \
  X(Rdmsr, "RDMSR", Callout, false, "MSRs are privileged; the guest reads its virtual MSRs") \
  X(Wrmsr, "WRMSR", Callout, false, "MSRs are privileged; the guest writes its virtual MSRs") \
  X(PortIo, "IN/OUT", Callout, false, "port I/O goes to the virtual devices; to a port no device answers (port 0x80), emulated in the cache") \
  X(StringIo, "INS/OUTS (REP)", Callout, false, "string port I/O goes to the virtual devices, with the REP count and memory operands") \
  X(Hlt, "HLT", Callout, true, "the virtual CPU idles until its next virtual interrupt; HLT is also the callout instruction itself") \
  X(Invlpg, "INVLPG/INVPCID", Callout, false, "TLB invalidation must reach the shadow page tables") \
  X(Cpuid, "CPUID", Callout, false, "the guest sees the virtual CPU's features, not the host's (unprivileged, flagged by VirtualBox's CSAM)") \
  X(Rdtsc, "RDTSC", Callout, false, "the guest reads virtual time (deterministic), not the host's TSC") \
  X(Rdtscp, "RDTSCP", Callout, false, "virtual time and the guest's virtual TSC_AUX") \
  X(Rdpid, "RDPID", Callout, false, "reads the guest's virtual TSC_AUX") \
  X(Rdpmc, "RDPMC", Callout, false, "performance counters are the host's; the guest gets virtual ones or #GP") \
  X(CacheControl, "WBINVD/INVD/WBNOINVD", Callout, false, "privileged cache control, emulated by the VMM") \
  X(Random, "RDRAND/RDSEED", Callout, false, "non-deterministic; the VMM supplies seeded values so runs replay") \
  X(Pause, "PAUSE", InCache, false, "a spin-wait hint with no architectural state: copied as-is (F3 90)") \
  X(Xsetbv, "XSETBV", Callout, false, "writes XCR0, privileged; the guest's XCR0 is virtual") \
  X(Xgetbv, "XGETBV", Callout, false, "reads XCR0; the guest must see its own value") \
  X(MonitorMwait, "MONITOR/MWAIT/UMWAIT/TPAUSE", Callout, false, "idle and timed-wait instructions; the VMM idles the virtual CPU on virtual time") \
  X(Vmcall, "VMCALL/VMMCALL", Callout, true, "a hypercall to the VMM") \
  X(FsGsBase, "RDFSBASE/WRFSBASE/RDGSBASE/WRGSBASE", Callout, false, "allowed only when the guest's virtual CR4.FSGSBASE is set, which the real CR4 need not match") \
  X(Pkru, "RDPKRU/WRPKRU", Callout, false, "allowed only when the guest's virtual CR4.PKE is set, which the real CR4 need not match") \
  X(Smap, "CLAC/STAC", Callout, false, "privileged; RFLAGS.AC governs supervisor access to user pages under the guest's virtual CR4.SMAP") \
  X(Virtualization, "VMX/SVM/SMM instructions", Callout, true, "the virtual CPU has no VMX, SVM or SMM: the VMM raises #UD") \
  X(OtherRelative, "XBEGIN (RIP-relative target)", Callout, false, "its fallback target is relative to the guest RIP, which the fragment does not have") \
  X(OtherPrivileged, "other privileged instruction", Callout, false, "Zydis marks it CPL 0 only; the VMM emulates it or raises the fault the guest expects")
// clang-format on

enum class SensitiveKind : uint8_t {
#define HVSIM_SENSITIVE_ENUM(name, text, handling, ends_unit, reason) name,
  HVSIM_SENSITIVE_INSTRUCTIONS(HVSIM_SENSITIVE_ENUM)
#undef HVSIM_SENSITIVE_ENUM
      Count
};
constexpr size_t kSensitiveKindCount = static_cast<size_t>(SensitiveKind::Count);

const char* sensitive_name(SensitiveKind k);    // "Cli"
const char* sensitive_text(SensitiveKind k);    // "CLI"
const char* sensitive_reason(SensitiveKind k);  // one sentence
Handling sensitive_handling(SensitiveKind k);
bool sensitive_ends_unit(SensitiveKind k);

// The sensitive kind of a decoded instruction, or nullopt when it may run IDENT (as far as
// privilege goes: RIP-relative operands and branches are classify()'s business).
std::optional<SensitiveKind> sensitive_kind(const Instruction& insn);

}  // namespace hvsim::bt
