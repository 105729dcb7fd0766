#include "hwassist/presets.hpp"

#include "core/cpu/cpu_types.hpp"

namespace hvsim::vmx {
namespace {

constexpr uint64_t kIoBitmapA = 0x1000, kIoBitmapB = 0x2000, kMsrBitmap = 0x3000, kVirtualApic = 0x4000;

Vmcs common() {
  Vmcs v;
  v.set(Field::VM_EXIT_CONTROLS, exit_ctl::kDefault1 | exit_ctl::HOST_ADDRESS_SPACE_SIZE | exit_ctl::ACK_INTERRUPT_ON_EXIT |
                                     exit_ctl::SAVE_EFER | exit_ctl::LOAD_EFER);
  v.set(Field::VM_ENTRY_CONTROLS, entry_ctl::kDefault1 | entry_ctl::IA32E_MODE_GUEST | entry_ctl::LOAD_EFER);
  v.set(Field::HOST_CR0, cr0::PE | cr0::PG | cr0::NE | cr0::WP);
  v.set(Field::HOST_CR4, cr4::PAE | cr4::VMXE);
  v.set(Field::IO_BITMAP_A, kIoBitmapA);
  v.set(Field::IO_BITMAP_B, kIoBitmapB);
  v.set(Field::MSR_BITMAP, kMsrBitmap);
  for (uint32_t port = 0; port <= 0xffff; ++port) v.set_io_exiting(static_cast<uint16_t>(port), true);
  for (uint32_t msr = 0; msr <= 0x1fff; ++msr) v.set_msr_exiting(msr, true, true);
  for (uint32_t msr = 0xc0000000; msr <= 0xc0001fff; ++msr) v.set_msr_exiting(msr, true, true);
  return v;
}

Preset vtx_2006() {
  Vmcs v = common();
  v.set(Field::PIN_BASED_VM_EXEC_CONTROL, pin::kDefault1 | pin::EXTERNAL_INTERRUPT_EXITING | pin::NMI_EXITING);
  v.set(Field::CPU_BASED_VM_EXEC_CONTROL, proc::kDefault1 | proc::USE_TSC_OFFSETTING | proc::HLT_EXITING |
                                              proc::INVLPG_EXITING | proc::MWAIT_EXITING | proc::CR3_LOAD_EXITING |
                                              proc::CR3_STORE_EXITING | proc::CR8_LOAD_EXITING |
                                              proc::CR8_STORE_EXITING | proc::MOV_DR_EXITING |
                                              proc::UNCONDITIONAL_IO_EXITING | proc::MONITOR_EXITING);
  v.set(Field::EXCEPTION_BITMAP, 1u << vec::PF);  // shadow paging sees every page fault
  v.set(Field::PAGE_FAULT_ERROR_CODE_MASK, 0);
  v.set(Field::PAGE_FAULT_ERROR_CODE_MATCH, 0);
  // The VMM owns the paging-related bits of CR0 and CR4: changing them exits.
  v.set(Field::CR0_GUEST_HOST_MASK, cr0::PE | cr0::PG | cr0::WP | cr0::CD | cr0::NW);
  v.set(Field::CR4_GUEST_HOST_MASK, cr4::PAE | cr4::PSE | cr4::PGE | cr4::VMXE | cr4::SMEP | cr4::SMAP);
  return {"vtx-2006", "first-generation VT-x (Adams & Agesen 2006): shadow paging, no TPR shadow",
          PagingMode::Shadow, v, 0};
}

Preset vtx_ept() {
  Vmcs v = common();
  v.set(Field::PIN_BASED_VM_EXEC_CONTROL,
        pin::kDefault1 | pin::EXTERNAL_INTERRUPT_EXITING | pin::NMI_EXITING | pin::VIRTUAL_NMIS);
  v.set(Field::CPU_BASED_VM_EXEC_CONTROL, proc::kDefault1 | proc::USE_TSC_OFFSETTING | proc::HLT_EXITING |
                                              proc::MWAIT_EXITING | proc::USE_TPR_SHADOW |
                                              proc::UNCONDITIONAL_IO_EXITING | proc::USE_MSR_BITMAPS |
                                              proc::MONITOR_EXITING | proc::ACTIVATE_SECONDARY);
  v.set(Field::SECONDARY_VM_EXEC_CONTROL, proc2::ENABLE_EPT | proc2::ENABLE_RDTSCP | proc2::ENABLE_VPID |
                                              proc2::UNRESTRICTED_GUEST | proc2::WBINVD_EXITING |
                                              proc2::PAUSE_LOOP_EXITING);
  v.set(Field::VIRTUAL_PROCESSOR_ID, 1);
  v.set(Field::VIRTUAL_APIC_PAGE_ADDR, kVirtualApic);
  v.set(Field::TPR_THRESHOLD, 0);
  v.set(Field::EPT_POINTER, 0);  // filled in from the VM's EPT tables when the engine attaches
  v.set(Field::EXCEPTION_BITMAP, (1u << vec::AC) | (1u << vec::MC));
  v.set(Field::CR0_GUEST_HOST_MASK, cr0::CD | cr0::NW);
  v.set(Field::CR4_GUEST_HOST_MASK, cr4::VMXE);
  // The MSRs a 64-bit kernel uses on every context switch or system call go straight through.
  for (uint32_t msr : {msr::IA32_FS_BASE, msr::IA32_GS_BASE, msr::IA32_KERNEL_GS_BASE, msr::IA32_SYSENTER_CS,
                       msr::IA32_SYSENTER_ESP, msr::IA32_SYSENTER_EIP, msr::IA32_TSC_AUX}) {
    v.set_msr_exiting(msr, false, false);
  }
  return {"vtx-ept", "VT-x with EPT, VPID and TPR shadow, configured as KVM does", PagingMode::Ept, v};
}

}  // namespace

std::optional<Preset> preset(std::string_view name) {
  if (name == "vtx-2006") return vtx_2006();
  if (name == "vtx-ept") return vtx_ept();
  return std::nullopt;
}

void use_paging(Preset& p, PagingMode paging) {
  if (paging == p.paging || paging == PagingMode::Native) return;
  Vmcs& v = p.vmcs;
  uint64_t procc = v.get(Field::CPU_BASED_VM_EXEC_CONTROL);
  uint64_t proc2c = v.get(Field::SECONDARY_VM_EXEC_CONTROL);
  if (paging == PagingMode::Shadow) {
    proc2c &= ~static_cast<uint64_t>(proc2::ENABLE_EPT | proc2::UNRESTRICTED_GUEST);
    procc |= proc::CR3_LOAD_EXITING | proc::CR3_STORE_EXITING | proc::INVLPG_EXITING;
    v.set(Field::EXCEPTION_BITMAP, v.get(Field::EXCEPTION_BITMAP) | (1u << vec::PF));
  } else {
    procc |= proc::ACTIVATE_SECONDARY;
    procc &= ~static_cast<uint64_t>(proc::CR3_LOAD_EXITING | proc::CR3_STORE_EXITING | proc::INVLPG_EXITING);
    proc2c |= proc2::ENABLE_EPT;
    v.set(Field::EXCEPTION_BITMAP, v.get(Field::EXCEPTION_BITMAP) & ~(1ull << vec::PF));
  }
  v.set(Field::CPU_BASED_VM_EXEC_CONTROL, procc);
  v.set(Field::SECONDARY_VM_EXEC_CONTROL, proc2c);
  p.paging = paging;
  p.name += std::string("+") + paging_mode_name(paging);
}

std::vector<std::string> preset_names() { return {"vtx-2006", "vtx-ept"}; }

}  // namespace hvsim::vmx
