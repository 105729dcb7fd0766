#include "core/vm/native_hardware.hpp"

#include "core/cpu/fault_address.hpp"
#include "core/mem/page_walker.hpp"

namespace hvsim {
namespace {

// MSRs the substrate implements faithfully; anything else is ours to answer or #GP.
bool substrate_msr(uint32_t index) {
  switch (index) {
    case msr::IA32_EFER: case msr::IA32_STAR: case msr::IA32_LSTAR: case msr::IA32_CSTAR:
    case msr::IA32_FMASK: case msr::IA32_FS_BASE: case msr::IA32_GS_BASE:
    case msr::IA32_KERNEL_GS_BASE: case msr::IA32_TSC_AUX: case msr::IA32_PAT:
    case msr::IA32_SYSENTER_CS: case msr::IA32_SYSENTER_ESP: case msr::IA32_SYSENTER_EIP:
      return true;
    default:
      return false;
  }
}
bool msr_needs_canonical(uint32_t index) {
  return index == msr::IA32_LSTAR || index == msr::IA32_CSTAR || index == msr::IA32_FS_BASE ||
         index == msr::IA32_GS_BASE || index == msr::IA32_KERNEL_GS_BASE ||
         index == msr::IA32_SYSENTER_ESP || index == msr::IA32_SYSENTER_EIP;
}
constexpr uint64_t kApicBaseDefault = 0xfee00000ull | (1u << 11) | (1u << 8);  // enabled, BSP

// CR4 bits a MOV to CR4 may set: the features the CPUID of Unicorn's default CPU model
// reports (TSC, DE, PSE, PAE, MCE, PGE, FXSR, SSE; PCE needs none), and SMEP, which hvsim's
// MMU enforces and Unicorn keeps although that CPUID does not report it. Every other bit is
// reserved or belongs to a feature this CPU lacks (VME, UMIP, LA57, VMX, SMX, FSGSBASE,
// PCID, XSAVE, SMAP, PKE, ...): setting it is #GP(0) (SDM Vol. 3A 2.5; KVM decides from the
// guest's CPUID the same way). Unicorn itself keeps some of them and drops others silently.
constexpr uint64_t kCr4Writable = cr4::TSD | cr4::DE | cr4::PSE | cr4::PAE | cr4::MCE | cr4::PGE | cr4::PCE |
                                  cr4::OSFXSR | cr4::OSXMMEXCPT | cr4::SMEP;

void write_register(UnicornCpu& cpu, ZydisRegister reg, uint64_t value) {
  ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  if (full < ZYDIS_REGISTER_RAX || full > ZYDIS_REGISTER_R15) return;
  auto g = static_cast<Gpr>(full - ZYDIS_REGISTER_RAX);
  uint64_t old = cpu.gpr(g);
  switch (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
    case 8:
      if (reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH) {
        cpu.set_gpr(g, (old & ~0xff00ull) | ((value & 0xff) << 8));
      } else {
        cpu.set_gpr(g, (old & ~0xffull) | (value & 0xff));
      }
      break;
    case 16: cpu.set_gpr(g, (old & ~0xffffull) | (value & 0xffff)); break;
    case 32: cpu.set_gpr(g, value & 0xffffffff); break;  // 32-bit writes zero-extend
    default: cpu.set_gpr(g, value); break;
  }
}

void set_edx_eax(UnicornCpu& cpu, uint64_t v) {
  cpu.set_gpr(Gpr::Rax, v & 0xffffffff);
  cpu.set_gpr(Gpr::Rdx, v >> 32);
}

struct Emulation {
  Vm& vm;
  UnicornCpu& cpu;
  const Instruction& insn;

  bool complete() {
    cpu.set_rip(insn.next());
    cpu.add_retired(1);
    return true;
  }
  bool gp0() {
    vm.raise_exception(vec::GP, 0);
    return true;
  }

