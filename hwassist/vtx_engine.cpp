#include "hwassist/vtx_engine.hpp"

#include "core/cpu/fault_address.hpp"
#include "core/mem/ept_paging.hpp"
#include "core/mem/shadow_paging.hpp"
#include "core/vm/native_hardware.hpp"
#include "core/vm/vm.hpp"
#include "hwassist/vm_entry.hpp"

namespace hvsim::vmx {
namespace {

// The SDM's numbering of general registers in exit qualifications (RAX = 0 ... R15 = 15).
unsigned gpr_number(ZydisRegister r) {
  ZydisRegister r64 = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  static const ZydisRegister order[] = {ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
                                        ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
                                        ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
                                        ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15};
  for (unsigned i = 0; i < 16; ++i)
    if (order[i] == r64) return i;
  return 0;
}

bool has_error_code(uint8_t vector) {
  return vector == vec::DF || (vector >= vec::TS && vector <= vec::PF) || vector == vec::AC;
}

}  // namespace

Result<std::unique_ptr<VtxEngine>> VtxEngine::create(Preset preset) {
  return std::unique_ptr<VtxEngine>(new VtxEngine(std::move(preset)));
}

Result<void> VtxEngine::enter(Vm& vm) {
  UnicornCpu& cpu = vm.cpu();
  if (preset_.paging != vm.config().paging) {
    return make_error(std::string("vtx preset ") + preset_.name + " needs " + paging_mode_name(preset_.paging) +
                      " paging, the VM has " + paging_mode_name(vm.config().paging));
  }
  if (auto* ept = dynamic_cast<EptPaging*>(&vm.mmu())) vmcs_.set(Field::EPT_POINTER, ept->tables().eptp());
  if (auto* shadow = dynamic_cast<ShadowPaging*>(&vm.mmu())) shadow->set_flood_limit(preset_.shadow_flood_limit);
  vmcs_.set(Field::GUEST_CR0, cpu.cr(0));
  vmcs_.set(Field::GUEST_CR3, cpu.cr(3));
  vmcs_.set(Field::GUEST_CR4, cpu.cr(4));
  vmcs_.set(Field::GUEST_RIP, cpu.rip());
  vmcs_.set(Field::GUEST_RSP, cpu.gpr(Gpr::Rsp));
  vmcs_.set(Field::GUEST_RFLAGS, cpu.rflags());
  vmcs_.set(Field::GUEST_IA32_EFER, cpu.msr(msr::IA32_EFER));
  vmcs_.set(Field::CR0_READ_SHADOW, cpu.cr(0));
  vmcs_.set(Field::CR4_READ_SHADOW, cpu.cr(4));
  if (auto failure = check_vm_entry(vmcs_, cpu.cr(0), cpu.cr(4), cpu.msr(msr::IA32_EFER))) {
    if (failure->error != InstructionError::None) {
      vmcs_.set_exit_info(Field::VM_INSTRUCTION_ERROR, static_cast<uint64_t>(failure->error));
      return make_error("VM entry failed (VM-instruction error " +
                        std::to_string(static_cast<unsigned>(failure->error)) + "): " + failure->rule);
    }
    vmcs_.set_exit_info(Field::VM_EXIT_REASON, failure->exit_reason);
    return make_error("VM entry failed (exit reason " + std::to_string(failure->exit_reason & 0xffff) +
                      ", invalid guest state): " + failure->rule);
  }
  ++counts_.entries;
  arm_preemption_timer(vm);
  return {};
}

// SDM 25.5.1: with the control set, the timer counts down from its VMCS value at the TSC rate
// divided by 2^kPreemptionTimerRate while the guest runs, and exits (reason 52) at zero. The
// handler (as KVM's) reloads it from the VMCS value.
void VtxEngine::arm_preemption_timer(Vm& vm) {
  if (!(vmcs_.pin() & pin::PREEMPTION_TIMER)) return;
  const uint64_t ticks = vmcs_.get(Field::VMX_PREEMPTION_TIMER_VALUE);
  const uint64_t deadline = vm.now_ns() + ((ticks ? ticks : 1) << kPreemptionTimerRate);
  vm.arm_timer(
      deadline,
      [this, &vm] {
        exit(vm, ExitReason::PreemptionTimer);
        arm_preemption_timer(vm);
      },
      [] { return TimerQueue::kRaisesNothing; });  // an exit, never a guest interrupt
}

TrapSet VtxEngine::trap_policy() const {
  TrapSet t = NativeHardware::trap_policy();
  const uint32_t p = vmcs_.proc(), p2 = vmcs_.proc2();
  // Instructions that exit unconditionally in VMX non-root operation (SDM 25.1.2).
  for (TrapKind k : {TrapKind::Cpuid, TrapKind::Vmcall, TrapKind::Invd, TrapKind::Xsetbv}) t.add(k);
  if (p & proc::INVLPG_EXITING) t.add(TrapKind::Invlpg);
  if ((p & (proc::CR3_LOAD_EXITING | proc::CR3_STORE_EXITING)) || vmcs_.get(Field::CR0_GUEST_HOST_MASK) ||
      vmcs_.get(Field::CR4_GUEST_HOST_MASK)) {
    t.add(TrapKind::MovToCr);
    t.add(TrapKind::MovFromCr);
  }
  if (p & proc::MOV_DR_EXITING) t.add(TrapKind::MovDr);
  if (p & proc::RDPMC_EXITING) t.add(TrapKind::Rdpmc);
  if (p & proc::PAUSE_EXITING) t.add(TrapKind::Pause);
  if (p & proc::MONITOR_EXITING) t.add(TrapKind::Monitor);
  if (p & proc::MWAIT_EXITING) t.add(TrapKind::Mwait);
  if (p & proc::RDTSC_EXITING) t.add(TrapKind::Rdtscp);
  if (p2 & proc2::WBINVD_EXITING) t.add(TrapKind::Wbinvd);
  if (p2 & proc2::DESCRIPTOR_TABLE_EXITING) {
    t.add(TrapKind::DescriptorTable);
    t.add(TrapKind::SystemSegment);
  }
  return t;
}

void VtxEngine::exit(Vm& vm, ExitReason reason, uint64_t qualification, unsigned instruction_length,
                     uint32_t interruption_info) {
  const auto number = static_cast<unsigned>(reason);
  ++counts_.by_reason[number];
  ++counts_.total;
  ++counts_.entries;  // the handler resumes the guest
  vmcs_.set_exit_info(Field::VM_EXIT_REASON, number);
  vmcs_.set_exit_info(Field::EXIT_QUALIFICATION, qualification);
  vmcs_.set_exit_info(Field::VM_EXIT_INSTRUCTION_LEN, instruction_length);
  vmcs_.set_exit_info(Field::VM_EXIT_INTR_INFO, interruption_info);
  vm.log("vm_exit", [&](LogRecord& r) {
    r.num("reason", number).str("name", exit_reason_name(number)).hex("qualification", qualification);
    if (instruction_length) r.num("instruction_length", instruction_length);
    if (interruption_info) r.hex("interruption_info", interruption_info);
  });
}

bool VtxEngine::io_exits(uint16_t port, unsigned size) const {
  const uint32_t p = vmcs_.proc();
  if (p & proc::USE_IO_BITMAPS) {  // takes precedence over unconditional I/O exiting (SDM 25.1.3)
    for (unsigned i = 0; i < size; ++i) {
      if (vmcs_.io_bitmap_exits(static_cast<uint16_t>(port + i))) return true;
    }
    return port + size > 0x10000;  // wrapping around the port space always exits
  }
  return p & proc::UNCONDITIONAL_IO_EXITING;
}

// MOV to or from CR0/CR3/CR4 (CR8 has its own trap kinds): SDM 25.1.3 and Table 28-3.
bool VtxEngine::cr_access(Vm& vm, const Instruction& insn, bool to_cr) {
  UnicornCpu& cpu = vm.cpu();
  if (cpu.cpl() != 0) return false;  // #GP has priority over the exit
  const auto& cr_op = insn.operands[to_cr ? 0 : 1];
  const auto& gpr_op = insn.operands[to_cr ? 1 : 0];
  if (cr_op.type != ZYDIS_OPERAND_TYPE_REGISTER || gpr_op.type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  const unsigned cr = static_cast<unsigned>(cr_op.reg.value - ZYDIS_REGISTER_CR0);
  const unsigned gpr = gpr_number(gpr_op.reg.value);
  const uint32_t p = vmcs_.proc();
  bool exits = false;
  if (to_cr) {
    const uint64_t value = register_value(cpu, gpr_op.reg.value, insn.next());
    if (cr == 0) exits = (value ^ vmcs_.get(Field::CR0_READ_SHADOW)) & vmcs_.get(Field::CR0_GUEST_HOST_MASK);
    if (cr == 4) exits = (value ^ vmcs_.get(Field::CR4_READ_SHADOW)) & vmcs_.get(Field::CR4_GUEST_HOST_MASK);
    if (cr == 3 && (p & proc::CR3_LOAD_EXITING)) {
      exits = true;
      const uint64_t targets = std::min<uint64_t>(vmcs_.get(Field::CR3_TARGET_COUNT), 4);
      for (uint64_t i = 0; i < targets; ++i) {
        if (vmcs_.get(static_cast<Field>(static_cast<uint32_t>(Field::CR3_TARGET_VALUE0) + 2 * i)) == value) exits = false;
      }
    }
    // The handler updates the guest's view, unless the value is one it answers with #GP
    // (the hardware model raises it after the exit, as KVM injects it).
    const bool accepted = !NativeHardware::cr_write_faults(vm, cr, value);
    if (exits && accepted && cr == 0) vmcs_.set(Field::CR0_READ_SHADOW, value);
    if (exits && accepted && cr == 4) vmcs_.set(Field::CR4_READ_SHADOW, value);
  } else {
    exits = cr == 3 && (p & proc::CR3_STORE_EXITING);
  }
  if (exits) exit(vm, ExitReason::CrAccess, cr | ((to_cr ? 0u : 1u) << 4) | (gpr << 8), insn.length());
  return exits;
}

bool VtxEngine::hypercall(Vm& vm, const Instruction& insn) {
  UnicornCpu& cpu = vm.cpu();
  exit(vm, ExitReason::Vmcall, 0, insn.length());
  uint64_t result = kHypercallUnknown;
  if (cpu.cpl() != 0) {
    result = static_cast<uint64_t>(-1);  // KVM's -KVM_EPERM: hypercalls are for the guest kernel
  } else if (cpu.gpr(Gpr::Rax) == static_cast<uint64_t>(Hypercall::Version)) {
    result = kHypercallVersion;
  } else if (cpu.gpr(Gpr::Rax) == static_cast<uint64_t>(Hypercall::Exits)) {
    result = exits(vm).total;
  }
  cpu.set_gpr(Gpr::Rax, result);
  cpu.set_rip(insn.next());
  cpu.add_retired(1);
  return true;
}

bool VtxEngine::trap(Vm& vm, const StopReason& stop, RunOutcome& out) {
  // An exit caused by the instruction itself; a TPR-below-threshold exit comes after a
  // CR8 write the hardware completed (the cost model prices the two differently).
  const auto tpr = static_cast<unsigned>(ExitReason::TprBelowThreshold);
  const uint64_t before = counts_.total - counts_.by_reason[tpr];
  const bool resume = handle_trap(vm, stop, out);
  if (counts_.total - counts_.by_reason[tpr] != before) ++counts_.exited_at_trap[static_cast<size_t>(stop.trap)];
  return resume;
}

bool VtxEngine::handle_trap(Vm& vm, const StopReason& stop, RunOutcome& out) {
  UnicornCpu& cpu = vm.cpu();
  const Instruction& insn = cpu.trap_instruction();
  const unsigned len = insn.length();
  const uint32_t p = vmcs_.proc(), p2 = vmcs_.proc2();
  const bool kernel = cpu.cpl() == 0;  // privilege faults have priority over exits (SDM 25.1.1)
  switch (stop.trap) {
    case TrapKind::Cpuid: exit(vm, ExitReason::Cpuid, 0, len); break;
    case TrapKind::Invd: if (kernel) exit(vm, ExitReason::Invd, 0, len); break;
    case TrapKind::Xsetbv:  // #UD (CR4.OSXSAVE clear) and #GP (CPL > 0) come before the exit
      if (kernel && (cpu.cr(4) & cr4::OSXSAVE)) exit(vm, ExitReason::Xsetbv, 0, len);
      break;
    case TrapKind::Vmcall: return hypercall(vm, insn);
    case TrapKind::Hlt: if (kernel && (p & proc::HLT_EXITING)) exit(vm, ExitReason::Hlt, 0, len); break;
    case TrapKind::Invlpg:
      if (kernel && (p & proc::INVLPG_EXITING)) {
        exit(vm, ExitReason::Invlpg, memory_operand_address(cpu, insn, insn.operands[0]), len);
      }
      break;
    case TrapKind::Rdpmc: if (p & proc::RDPMC_EXITING) exit(vm, ExitReason::Rdpmc, 0, len); break;
    case TrapKind::Rdtsc: if (p & proc::RDTSC_EXITING) exit(vm, ExitReason::Rdtsc, 0, len); break;
    case TrapKind::Rdtscp:
      if (!(p2 & proc2::ENABLE_RDTSCP)) {  // RDTSCP is #UD unless enabled (SDM 25.3)
        vm.raise_exception(vec::UD);
        return true;
      }
      if (p & proc::RDTSC_EXITING) exit(vm, ExitReason::Rdtscp, 0, len);
      break;
    case TrapKind::MovToCr: cr_access(vm, insn, true); break;
    case TrapKind::MovFromCr: cr_access(vm, insn, false); break;
    case TrapKind::MovToCr8:
    case TrapKind::MovFromCr8: {
      const bool load = stop.trap == TrapKind::MovToCr8;
      const uint32_t control = load ? proc::CR8_LOAD_EXITING : proc::CR8_STORE_EXITING;
      if (kernel && !(p & proc::USE_TPR_SHADOW) && (p & control)) {
        const auto& gpr_op = insn.operands[load ? 1 : 0];
        exit(vm, ExitReason::CrAccess, 8 | ((load ? 0u : 1u) << 4) | (gpr_number(gpr_op.reg.value) << 8), len);
      }
      if (kernel && load && (p & proc::USE_TPR_SHADOW)) {
        // With a TPR shadow the write goes to the virtual-APIC page; lowering the TPR below
        // the threshold is a trap-like exit after the instruction (SDM 29.1.2).
        const bool done = NativeHardware::execute(vm, stop, out);
        if (cpu.cr(8) < (vmcs_.get(Field::TPR_THRESHOLD) & 0xf)) {
          exit(vm, ExitReason::TprBelowThreshold);
          vmcs_.set(Field::TPR_THRESHOLD, 0);  // the handler injects what waited and clears it
        }
        return done;
      }
      break;
    }
    case TrapKind::MovDr:
      if (kernel && (p & proc::MOV_DR_EXITING)) {
        const bool to_dr = insn.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                           insn.operands[0].reg.value >= ZYDIS_REGISTER_DR0 && insn.operands[0].reg.value <= ZYDIS_REGISTER_DR15;
        const auto& dr = insn.operands[to_dr ? 0 : 1];
        const auto& gpr = insn.operands[to_dr ? 1 : 0];
        exit(vm, ExitReason::MovDr,
             static_cast<unsigned>(dr.reg.value - ZYDIS_REGISTER_DR0) | ((to_dr ? 0u : 1u) << 4) |
                 (gpr_number(gpr.reg.value) << 8),
             len);
      }
      break;
    case TrapKind::In:
    case TrapKind::Out:
    case TrapKind::Ins:
    case TrapKind::Outs: {
      const bool in = stop.trap == TrapKind::In || stop.trap == TrapKind::Ins;
      const bool string = stop.trap == TrapKind::Ins || stop.trap == TrapKind::Outs;
      unsigned size;
      bool immediate = false;
      uint16_t port;
      if (string) {
        size = insn.info.operand_width / 8;
        port = static_cast<uint16_t>(cpu.gpr(Gpr::Rdx));
      } else {
        const auto& acc = insn.operands[in ? 0 : 1];
        const auto& port_op = insn.operands[in ? 1 : 0];
        size = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, acc.reg.value) / 8;
        immediate = port_op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
        port = immediate ? static_cast<uint16_t>(port_op.imm.value.u) : static_cast<uint16_t>(cpu.gpr(Gpr::Rdx));
      }
      if (size == 0 || size > 4) size = 1;
      // Only an access the I/O privilege rules allow reaches the exit check (SDM 25.1.1);
      // from user mode the guest kernel grants no port, so it faults instead.
      if (cpu.cpl() <= rflags::iopl(cpu.rflags()) && io_exits(port, size)) {
        uint64_t q = (size - 1) | (in ? 1u << 3 : 0) | (string ? 1u << 4 : 0) | (insn.has_rep() ? 1u << 5 : 0) |
                     (immediate ? 1u << 6 : 0) | (static_cast<uint64_t>(port) << 16);
        exit(vm, ExitReason::IoInstruction, q, len);
      }
      break;
    }
    case TrapKind::Rdmsr:
    case TrapKind::Wrmsr: {
      const bool write = stop.trap == TrapKind::Wrmsr;
      const auto index = static_cast<uint32_t>(cpu.gpr(Gpr::Rcx));
      if (kernel && (!(p & proc::USE_MSR_BITMAPS) || vmcs_.msr_bitmap_exits(index, write))) {
        exit(vm, write ? ExitReason::Wrmsr : ExitReason::Rdmsr, 0, len);
      }
      break;
    }
    case TrapKind::Pause: if (p & proc::PAUSE_EXITING) exit(vm, ExitReason::Pause, 0, len); break;
    case TrapKind::Wbinvd: if (kernel && (p2 & proc2::WBINVD_EXITING)) exit(vm, ExitReason::Wbinvd, 0, len); break;
    case TrapKind::Monitor: if (kernel && (p & proc::MONITOR_EXITING)) exit(vm, ExitReason::Monitor, 0, len); break;
    case TrapKind::Mwait: if (kernel && (p & proc::MWAIT_EXITING)) exit(vm, ExitReason::Mwait, 0, len); break;
    case TrapKind::Rdrand: if (p2 & proc2::RDRAND_EXITING) exit(vm, ExitReason::Rdrand, 0, len); break;
    case TrapKind::Rdseed: if (p2 & proc2::RDSEED_EXITING) exit(vm, ExitReason::Rdseed, 0, len); break;
    case TrapKind::DescriptorTable:
      if (p2 & proc2::DESCRIPTOR_TABLE_EXITING) exit(vm, ExitReason::GdtrIdtrAccess, 0, len);
      break;
    case TrapKind::SystemSegment:
      if (p2 & proc2::DESCRIPTOR_TABLE_EXITING) exit(vm, ExitReason::LdtrTrAccess, 0, len);
      break;
    default: break;  // SYSCALL, INT n, ...: no exit in VMX non-root operation
  }
  // What the VMM's handler does after an exit, and what the processor does without one, is
  // the instruction's architectural effect: the hardware model provides it.
  return NativeHardware::execute(vm, stop, out);
}

void VtxEngine::exception_raised(Vm& vm, uint8_t vector, uint32_t error_code) {
  const uint64_t bitmap = vmcs_.get(Field::EXCEPTION_BITMAP);
  bool exits = bitmap & (1ull << vector);
  if (vector == vec::PF) {  // SDM 25.2: the error-code mask and match select which #PFs exit
    const bool match = (error_code & vmcs_.get(Field::PAGE_FAULT_ERROR_CODE_MASK)) ==
                       vmcs_.get(Field::PAGE_FAULT_ERROR_CODE_MATCH);
    exits = match ? exits : !exits;
  }
  if (!exits) return;
  uint32_t info = vector | intr_info::TYPE_HARDWARE_EXCEPTION | intr_info::VALID |
                  (has_error_code(vector) ? intr_info::ERROR_CODE_VALID : 0);
  vmcs_.set_exit_info(Field::VM_EXIT_INTR_ERROR_CODE, error_code);
  exit(vm, ExitReason::ExceptionOrNmi, vector == vec::PF ? vm.cpu().cr(2) : 0, 0, info);
  // The handler reflects it into the guest: VM-entry event injection (SDM 26.6).
  vmcs_.set(Field::VM_ENTRY_INTR_INFO_FIELD, info);
  vmcs_.set(Field::VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
  ++counts_.injections;
}

void VtxEngine::interrupt_raised(Vm& vm, uint8_t vector) {
  if (!(vmcs_.pin() & pin::EXTERNAL_INTERRUPT_EXITING)) return;
  exit(vm, ExitReason::ExternalInterrupt, 0, 0, vector | intr_info::TYPE_EXTERNAL | intr_info::VALID);
  // The VMM injects it at the next entry if the guest can take it; otherwise it asks for an
  // interrupt-window exit and injects then.
  UnicornCpu& cpu = vm.cpu();
  const bool masked_by_tpr = (vector >> 4) <= vm.task_priority_class();
  const bool interruptible = (cpu.rflags() & rflags::IF) && !cpu.interrupt_shadow() && !masked_by_tpr;
  if (masked_by_tpr && (vmcs_.proc() & proc::USE_TPR_SHADOW)) {
    // KVM's use of the threshold: be told when the guest lowers its TPR enough to take it.
    vmcs_.set(Field::TPR_THRESHOLD, std::max<uint64_t>(vmcs_.get(Field::TPR_THRESHOLD), vector >> 4));
  } else if (!interruptible) {
    window_armed_ = true;
  }
}

void VtxEngine::interrupt_delivered(Vm& vm, uint8_t vector) {
  if (window_armed_) {
    window_armed_ = false;
    exit(vm, ExitReason::InterruptWindow);
  }
  // Injected on VM entry (SDM 26.6): the entry's interruption-information field.
  vmcs_.set(Field::VM_ENTRY_INTR_INFO_FIELD, vector | intr_info::TYPE_EXTERNAL | intr_info::VALID);
  ++counts_.injections;
}

void VtxEngine::mmio_accessed(Vm& vm, uint64_t gpa, bool write) {
  if (vm.config().paging == PagingMode::Ept) {
    // Device windows are not in the EPT: every access is a violation the VMM emulates.
    vmcs_.set_exit_info(Field::GUEST_PHYSICAL_ADDRESS, gpa);
    exit(vm, ExitReason::EptViolation,
         (write ? ept::qual::WRITE : ept::qual::READ) | ept::qual::LINEAR_VALID | ept::qual::TRANSLATION);
  } else {
    // Shadow paging never maps a device page: every access is a page fault the VMM emulates.
    exit(vm, ExitReason::ExceptionOrNmi, 0, 0,
         vec::PF | intr_info::TYPE_HARDWARE_EXCEPTION | intr_info::VALID | intr_info::ERROR_CODE_VALID);
  }
}

void VtxEngine::triple_fault(Vm& vm) { exit(vm, ExitReason::TripleFault); }

ExitCounts VtxEngine::exits(Vm& vm) const {
  ExitCounts c = counts_;
  const MemCounters& m = vm.mmu().counters();
  uint64_t mmu_exits[kExitReasonSlots] = {};
  if (vm.config().paging == PagingMode::Shadow && (vmcs_.get(Field::EXCEPTION_BITMAP) & (1u << vec::PF))) {
    // Hidden page faults, traced page-table writes and accesses outside guest RAM are #PF
    // exits the VMM handles without the guest knowing.
    mmu_exits[static_cast<unsigned>(ExitReason::ExceptionOrNmi)] = m.hidden_faults + m.pt_write_traces + m.isolation_events;
  }
  if (vm.config().paging == PagingMode::Ept) {
    mmu_exits[static_cast<unsigned>(ExitReason::EptViolation)] = m.isolation_events;
    mmu_exits[static_cast<unsigned>(ExitReason::EptMisconfig)] = m.ept_misconfigs;
  }
  for (unsigned i = 0; i < kExitReasonSlots; ++i) {
    c.by_reason[i] += mmu_exits[i];
    c.total += mmu_exits[i];
    c.entries += mmu_exits[i];
  }
  return c;
}

}  // namespace hvsim::vmx
