// The bt differential generator's kinds that touch system state (the menu of kinds is in
// bt_diff_menu.cpp): MSRs, FS/GS bases, control and debug registers, descriptor tables,
// system and segment registers, caches and TLBs, port I/O, far transfers, user mode.
#include "bt_diff_generator.hpp"

#include "core/cpu/cpu_types.hpp"  // msr::

namespace hvsim::fuzz::bt_diff {

void Gen::kind_msr(Snippet& s) {
  if (r_.chance(50)) {
    const uint32_t m = r_.pick<uint32_t>({msr::IA32_TSC, msr::IA32_APIC_BASE, msr::IA32_SYSENTER_CS, msr::IA32_SYSENTER_ESP,
                                          msr::IA32_SYSENTER_EIP, msr::IA32_PAT, msr::IA32_EFER, msr::IA32_STAR,
                                          msr::IA32_LSTAR, msr::IA32_CSTAR, msr::IA32_FMASK, msr::IA32_FS_BASE,
                                          msr::IA32_GS_BASE, msr::IA32_KERNEL_GS_BASE, msr::IA32_TSC_AUX});
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(static_cast<int32_t>(m))});
    emit(s, ZYDIS_MNEMONIC_RDMSR, {});
  } else {
    const uint32_t m = r_.pick<uint32_t>({msr::IA32_TSC, msr::IA32_SYSENTER_CS, msr::IA32_SYSENTER_ESP, msr::IA32_SYSENTER_EIP,
                                          msr::IA32_STAR, msr::IA32_LSTAR, msr::IA32_CSTAR, msr::IA32_FMASK,
                                          msr::IA32_KERNEL_GS_BASE, msr::IA32_TSC_AUX});
    uint64_t v = r_.next();
    if (m == msr::IA32_TSC_AUX) v &= 0xffffffff;
    else if (m != msr::IA32_TSC && m != msr::IA32_STAR && m != msr::IA32_FMASK && m != msr::IA32_SYSENTER_CS) v &= 0x00007fffffffffffull;  // canonical
    else if (m == msr::IA32_TSC) v &= 0xffffffffffull;
    else if (m == msr::IA32_FMASK) v &= 0xffffffff;
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(static_cast<int32_t>(m))});
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(static_cast<int32_t>(v & 0xffffffff))});
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EDX), imm_op(static_cast<int32_t>(v >> 32))});
    emit(s, ZYDIS_MNEMONIC_WRMSR, {});
    if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_RDMSR, {});
  }
}

void Gen::kind_fsgs(Snippet& s) {
  // FS/GS base = somewhere in scratch, then FS:/GS: accesses with absolute displacements
  auto set_base = [&](uint32_t which, uint64_t base) {
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(static_cast<int32_t>(which))});
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(static_cast<int32_t>(base))});
    emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(ZYDIS_REGISTER_EDX), reg_op(ZYDIS_REGISTER_EDX)});
    emit(s, ZYDIS_MNEMONIC_WRMSR, {});
  };
  switch (r_.below(4)) {
    case 0: {
      const bool fs = r_.chance(50);
      set_base(fs ? msr::IA32_FS_BASE : msr::IA32_GS_BASE, kScratch + r_.below(0x1000));
      // FS:/GS:[disp32], disp in [0, 0xff0): base + disp stays in scratch
      for (int64_t n = r_.range(1, 3); n > 0; --n) {
        const int sz = size();
        auto m = mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, r_.range(0, 0xff0), static_cast<uint16_t>(sz));
        const ZydisInstructionAttributes seg = fs ? ZYDIS_ATTRIB_HAS_SEGMENT_FS : ZYDIS_ATTRIB_HAS_SEGMENT_GS;
        switch (r_.below(3)) {
          case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(kTop), sz)), m}, seg); break;
          case 1: emit(s, ZYDIS_MNEMONIC_MOV, {m, reg_op(gpr(any_reg(), sz))}, seg); break;
          default: emit(s, kAlu[r_.below(kAlu.size())], {m, imm_op(imm(sz))}, seg);
        }
      }
      break;
    }
    case 1:  // KERNEL_GS_BASE = scratch, SWAPGS, GS: accesses, SWAPGS
      set_base(msr::IA32_KERNEL_GS_BASE, kScratch + r_.below(0x1000));
      emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
      {
        for (int64_t n = r_.range(1, 3); n > 0; --n) {
          const int sz = size();
          auto m = mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, r_.range(0, 0xff0), static_cast<uint16_t>(sz));
          if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(kTop), sz)), m}, ZYDIS_ATTRIB_HAS_SEGMENT_GS);
          else emit(s, ZYDIS_MNEMONIC_MOV, {m, reg_op(gpr(any_reg(), sz))}, ZYDIS_ATTRIB_HAS_SEGMENT_GS);
        }
      }
      if (r_.chance(80)) emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
      break;
    case 2:
      emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
      safes(s, kTop, 0, 2);
      emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
      break;
    default:
      emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
  }
}

