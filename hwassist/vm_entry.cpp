#include "hwassist/vm_entry.hpp"

#include "core/cpu/cpu_types.hpp"
#include "hwassist/exit_reasons.hpp"

namespace hvsim::vmx {
namespace {

constexpr uint32_t kPinDefined = pin::kDefault1 | pin::EXTERNAL_INTERRUPT_EXITING | pin::NMI_EXITING |
                                 pin::VIRTUAL_NMIS | pin::PREEMPTION_TIMER | pin::POSTED_INTERRUPTS;
constexpr uint32_t kProcDefined =
    proc::kDefault1 | proc::INTERRUPT_WINDOW_EXITING | proc::USE_TSC_OFFSETTING | proc::HLT_EXITING |
    proc::INVLPG_EXITING | proc::MWAIT_EXITING | proc::RDPMC_EXITING | proc::RDTSC_EXITING | proc::CR3_LOAD_EXITING |
    proc::CR3_STORE_EXITING | proc::CR8_LOAD_EXITING | proc::CR8_STORE_EXITING | proc::USE_TPR_SHADOW |
    proc::NMI_WINDOW_EXITING | proc::MOV_DR_EXITING | proc::UNCONDITIONAL_IO_EXITING | proc::USE_IO_BITMAPS |
    proc::MONITOR_TRAP_FLAG | proc::USE_MSR_BITMAPS | proc::MONITOR_EXITING | proc::PAUSE_EXITING |
    proc::ACTIVATE_SECONDARY;
constexpr uint32_t kProc2Defined =
    proc2::VIRTUALIZE_APIC_ACCESSES | proc2::ENABLE_EPT | proc2::DESCRIPTOR_TABLE_EXITING | proc2::ENABLE_RDTSCP |
    proc2::VIRTUALIZE_X2APIC | proc2::ENABLE_VPID | proc2::WBINVD_EXITING | proc2::UNRESTRICTED_GUEST |
    proc2::APIC_REGISTER_VIRTUALIZATION | proc2::VIRTUAL_INTERRUPT_DELIVERY | proc2::PAUSE_LOOP_EXITING |
    proc2::RDRAND_EXITING | proc2::ENABLE_INVPCID | proc2::RDSEED_EXITING;
constexpr uint32_t kExitDefined = exit_ctl::kDefault1 | exit_ctl::HOST_ADDRESS_SPACE_SIZE |
                                  exit_ctl::ACK_INTERRUPT_ON_EXIT | exit_ctl::SAVE_PAT | exit_ctl::LOAD_PAT |
                                  exit_ctl::SAVE_EFER | exit_ctl::LOAD_EFER | exit_ctl::SAVE_PREEMPTION_TIMER;
constexpr uint32_t kEntryDefined =
    entry_ctl::kDefault1 | entry_ctl::IA32E_MODE_GUEST | entry_ctl::LOAD_PAT | entry_ctl::LOAD_EFER;

bool aligned_page(uint64_t a) { return (a & 0xfff) == 0 && a < (1ull << 40); }

// SDM 26.2.1.1: a control word must have its default-1 bits set and no bit the processor
// does not support.
bool control_word_ok(uint32_t value, uint32_t default1, uint32_t defined) {
  return (value & default1) == default1 && (value & ~defined) == 0;
}

EntryFailure controls(const std::string& rule) {
  return {InstructionError::VmentryInvalidControlFields, 0, rule};
}

}  // namespace

std::optional<EntryFailure> check_vm_entry(const Vmcs& v, uint64_t guest_cr0, uint64_t guest_cr4, uint64_t guest_efer) {
  const uint32_t pinc = v.pin(), procc = v.proc(), proc2c = v.proc2();
  // 26.2.1.1 VM-execution control fields
  if (!control_word_ok(pinc, pin::kDefault1, kPinDefined)) return controls("pin-based controls: reserved bits");
  if (!control_word_ok(procc, proc::kDefault1, kProcDefined)) {
    return controls("primary processor-based controls: reserved bits");
  }
  if ((procc & proc::ACTIVATE_SECONDARY) && !control_word_ok(proc2c, 0, kProc2Defined)) {
    return controls("secondary processor-based controls: reserved bits");
  }
  if (v.get(Field::CR3_TARGET_COUNT) > 4) return controls("CR3-target count greater than 4");
  if ((procc & proc::USE_IO_BITMAPS) &&
      (!aligned_page(v.get(Field::IO_BITMAP_A)) || !aligned_page(v.get(Field::IO_BITMAP_B)))) {
    return controls("I/O bitmap addresses must be 4-KByte aligned");
  }
  if ((procc & proc::USE_MSR_BITMAPS) && !aligned_page(v.get(Field::MSR_BITMAP))) {
    return controls("MSR bitmap address must be 4-KByte aligned");
  }
  if (procc & proc::USE_TPR_SHADOW) {
    if (!aligned_page(v.get(Field::VIRTUAL_APIC_PAGE_ADDR))) return controls("virtual-APIC address must be 4-KByte aligned");
    if (!(proc2c & proc2::VIRTUAL_INTERRUPT_DELIVERY) && (v.get(Field::TPR_THRESHOLD) & ~0xfull)) {
      return controls("TPR threshold bits 31:4 must be 0");
    }
  } else if (proc2c & (proc2::VIRTUALIZE_X2APIC | proc2::APIC_REGISTER_VIRTUALIZATION | proc2::VIRTUAL_INTERRUPT_DELIVERY)) {
    return controls("APIC virtualization needs the use-TPR-shadow control");
  }
  if (!(pinc & pin::NMI_EXITING) && (pinc & pin::VIRTUAL_NMIS)) return controls("virtual NMIs need NMI exiting");
  if (!(pinc & pin::VIRTUAL_NMIS) && (procc & proc::NMI_WINDOW_EXITING)) {
    return controls("NMI-window exiting needs virtual NMIs");
  }
  if ((proc2c & proc2::VIRTUALIZE_APIC_ACCESSES) && !aligned_page(v.get(Field::APIC_ACCESS_ADDR))) {
    return controls("APIC-access address must be 4-KByte aligned");
  }
  if ((proc2c & proc2::VIRTUALIZE_X2APIC) && (proc2c & proc2::VIRTUALIZE_APIC_ACCESSES)) {
    return controls("virtualize x2APIC mode and virtualize APIC accesses are exclusive");
  }
  if ((proc2c & proc2::VIRTUAL_INTERRUPT_DELIVERY) && !(pinc & pin::EXTERNAL_INTERRUPT_EXITING)) {
    return controls("virtual-interrupt delivery needs external-interrupt exiting");
  }
  if ((proc2c & proc2::ENABLE_VPID) && v.get(Field::VIRTUAL_PROCESSOR_ID) == 0) return controls("VPID must not be 0");
  if (proc2c & proc2::ENABLE_EPT) {
    uint64_t eptp = v.get(Field::EPT_POINTER);
    uint64_t type = eptp & 7, walk = (eptp >> 3) & 7;
    if (type != 0 && type != 6) return controls("EPTP memory type must be UC (0) or WB (6)");
    if (walk != 3) return controls("EPTP page-walk length must be 4 (encoded 3)");
    if ((eptp & 0xf80) || (eptp >> 40)) return controls("EPTP reserved bits must be 0");
  }
  if ((proc2c & proc2::UNRESTRICTED_GUEST) && !(proc2c & proc2::ENABLE_EPT)) {
    return controls("unrestricted guest needs enable EPT");
  }
  if ((pinc & pin::POSTED_INTERRUPTS) && !(proc2c & proc2::VIRTUAL_INTERRUPT_DELIVERY)) {
    return controls("posted interrupts need virtual-interrupt delivery");
  }
  // 26.2.1.2 / 26.2.1.3 VM-exit and VM-entry control fields
  const uint32_t exitc = static_cast<uint32_t>(v.get(Field::VM_EXIT_CONTROLS));
  const uint32_t entryc = static_cast<uint32_t>(v.get(Field::VM_ENTRY_CONTROLS));
  if (!control_word_ok(exitc, exit_ctl::kDefault1, kExitDefined)) return controls("VM-exit controls: reserved bits");
  if (!(pinc & pin::PREEMPTION_TIMER) && (exitc & exit_ctl::SAVE_PREEMPTION_TIMER)) {
    return controls("saving the preemption timer needs the timer");
  }
  if (!control_word_ok(entryc, entry_ctl::kDefault1, kEntryDefined)) return controls("VM-entry controls: reserved bits");
  if (entryc & entry_ctl::ENTRY_TO_SMM) return controls("entry to SMM outside SMM");
  // 26.2.2 host state: a 64-bit host
  if (!(exitc & exit_ctl::HOST_ADDRESS_SPACE_SIZE)) {
    return EntryFailure{InstructionError::VmentryInvalidHostState, 0, "host address-space size must be 1 on a 64-bit host"};
  }
  // 26.3.1.1 guest control registers and the IA-32e mode guest control
  const bool long_mode = guest_efer & efer::LMA;
  if (long_mode != ((entryc & entry_ctl::IA32E_MODE_GUEST) != 0)) {
    return EntryFailure{InstructionError::None, static_cast<uint32_t>(ExitReason::EntryFailGuestState) | (1u << 31),
                        "IA-32e mode guest must match the guest's IA32_EFER.LMA"};
  }
  if ((entryc & entry_ctl::IA32E_MODE_GUEST) && (!(guest_cr0 & cr0::PG) || !(guest_cr4 & cr4::PAE))) {
    return EntryFailure{InstructionError::None, static_cast<uint32_t>(ExitReason::EntryFailGuestState) | (1u << 31),
                        "an IA-32e mode guest needs CR0.PG and CR4.PAE"};
  }
  return std::nullopt;
}

}  // namespace hvsim::vmx
