#pragma once
// VM-execution, VM-exit and VM-entry control bits (Intel SDM Vol. 3C, 25.6-25.8), the
// exception bitmap's use, and the VM-instruction error numbers hvsim reports (SDM 31.4).
#include <cstdint>

namespace hvsim::vmx {

namespace pin {  // Pin-based VM-execution controls (SDM Table 25-5)
constexpr uint32_t EXTERNAL_INTERRUPT_EXITING = 1u << 0, NMI_EXITING = 1u << 3, VIRTUAL_NMIS = 1u << 5,
                   PREEMPTION_TIMER = 1u << 6, POSTED_INTERRUPTS = 1u << 7;
constexpr uint32_t kDefault1 = (1u << 1) | (1u << 2) | (1u << 4);  // reserved, must be 1
}  // namespace pin

namespace proc {  // Primary processor-based VM-execution controls (SDM Table 25-6)
constexpr uint32_t INTERRUPT_WINDOW_EXITING = 1u << 2, USE_TSC_OFFSETTING = 1u << 3, HLT_EXITING = 1u << 7,
                   INVLPG_EXITING = 1u << 9, MWAIT_EXITING = 1u << 10, RDPMC_EXITING = 1u << 11,
                   RDTSC_EXITING = 1u << 12, CR3_LOAD_EXITING = 1u << 15, CR3_STORE_EXITING = 1u << 16,
                   CR8_LOAD_EXITING = 1u << 19, CR8_STORE_EXITING = 1u << 20, USE_TPR_SHADOW = 1u << 21,
                   NMI_WINDOW_EXITING = 1u << 22, MOV_DR_EXITING = 1u << 23, UNCONDITIONAL_IO_EXITING = 1u << 24,
                   USE_IO_BITMAPS = 1u << 25, MONITOR_TRAP_FLAG = 1u << 27, USE_MSR_BITMAPS = 1u << 28,
                   MONITOR_EXITING = 1u << 29, PAUSE_EXITING = 1u << 30, ACTIVATE_SECONDARY = 1u << 31;
constexpr uint32_t kDefault1 = (1u << 1) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 13) |
                               (1u << 14) | (1u << 26);
}  // namespace proc

namespace proc2 {  // Secondary processor-based VM-execution controls (SDM Table 25-7)
constexpr uint32_t VIRTUALIZE_APIC_ACCESSES = 1u << 0, ENABLE_EPT = 1u << 1, DESCRIPTOR_TABLE_EXITING = 1u << 2,
                   ENABLE_RDTSCP = 1u << 3, VIRTUALIZE_X2APIC = 1u << 4, ENABLE_VPID = 1u << 5,
                   WBINVD_EXITING = 1u << 6, UNRESTRICTED_GUEST = 1u << 7, APIC_REGISTER_VIRTUALIZATION = 1u << 8,
                   VIRTUAL_INTERRUPT_DELIVERY = 1u << 9, PAUSE_LOOP_EXITING = 1u << 10, RDRAND_EXITING = 1u << 11,
                   ENABLE_INVPCID = 1u << 12, RDSEED_EXITING = 1u << 16;
}  // namespace proc2

namespace exit_ctl {  // VM-exit controls (SDM Table 25-13)
constexpr uint32_t HOST_ADDRESS_SPACE_SIZE = 1u << 9, ACK_INTERRUPT_ON_EXIT = 1u << 15, SAVE_PAT = 1u << 18,
                   LOAD_PAT = 1u << 19, SAVE_EFER = 1u << 20, LOAD_EFER = 1u << 21, SAVE_PREEMPTION_TIMER = 1u << 22;
constexpr uint32_t kDefault1 = 0x36dffu;  // bits 0-8, 10, 11, 13, 14, 16, 17
}  // namespace exit_ctl

namespace entry_ctl {  // VM-entry controls (SDM Table 25-15)
constexpr uint32_t IA32E_MODE_GUEST = 1u << 9, ENTRY_TO_SMM = 1u << 10, LOAD_PAT = 1u << 14, LOAD_EFER = 1u << 15;
constexpr uint32_t kDefault1 = 0x11ffu;  // bits 0-8, 12
}  // namespace entry_ctl

// VM-exit interruption information (SDM Table 25-19).
namespace intr_info {
constexpr uint32_t VALID = 1u << 31, ERROR_CODE_VALID = 1u << 11;
constexpr uint32_t TYPE_EXTERNAL = 0u << 8, TYPE_NMI = 2u << 8, TYPE_HARDWARE_EXCEPTION = 3u << 8,
                   TYPE_SOFTWARE_INTERRUPT = 4u << 8, TYPE_SOFTWARE_EXCEPTION = 6u << 8;
}  // namespace intr_info

// VM-instruction error numbers (SDM 31.4).
enum class InstructionError : uint32_t {
  None = 0,
  VmentryInvalidControlFields = 7,
  VmentryInvalidHostState = 8,
  UnsupportedVmcsComponent = 12,
  WriteToReadOnlyComponent = 13,
};

}  // namespace hvsim::vmx