  // INVLPG m (trapped under shadow paging): the VMM drops its shadow entry for the page; the
  // CPU's TLB has no per-page flush here, so all of it goes.
  bool invlpg() {
    if (cpu.cpl() != 0) return gp0();
    const ZydisDecodedOperand& op = insn.operands[0];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) return ud();
    vm.mmu().invlpg(memory_operand_address(cpu, insn, op));
    cpu.flush_tlb();
    return complete();
  }
  bool ud() {
    vm.raise_exception(vec::UD);
    return true;
  }

  // SDM 19.5.2: CPL <= IOPL, else every bit for the ports in the TSS I/O bitmap must be 0.
  bool io_allowed(uint16_t port, unsigned size) {
    if (cpu.cpl() <= rflags::iopl(cpu.rflags())) return true;
    auto tr = cpu.tr();
    if (tr.limit < 0x67) return false;
    uint16_t base = 0;
    if (vm.linear().load(tr.base + 0x66, base, 0)) return false;
    uint32_t byte = base + port / 8;
    if (byte + 1 > tr.limit) return false;
    uint16_t bits = 0;
    if (vm.linear().load(tr.base + byte, bits, 0)) return false;
    uint16_t mask = static_cast<uint16_t>(((1u << size) - 1) << (port % 8));
    return (bits & mask) == 0;
  }

  uint32_t port_read(uint16_t port, unsigned size) {
    if (!vm.port_io()) return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    return vm.port_io()->port_read(port, size);
  }
  void port_write(uint16_t port, unsigned size, uint32_t v) {
    if (vm.port_io()) vm.port_io()->port_write(port, size, v);
  }

