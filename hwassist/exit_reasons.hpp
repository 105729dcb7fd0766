#pragma once
// VM-exit reasons, numbered as in the Intel SDM Vol. 3C, Appendix C.
#include <cstdint>

namespace hvsim::vmx {

#define HVSIM_EXIT_REASONS(X)                        \
  X(ExceptionOrNmi, 0, "exception or NMI")           \
  X(ExternalInterrupt, 1, "external interrupt")      \
  X(TripleFault, 2, "triple fault")                  \
  X(InterruptWindow, 7, "interrupt window")          \
  X(NmiWindow, 8, "NMI window")                      \
  X(TaskSwitch, 9, "task switch")                    \
  X(Cpuid, 10, "CPUID")                              \
  X(Getsec, 11, "GETSEC")                            \
  X(Hlt, 12, "HLT")                                  \
  X(Invd, 13, "INVD")                                \
  X(Invlpg, 14, "INVLPG")                            \
  X(Rdpmc, 15, "RDPMC")                              \
  X(Rdtsc, 16, "RDTSC")                              \
  X(Rsm, 17, "RSM")                                  \
  X(Vmcall, 18, "VMCALL")                            \
  X(CrAccess, 28, "control-register access")         \
  X(MovDr, 29, "MOV DR")                             \
  X(IoInstruction, 30, "I/O instruction")            \
  X(Rdmsr, 31, "RDMSR")                              \
  X(Wrmsr, 32, "WRMSR")                              \
  X(EntryFailGuestState, 33, "VM-entry failure: invalid guest state") \
  X(EntryFailMsrLoading, 34, "VM-entry failure: MSR loading") \
  X(Mwait, 36, "MWAIT")                              \
  X(MonitorTrapFlag, 37, "monitor trap flag")        \
  X(Monitor, 39, "MONITOR")                          \
  X(Pause, 40, "PAUSE")                              \
  X(TprBelowThreshold, 43, "TPR below threshold")    \
  X(ApicAccess, 44, "APIC access")                   \
  X(GdtrIdtrAccess, 46, "GDTR/IDTR access")          \
  X(LdtrTrAccess, 47, "LDTR/TR access")              \
  X(EptViolation, 48, "EPT violation")               \
  X(EptMisconfig, 49, "EPT misconfiguration")        \
  X(Rdtscp, 51, "RDTSCP")                            \
  X(PreemptionTimer, 52, "VMX-preemption timer expired") \
  X(Wbinvd, 54, "WBINVD")                            \
  X(Xsetbv, 55, "XSETBV")                            \
  X(Rdrand, 57, "RDRAND")                            \
  X(Rdseed, 61, "RDSEED")

enum class ExitReason : uint16_t {
#define HVSIM_EXIT_ENUM(name, number, text) name = number,
  HVSIM_EXIT_REASONS(HVSIM_EXIT_ENUM)
#undef HVSIM_EXIT_ENUM
};
constexpr unsigned kExitReasonSlots = 65;  // reasons are below 65

const char* exit_reason_name(ExitReason r);
const char* exit_reason_name(unsigned number);  // "?" for a number hvsim does not produce

}  // namespace hvsim::vmx