void Gen::kind_cr(Snippet& s) {
  const int t = pick_reg(kTop);
  switch (r_.below(8)) {
    case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(r_.pick({ZYDIS_REGISTER_CR0, ZYDIS_REGISTER_CR2, ZYDIS_REGISTER_CR3, ZYDIS_REGISTER_CR4}))}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR8)}); break;
    case 2:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR3)});
      safes(s, kTop & ~bit(t), 0, 1);
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR3), reg_op(kR64[t])});
      break;
    case 3:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.range(0, 15))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR8), reg_op(kR64[t])});
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[pick_reg(kTop)]), reg_op(ZYDIS_REGISTER_CR8)});
      break;
    case 4:  // toggle CR0.WP
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR0)});
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR32[t]), imm_op(0x10000)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR0), reg_op(kR64[t])});
      break;
    case 5:  // toggle CR4.PGE
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR4)});
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR32[t]), imm_op(0x80)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR4), reg_op(kR64[t])});
      break;
    case 6:  // CR2 is writable
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(value64()))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR2), reg_op(kR64[t])});
      break;
    default:  // CR0 written back unchanged
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR0)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR0), reg_op(kR64[t])});
  }
}

void Gen::kind_dr(Snippet& s) {
  const int t = pick_reg(kTop);
  if (r_.chance(50)) {
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(r_.pick({ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR1, ZYDIS_REGISTER_DR2,
                                                                  ZYDIS_REGISTER_DR3, ZYDIS_REGISTER_DR6, ZYDIS_REGISTER_DR7}))});
  } else {
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(value64() & 0x00007fffffffffffull))});
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(r_.pick({ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR1, ZYDIS_REGISTER_DR2, ZYDIS_REGISTER_DR3})), reg_op(kR64[t])});
    if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[pick_reg(kTop)]), reg_op(r_.pick({ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR1, ZYDIS_REGISTER_DR2, ZYDIS_REGISTER_DR3}))});
  }
}

void Gen::kind_dtables(Snippet& s) {
  const bool gdt = r_.chance(50);
  const int64_t d = r_.range(-0x800, 0x7f0);
  auto m = r_.chance(70) ? mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 10) : rip_op(kScratch + 0x1000 + d, 10);
  switch (r_.below(3)) {
    case 0: emit(s, gdt ? ZYDIS_MNEMONIC_SGDT : ZYDIS_MNEMONIC_SIDT, {m}); break;
    case 1:
      emit(s, gdt ? ZYDIS_MNEMONIC_SGDT : ZYDIS_MNEMONIC_SIDT, {m});
      safes(s, kTop, 0, 1);
      emit(s, gdt ? ZYDIS_MNEMONIC_LGDT : ZYDIS_MNEMONIC_LIDT, {m});
      break;
    default: emit(s, ZYDIS_MNEMONIC_LIDT, {rip_op(kIdtrImage, 10)});
  }
}

void Gen::kind_sysseg(Snippet& s) {
  const int t = pick_reg(kTop);
  const int w = r_.pick({2, 4, 8});
  switch (r_.below(6)) {
    case 0: emit(s, ZYDIS_MNEMONIC_STR, {r_.chance(70) ? reg_op(gpr(t, w)) : mem(s, kTop, 2)}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_SLDT, {r_.chance(70) ? reg_op(gpr(t, w)) : mem(s, kTop, 2)}); break;
    case 2: emit(s, ZYDIS_MNEMONIC_SMSW, {r_.chance(70) ? reg_op(gpr(t, w)) : mem(s, kTop, 2)}); break;
    case 3:  // LMSW: PE stays, MP/EM/TS at random
      emit(s, ZYDIS_MNEMONIC_SMSW, {reg_op(kR32[t])});
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR32[t]), imm_op(static_cast<int64_t>(r_.below(8) << 1))});
      emit(s, ZYDIS_MNEMONIC_LMSW, {reg_op(kR16[t])});
      break;
    case 4: emit(s, ZYDIS_MNEMONIC_CLTS, {}); break;
    default:
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR32[t]), reg_op(kR32[t])});
      emit(s, ZYDIS_MNEMONIC_LLDT, {reg_op(kR16[t])});
  }
}