  bool in_out(bool is_in) {
    // IN acc, imm8 | IN acc, DX | OUT imm8, acc | OUT DX, acc
    const auto& acc = insn.operands[is_in ? 0 : 1];
    const auto& port_op = insn.operands[is_in ? 1 : 0];
    unsigned size = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, acc.reg.value) / 8;
    uint16_t port = port_op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE
                        ? static_cast<uint16_t>(port_op.imm.value.u)
                        : static_cast<uint16_t>(cpu.gpr(Gpr::Rdx));
    if (!io_allowed(port, size)) return gp0();
    ++vm.mutable_counters().port_io;
    if (is_in) {
      write_register(cpu, acc.reg.value, port_read(port, size));
    } else {
      uint64_t v = cpu.gpr(Gpr::Rax);
      port_write(port, size, static_cast<uint32_t>(v & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1)));
    }
    return complete();
  }

  // INS/OUTS, with REP: registers advance per element, so a fault mid-way leaves an exact state;
  // long strings are done in slices (the instruction restarts, as on hardware after an interrupt).
  bool string_io(bool is_in) {
    unsigned size = insn.info.operand_width / 8;
    if (size == 0 || size > 4) size = 1;
    uint16_t port = static_cast<uint16_t>(cpu.gpr(Gpr::Rdx));
    if (!io_allowed(port, size)) return gp0();
    const bool rep = insn.has_rep();
    const bool addr32 = insn.info.address_width == 32;
    const uint64_t mask = addr32 ? 0xffffffffull : ~0ull;
    const int64_t step = (cpu.rflags() & rflags::DF) ? -static_cast<int64_t>(size) : size;
    uint64_t count = rep ? (cpu.gpr(Gpr::Rcx) & mask) : 1;
    uint64_t seg_base = 0;
    for (unsigned i = 0; i < insn.info.operand_count; ++i) {
      const auto& op = insn.operands[i];
      if (!is_in && op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
        if (op.mem.segment == ZYDIS_REGISTER_FS) seg_base = cpu.segment(Seg::Fs).base;
        if (op.mem.segment == ZYDIS_REGISTER_GS) seg_base = cpu.segment(Seg::Gs).base;
      }
    }
    constexpr uint64_t kSlice = 4096;
    uint64_t done = 0;
    while (count > 0 && done < kSlice) {
      ++vm.mutable_counters().port_io;
      Gpr idx = is_in ? Gpr::Rdi : Gpr::Rsi;
      uint64_t addr = cpu.gpr(idx) & mask;
      if (is_in) {
        uint32_t v = port_read(port, size);
        if (auto f = vm.linear().write(addr, &v, size, cpu.cpl())) return fault(*f);
      } else {
        uint32_t v = 0;
        if (auto f = vm.linear().read(seg_base + addr, &v, size, cpu.cpl())) return fault(*f);
        port_write(port, size, v);
      }
      cpu.set_gpr(idx, (addr + step) & mask);
      --count;
      ++done;
      if (rep) cpu.set_gpr(Gpr::Rcx, count);
    }
    if (count > 0) return true;  // not finished: execute it again
    return complete();
  }

  bool fault(const GuestFault& f) {
    if (f.vector == vec::PF) cpu.set_cr(2, f.cr2);
    vm.raise_exception(f.vector, f.error_code);
    return true;
  }

  bool rdmsr() {
    if (cpu.cpl() != 0) return gp0();
    auto index = static_cast<uint32_t>(cpu.gpr(Gpr::Rcx));
    uint64_t v;
    if (index == msr::IA32_TSC) {
      v = vm.tsc();
    } else if (index == msr::IA32_APIC_BASE) {
      v = kApicBaseDefault;
    } else if (substrate_msr(index)) {
      v = cpu.msr(index);
    } else {
      return gp0();
    }
    set_edx_eax(cpu, v);
    return complete();
  }

  bool wrmsr() {
    if (cpu.cpl() != 0) return gp0();
    auto index = static_cast<uint32_t>(cpu.gpr(Gpr::Rcx));
    uint64_t v = (cpu.gpr(Gpr::Rdx) << 32) | (cpu.gpr(Gpr::Rax) & 0xffffffff);
    if (index == msr::IA32_TSC) {
      vm.set_tsc(v);
      return complete();
    }
    if (index == msr::IA32_APIC_BASE) {
      if (v != kApicBaseDefault) return gp0();  // relocating or disabling the APIC: not modelled
      return complete();
    }
    if (!substrate_msr(index)) return gp0();
    if (msr_needs_canonical(index) && !is_canonical(v)) return gp0();
    if (index == msr::IA32_EFER) {
      uint64_t old = cpu.msr(index);
      if (v & ~(efer::SCE | efer::LME | efer::LMA | efer::NXE)) return gp0();
      if ((v ^ old) & efer::LME) return gp0();  // paging is on: LME cannot change
      v = (v & ~efer::LMA) | (old & efer::LMA);
      cpu.set_msr(index, v);
      vm.linear().invalidate_control();
      if ((v ^ old) & efer::NXE) cpu.flush_tlb();  // permissions of cached translations changed
      return complete();
    }
    cpu.set_msr(index, v);
    return complete();
  }

  bool syscall() {
    uint64_t efer_v = cpu.msr(msr::IA32_EFER);
    if (!(efer_v & efer::SCE)) return ud();
    ++vm.mutable_counters().syscalls;
    uint64_t star = cpu.msr(msr::IA32_STAR);
    uint64_t flags = cpu.rflags();
    cpu.set_gpr(Gpr::Rcx, insn.next());
    cpu.set_gpr(Gpr::R11, flags & ~rflags::RF);
    auto sel = static_cast<uint16_t>((star >> 32) & 0xfffc);
    SegmentState cs{sel, 0, 0xffffffff, 0x00a09b00};  // 64-bit code, DPL 0, accessed
    SegmentState ss{static_cast<uint16_t>(sel + 8), 0, 0xffffffff, 0x00c09300};
    cpu.set_segment(Seg::Cs, cs);
    cpu.set_segment(Seg::Ss, ss);
    cpu.set_rflags(flags & ~cpu.msr(msr::IA32_FMASK) & ~rflags::RF);
    cpu.set_rip(cpu.msr(msr::IA32_LSTAR));
    cpu.add_retired(1);
    return true;
  }

  bool software_interrupt(uint8_t vector, EventType type) {
    cpu.add_retired(1);
    vm.log("software_interrupt", [&](LogRecord& r) { r.num("vector", vector); });
    Event ev;
    ev.vector = vector;
    ev.type = type;
    ev.return_rip = insn.next();
    ev.instruction_rip = insn.address;
    vm.deliver(ev);
    return true;
  }

  bool mov_cr8(bool to_cr8) {
    if (cpu.cpl() != 0) return gp0();
    const auto& reg = insn.operands[to_cr8 ? 1 : 0].reg.value;
    if (to_cr8) {
      uint64_t v = register_value(cpu, reg, insn.next());
      if (v & ~0xfull) return gp0();
      cpu.set_cr(8, v);
    } else {
      write_register(cpu, reg, cpu.cr(8));
    }
    return complete();
  }

  bool random(ZydisRegister reg) {
    write_register(cpu, reg, vm.next_random());
    uint64_t f = cpu.rflags() & ~(rflags::OF | rflags::SF | rflags::ZF | rflags::AF | rflags::PF);
    cpu.set_rflags(f | rflags::CF);
    return complete();
  }

  bool rdtsc(bool with_aux) {
    if ((cpu.cr(4) & cr4::TSD) && cpu.cpl() != 0) return gp0();
    set_edx_eax(cpu, vm.tsc());
    if (with_aux) cpu.set_gpr(Gpr::Rcx, cpu.msr(msr::IA32_TSC_AUX) & 0xffffffff);
    return complete();
  }

  bool hlt() {
    if (cpu.cpl() != 0) return gp0();
    complete();
    vm.halt();
    return true;
  }
};

}  // namespace

TrapSet NativeEngine::trap_policy() const { return NativeHardware::trap_policy(); }
bool NativeEngine::trap(Vm& vm, const StopReason& stop, RunOutcome& out) { return NativeHardware::execute(vm, stop, out); }

TrapSet NativeHardware::trap_policy() {
  return TrapSet{TrapKind::Rdtsc,   TrapKind::Rdtscp,   TrapKind::Rdmsr,     TrapKind::Wrmsr,
                 TrapKind::In,      TrapKind::Out,      TrapKind::Ins,       TrapKind::Outs,
                 TrapKind::Syscall, TrapKind::Hlt,      TrapKind::IntN,      TrapKind::Int3,
                 TrapKind::Int1,    TrapKind::MovToCr,  TrapKind::MovToCr8, TrapKind::MovFromCr8,
                 TrapKind::Rdrand,  TrapKind::Rdseed};
}

// SDM Vol. 2B, MOV to/from Control Registers, and Vol. 3A 2.5: the #GP(0) conditions of a
// write at CPL 0 (CR8's are MOV to CR8's own, in the emulation above).
bool NativeHardware::cr_write_faults(Vm& vm, unsigned cr, uint64_t value) {
  UnicornCpu& cpu = vm.cpu();
  const bool ia32e = cpu.msr(msr::IA32_EFER) & efer::LMA;
  const bool mode64 = ia32e && cpu.segment(Seg::Cs).long_mode();
  switch (cr) {
    case 0:
      if (value >> 32) return true;                                   // bits 63:32 reserved
      if ((value & cr0::PG) && !(value & cr0::PE)) return true;       // invalid combinations
      if ((value & cr0::NW) && !(value & cr0::CD)) return true;
      return mode64 && !(value & cr0::PG);                            // 64-bit mode keeps paging
    case 3:
      // IA-32e paging without PCIDE: bits 63:MAXPHYADDR are reserved.
      return ia32e && (value >> kMaxPhysAddrBits) != 0;
    case 4:
      if (value & ~kCr4Writable) return true;
      return ia32e && !(value & cr4::PAE);                            // leaving IA-32e mode
    default:
      return false;  // CR2 takes any value; the CPU raises #UD for CR1, CR5-CR7, CR9-CR15
  }
}