void Gen::kind_segcheck(Snippet& s) {
  const int sel = pick_reg(kTop);
  const int d = pick_reg(kTop);
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[sel]), imm_op(r_.chance(90) ? kSelectors[r_.below(kSelectors.size())] : static_cast<int64_t>(r_.below(0x10000)))});
  const int w = r_.pick({2, 4, 8});
  switch (r_.below(4)) {
    case 0: emit(s, ZYDIS_MNEMONIC_LAR, {reg_op(gpr(d, w)), reg_op(gpr(sel, w))}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_LSL, {reg_op(gpr(d, w)), reg_op(gpr(sel, w))}); break;
    case 2: emit(s, ZYDIS_MNEMONIC_VERR, {reg_op(kR16[sel])}); break;
    default: {
      const int64_t disp = r_.range(-0x800, 0x7f0);
      emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, disp, 2), reg_op(kR16[sel])});
      emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_VERW : ZYDIS_MNEMONIC_VERR, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, disp, 2)});
    }
  }
}

void Gen::kind_segregs(Snippet& s) {
  const int t = pick_reg(kTop);
  const ZydisRegister data_segs[] = {ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES, ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS};
  const ZydisRegister all_segs[] = {ZYDIS_REGISTER_ES, ZYDIS_REGISTER_CS, ZYDIS_REGISTER_SS, ZYDIS_REGISTER_DS, ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS};
  switch (r_.below(5)) {
    case 0: {
      emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(r_.chance(50) ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_GS)});
      safes(s, kTop, 0, 1);
      if (r_.chance(70)) emit(s, ZYDIS_MNEMONIC_POP, {reg_op(r_.chance(50) ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_GS)});
      else emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])});
      break;
    }
    case 1: {
      const ZydisRegister sreg = all_segs[r_.below(6)];
      if (r_.chance(70)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(t, r_.pick({2, 4, 8}))), reg_op(sreg)});
      else emit(s, ZYDIS_MNEMONIC_MOV, {mem(s, kTop, 2), reg_op(sreg)});
      break;
    }
    case 2:
    case 3: {
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.pick({0x00, 0x10, 0x10, 0x20, 0x23}))});
      const ZydisRegister sreg = data_segs[r_.below(4)];
      if (r_.chance(70)) {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(sreg), reg_op(kR16[t])});
      } else {
        const int64_t disp = r_.range(-0x800, 0x7f0);
        emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, disp, 2), reg_op(kR16[t])});
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(sreg), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, disp, 2)});
      }
      break;
    }
    default:  // MOV SS: the next instruction runs in its shadow
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(0x10)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_SS), reg_op(kR16[t])});
      safe(s, kTop);
  }
}

void Gen::kind_cache(Snippet& s) {
  switch (r_.below(7)) {
    case 0: emit(s, ZYDIS_MNEMONIC_WBINVD, {}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_INVD, {}); break;
    case 2: emit(s, ZYDIS_MNEMONIC_PAUSE, {}); break;
    case 3: {
      auto m = r_.chance(60) ? mem(s, kTop, 1) : rip_op(kBase + r_.below(kImageSize), 1);
      emit(s, ZYDIS_MNEMONIC_INVLPG, {m});
      break;
    }
    case 4: emit(s, r_.pick({ZYDIS_MNEMONIC_MFENCE, ZYDIS_MNEMONIC_LFENCE, ZYDIS_MNEMONIC_SFENCE}), {}); break;
    case 5: {
      auto m = mem(s, kTop, 1);
      emit(s, ZYDIS_MNEMONIC_CLFLUSH, {m});
      break;
    }
    default: {  // INVLPG of an arbitrary canonical address
      const int t = pick_reg(kTop);
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(value64() & 0x00007fffffffffffull))});
      emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 1)});
    }
  }
}