bool NativeHardware::fault_before_cpu(Vm& vm, TrapKind kind, const Instruction& insn) {
  if (kind == TrapKind::Invlpg) {
    // Not a fault, but too little done: the CPU's INVLPG drops 4 KiB of a large page.
    const ZydisDecodedOperand& op = insn.operands[0];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && vm.cpu().cpl() == 0) {
      vm.cpu().prepare_invlpg(memory_operand_address(vm.cpu(), insn, op));
    }
    return false;
  }
  if (kind != TrapKind::MovToCr) return false;
  UnicornCpu& cpu = vm.cpu();
  const auto& cr_op = insn.operands[0];
  const auto& src = insn.operands[1];
  if (cr_op.type != ZYDIS_OPERAND_TYPE_REGISTER || src.type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  if (cpu.cpl() != 0) {
    vm.raise_exception(vec::GP, 0);
    return true;
  }
  const auto cr = static_cast<unsigned>(cr_op.reg.value - ZYDIS_REGISTER_CR0);
  if (!cr_write_faults(vm, cr, register_value(cpu, src.reg.value, insn.next()))) return false;
  vm.raise_exception(vec::GP, 0);
  return true;
}

bool NativeHardware::execute(Vm& vm, const StopReason& stop, RunOutcome& out) {
  return execute_instruction(vm, stop.trap, vm.cpu().trap_instruction(), out);
}

bool NativeHardware::emulates(TrapKind kind) {
  switch (kind) {
    case TrapKind::Rdtsc: case TrapKind::Rdtscp: case TrapKind::Rdmsr: case TrapKind::Wrmsr:
    case TrapKind::In: case TrapKind::Out: case TrapKind::Ins: case TrapKind::Outs:
    case TrapKind::Syscall: case TrapKind::Hlt: case TrapKind::IntN: case TrapKind::Int3:
    case TrapKind::Int1: case TrapKind::Invlpg: case TrapKind::MovToCr8: case TrapKind::MovFromCr8:
    case TrapKind::Rdrand: case TrapKind::Rdseed:
      return true;
    default:
      return false;
  }
}

bool NativeHardware::execute_instruction(Vm& vm, TrapKind kind, const Instruction& instruction, RunOutcome&) {
  UnicornCpu& cpu = vm.cpu();
  const Instruction* insn = &instruction;
  ++vm.mutable_counters().instructions_emulated;
  Emulation e{vm, cpu, *insn};
  switch (kind) {
    case TrapKind::Rdtsc: return e.rdtsc(false);
    case TrapKind::Rdtscp: return e.rdtsc(true);
    case TrapKind::Rdmsr: return e.rdmsr();
    case TrapKind::Wrmsr: return e.wrmsr();
    case TrapKind::In: return e.in_out(true);
    case TrapKind::Out: return e.in_out(false);
    case TrapKind::Ins: return e.string_io(true);
    case TrapKind::Outs: return e.string_io(false);
    case TrapKind::Syscall: return e.syscall();
    case TrapKind::Hlt: return e.hlt();
    case TrapKind::IntN:
      return e.software_interrupt(static_cast<uint8_t>(insn->operands[0].imm.value.u), EventType::SoftwareInterrupt);
    case TrapKind::Int3: return e.software_interrupt(vec::BP, EventType::SoftwareException);
    case TrapKind::Int1: return e.software_interrupt(vec::DB, EventType::PrivilegedSoftware);
    case TrapKind::Invlpg: return e.invlpg();
    case TrapKind::MovToCr8: return e.mov_cr8(true);
    case TrapKind::MovFromCr8: return e.mov_cr8(false);
    case TrapKind::Rdrand:
    case TrapKind::Rdseed: return e.random(insn->operands[0].reg.value);
    default:
      --vm.mutable_counters().instructions_emulated;
      if (fault_before_cpu(vm, kind, *insn)) return true;
      cpu.pass_trap_once();  // not ours to emulate: the CPU executes it
      return true;
  }
}

}  // namespace hvsim