void Gen::kind_portio(Snippet& s) {
  const uint16_t read_ports[] = {0x3fd, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fe, 0x3ff, 0x80, 0x61, 0x1234, 0xfffe};
  const uint16_t write_ports[] = {0x80, 0x3f8, 0x3f8, 0x3f9, 0x3fc, 0x1234, 0x61};
  switch (r_.below(5)) {
    case 0: emit(s, ZYDIS_MNEMONIC_IN, {reg_op(r_.pick({ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX, ZYDIS_REGISTER_EAX})), imm_op(r_.pick<int64_t>({0x80, 0x61, 0x40, 0x71}))}); break;
    case 1:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EDX), imm_op(read_ports[r_.below(12)])});
      emit(s, ZYDIS_MNEMONIC_IN, {reg_op(r_.pick({ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX, ZYDIS_REGISTER_EAX})), reg_op(ZYDIS_REGISTER_DX)});
      break;
    case 2:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EDX), imm_op(write_ports[r_.below(7)])});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(r_.range(0x20, 0x7e))});
      emit(s, ZYDIS_MNEMONIC_OUT, {reg_op(ZYDIS_REGISTER_DX), reg_op(ZYDIS_REGISTER_AL)});
      break;
    case 3:  // REP OUTSB to the console
      emit(s, ZYDIS_MNEMONIC_LEA, {reg_op(ZYDIS_REGISTER_RSI), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x400, 0x3f8), 8)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(0, 16))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EDX), imm_op(0x3f8)});
      emit(s, ZYDIS_MNEMONIC_CLD, {});
      emit(s, ZYDIS_MNEMONIC_OUTSB, {}, r_.chance(80) ? ZYDIS_ATTRIB_HAS_REP : 0);
      break;
    default:  // REP INS from a port into scratch
      emit(s, ZYDIS_MNEMONIC_LEA, {reg_op(ZYDIS_REGISTER_RDI), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x400, 0x3f8), 8)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(0, 16))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EDX), imm_op(read_ports[r_.below(12)])});
      emit(s, ZYDIS_MNEMONIC_CLD, {});
      emit(s, r_.pick({ZYDIS_MNEMONIC_INSB, ZYDIS_MNEMONIC_INSW, ZYDIS_MNEMONIC_INSD}), {}, r_.chance(80) ? ZYDIS_ATTRIB_HAS_REP : 0);
  }
}

void Gen::kind_far(Snippet& s) {
  const int l = new_label();
  const int t = pick_reg(kTop);
  switch (r_.below(3)) {
    case 0: {  // push cs; push target; retfq
      emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, l, false);
      emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(0x08)});
      emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
      emit_far_ret(s);
      break;
    }
    case 1: {  // jmp far [m16:64]
      const int64_t d = r_.range(-0x800, 0x7f0);
      emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, l, false);
      emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 8), reg_op(kR64[t])});
      emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d + 8, 2), imm_op(0x08)});
      ZydisEncoderRequest q = request(ZYDIS_MNEMONIC_JMP, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 10)});
      q.branch_type = ZYDIS_BRANCH_TYPE_FAR;
      q.branch_width = ZYDIS_BRANCH_WIDTH_64;
      emit(s, q);
      break;
    }
    default: {  // an IRETQ frame for the same CPL and stack, with other flags
      const int u = pick_reg(kTop & ~bit(t));
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_RSP)});
      emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(0x10)});
      emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
      emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
      emit(s, ZYDIS_MNEMONIC_XOR, {mem_op(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, 0, 8), imm_op(static_cast<int64_t>(r_.next() & kFlagsToggle))});
      emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(0x08)});
      emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[u]), rip_op(0, 8)}), 1, l, false);
      emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[u])});
      emit(s, ZYDIS_MNEMONIC_IRETQ, {});
    }
  }
  safes(s, kTop, 0, 2);  // skipped
  label(s, l);
}

void Gen::kind_user(Snippet& s) {
  // STAR: SYSCALL to CS 0x08/SS 0x10, SYSRET to CS 0x2b/SS 0x23; LSTAR: the kernel
  // continuation after the user code; FMASK: some flags
  const int user = new_label(), kernel = new_label();
  auto wrmsr = [&](uint32_t index, int label_or_minus1, uint32_t low, uint32_t high) {
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(static_cast<int32_t>(index))});
    if (label_or_minus1 >= 0) emit_ref(s, request(ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(0)}), 1, label_or_minus1, false);
    else emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(static_cast<int32_t>(low))});
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EDX), imm_op(static_cast<int32_t>(high))});
    emit(s, ZYDIS_MNEMONIC_WRMSR, {});
  };
  wrmsr(msr::IA32_STAR, -1, 0, 0x00180008);
  wrmsr(msr::IA32_LSTAR, kernel, 0, 0);
  wrmsr(msr::IA32_FMASK, -1, static_cast<uint32_t>(r_.next() & kFlagsToggle), 0);
  // user RFLAGS: bit 1, the arithmetic flags, DF, IF, IOPL at random
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_R11D), imm_op(static_cast<int64_t>((r_.next() & kFlagsToggle & ~uint64_t(0x200000)) | 2))});
  emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(ZYDIS_REGISTER_RCX), rip_op(0, 8)}), 1, user, false);
  ZydisEncoderRequest q = request(ZYDIS_MNEMONIC_SYSRET, {});
  q.operand_size_hint = ZYDIS_OPERAND_SIZE_HINT_64;
  emit(s, q);
  label(s, user);
  for (int64_t n = r_.range(1, 5); n > 0; --n) {
    switch (r_.below(10)) {
      case 0: emit(s, ZYDIS_MNEMONIC_RDTSC, {}); break;
      case 1:
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(r_.pick<int64_t>({0, 1, 7, 0x80000001}))});
        emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(ZYDIS_REGISTER_ECX), reg_op(ZYDIS_REGISTER_ECX)});
        emit(s, ZYDIS_MNEMONIC_CPUID, {});
        break;
      case 2: {  // POPF at CPL 3: IF and IOPL stay as they are unless IOPL is 3
        const int t = pick_reg(kTop);
        emit_popf_toggling(s, t);
        break;
      }
      case 3: {  // unprivileged reads of system state (no UMIP)
        // SGDT, SIDT, SLDT and STR at CPL 3 read the VMM's registers under bt, on purpose
        // (the Red Pill: translator/red_pill.hpp, scenarios/redpill.toml): not compared.
        const int t = pick_reg(kTop);
        const int64_t d = r_.range(-0x800, 0x7f0);
        switch (r_.below(6)) {
          case 0: emit(s, ZYDIS_MNEMONIC_SMSW, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 2)}); break;
          case 1: emit(s, ZYDIS_MNEMONIC_SMSW, {reg_op(gpr(t, r_.pick({2, 4, 8})))}); break;
          case 2: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), reg_op(r_.pick({ZYDIS_REGISTER_CS, ZYDIS_REGISTER_SS, ZYDIS_REGISTER_DS, ZYDIS_REGISTER_FS}))}); break;
          case 3:
            emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(kSelectors[r_.below(kSelectors.size())])});
            emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_LAR : ZYDIS_MNEMONIC_LSL, {reg_op(kR32[t]), reg_op(kR32[t])});
            break;
          case 4: emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(ZYDIS_REGISTER_FS)}); emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])}); break;
          default: emit(s, ZYDIS_MNEMONIC_RDTSCP, {});
        }
        break;
      }
      case 4: {  // privileged or IOPL-sensitive at CPL 3: #GP/#UD, resumed in user mode
        const int l = new_label();
        set_resume(s, l);
        switch (r_.below(12)) {
          case 0: emit(s, ZYDIS_MNEMONIC_CLI, {}); break;
          case 1: emit(s, ZYDIS_MNEMONIC_STI, {}); break;
          case 2: emit(s, ZYDIS_MNEMONIC_HLT, {}); break;
          case 3: emit(s, ZYDIS_MNEMONIC_IN, {reg_op(ZYDIS_REGISTER_AL), imm_op(0x80)}); break;
          case 4: emit(s, ZYDIS_MNEMONIC_OUT, {imm_op(0x80), reg_op(ZYDIS_REGISTER_AL)}); break;
          case 5: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RAX), reg_op(r_.pick({ZYDIS_REGISTER_CR0, ZYDIS_REGISTER_CR3, ZYDIS_REGISTER_CR8}))}); break;
          case 6: emit(s, r_.pick({ZYDIS_MNEMONIC_WBINVD, ZYDIS_MNEMONIC_SWAPGS, ZYDIS_MNEMONIC_CLTS, ZYDIS_MNEMONIC_UD2}), {}); break;
          case 7: emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, 0, 1)}); break;
          case 8: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(static_cast<int32_t>(msr::IA32_EFER))}); emit(s, ZYDIS_MNEMONIC_RDMSR, {}); break;
          case 9: emit(s, ZYDIS_MNEMONIC_INT, {imm_op(r_.pick<int64_t>({0x40, 0x80}))}); break;
          case 10: emit(s, ZYDIS_MNEMONIC_INT3, {}); break;
          default: emit(s, ZYDIS_MNEMONIC_LIDT, {rip_op(kIdtrImage, 10)});
        }
        safe(s, kTop);  // skipped when it faulted
        label(s, l);
        clear_resume(s);
        break;
      }
      default: safe(s, kTop);
    }
  }
  emit(s, ZYDIS_MNEMONIC_SYSCALL, {});
  label(s, kernel);
}

}  // namespace hvsim::fuzz::bt_diff
