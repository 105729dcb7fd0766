// The bt differential generator's kinds of ordinary instructions (the menu of kinds is in
// bt_diff_menu.cpp): ALU, multiply and divide, stack, branches, loops, calls, indirect
// branches, flags, CLI/STI, atomics, string instructions, CPUID, RDTSC, RDRAND.
#include "bt_diff_generator.hpp"

namespace hvsim::fuzz::bt_diff {

void Gen::kind_alu(Snippet& s) {
  safes(s, kTop, 1, 3);
}

void Gen::kind_muldiv(Snippet& s) {
  const int w = r_.pick({1, 2, 4, 8});
  int src = pick_reg(kTop & ~bit(kRax) & ~bit(kRdx));
  switch (r_.below(3)) {
    case 0:
      emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL, {r_.chance(70) ? reg_op(gpr(src, w)) : mem(s, kTop, w)});
      break;
    case 1:  // DIV by (src | 1) with a zero high half: no #DE
      emit(s, ZYDIS_MNEMONIC_OR, {reg_op(gpr(src, w)), imm_op(1)});
      if (w == 1) emit(s, ZYDIS_MNEMONIC_MOVZX, {reg_op(ZYDIS_REGISTER_EAX), reg_op(ZYDIS_REGISTER_AL)});
      else emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(ZYDIS_REGISTER_EDX), reg_op(ZYDIS_REGISTER_EDX)});
      emit(s, ZYDIS_MNEMONIC_DIV, {reg_op(gpr(src, w))});
      break;
    default: {  // IDIV of a sign-extended dividend by a divisor with |d| > 1 or 1
      if (w == 1) break;
      emit(s, ZYDIS_MNEMONIC_OR, {reg_op(gpr(src, w)), imm_op(1)});
      emit(s, w == 2 ? ZYDIS_MNEMONIC_CWD : w == 4 ? ZYDIS_MNEMONIC_CDQ : ZYDIS_MNEMONIC_CQO, {});
      // INT_MIN / -1 overflows: make the dividend non-minimal by clearing its top bit
      emit(s, ZYDIS_MNEMONIC_BTR, {reg_op(gpr(kRax, w)), imm_op(w * 8 - 1)});
      define_flags_after_bt(s, kTop & ~bit(kRax) & ~bit(kRdx) & ~bit(src));  // IDIV leaves them as they are
      emit(s, w == 2 ? ZYDIS_MNEMONIC_CWD : w == 4 ? ZYDIS_MNEMONIC_CDQ : ZYDIS_MNEMONIC_CQO, {});
      emit(s, ZYDIS_MNEMONIC_IDIV, {reg_op(gpr(src, w))});
    }
  }
}

void Gen::kind_stack(Snippet& s) {
  switch (r_.below(4)) {
    case 0:
    case 1: {
      const int n = static_cast<int>(r_.range(1, 4));
      for (int i = 0; i < n; ++i) {
        switch (r_.below(3)) {
          case 0: emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[any_reg()])}); break;
          case 1: emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(imm(4))}); break;
          default: {
            auto m = mem(s, kTop, 8);
            emit(s, ZYDIS_MNEMONIC_PUSH, {m});
          }
        }
      }
      safes(s, kTop, 0, 2);
      if (r_.chance(30)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[pick_reg(kTop)]), mem_op(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, 8 * r_.range(0, n - 1), 8)});
      for (int i = 0; i < n; ++i) {
        if (r_.chance(75)) {
          emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[pick_reg(kTop)])});
        } else {
          auto m = mem(s, kTop, 8);
          emit(s, ZYDIS_MNEMONIC_POP, {m});
        }
      }
      break;
    }
    case 2:  // 16-bit push/pop: RSP off by two for a while
      emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR16[any_reg()])});
      safes(s, kTop, 0, 2);
      emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR16[pick_reg(kTop)])});
      break;
    default: {  // ENTER/LEAVE
      emit(s, ZYDIS_MNEMONIC_ENTER, {imm_op(8 * r_.range(0, 8)), imm_op(r_.chance(80) ? 0 : 1)});  // level 1 reads no frame
      safes(s, kTop & ~bit(5), 0, 2);
      emit(s, ZYDIS_MNEMONIC_LEAVE, {});
    }
  }
}

void Gen::kind_branch(Snippet& s) {
  const int l = new_label();
  safes(s, kTop, 0, 1);  // flags for the Jcc
  const bool short_form = r_.chance(50);
  branch(s, r_.chance(75) ? kJcc[r_.below(16)] : ZYDIS_MNEMONIC_JMP, l, short_form);
  safes(s, kTop, 0, short_form ? 3 : 5);
  label(s, l);
}

void Gen::kind_loop(Snippet& s) {
  const int l = new_label();
  const uint32_t inner = kTop & ~bit(kRcx);
  switch (r_.below(5)) {
    case 0:
    case 1: {  // mov ecx, n; L: ...; dec ecx / sub rcx, 1; jnz L
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(1, 6))});
      label(s, l);
      safes(s, inner, 1, 3);
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_DEC, {reg_op(ZYDIS_REGISTER_ECX)});
      else emit(s, ZYDIS_MNEMONIC_SUB, {reg_op(ZYDIS_REGISTER_RCX), imm_op(1)});
      branch(s, ZYDIS_MNEMONIC_JNZ, l, r_.chance(50));
      break;
    }
    case 2:
    case 3: {  // LOOP / LOOPE / LOOPNE (rel8)
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(1, 6))});
      label(s, l);
      safes(s, inner, 1, 3);
      ZydisMnemonic m = r_.pick({ZYDIS_MNEMONIC_LOOP, ZYDIS_MNEMONIC_LOOP, ZYDIS_MNEMONIC_LOOPE, ZYDIS_MNEMONIC_LOOPNE});
      if (!opt_.loope) m = ZYDIS_MNEMONIC_LOOP;  // see Options::loope
      branch(s, m, l, true);
      break;
    }
    default: {  // JRCXZ forward
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(ZYDIS_REGISTER_ECX), reg_op(ZYDIS_REGISTER_ECX)});
      branch(s, ZYDIS_MNEMONIC_JRCXZ, l, true);
      safes(s, kTop, 1, 3);
      label(s, l);
    }
  }
}

void Gen::kind_call(Snippet& s) {
  const Function& f = c_.functions[r_.below(c_.functions.size())];
  call_padding(s, f);
  emit_ref(s, request(ZYDIS_MNEMONIC_CALL, {imm_op(0)}), 0, f.label, true);
}

void Gen::kind_indirect(Snippet& s) {
  const int t = pick_reg(kTop);
  const bool call = r_.chance(50);
  const Function& f = c_.functions[r_.below(c_.functions.size())];
  const int l = call ? f.label : new_label();
  if (call) call_padding(s, f);
  const ZydisMnemonic m = call ? ZYDIS_MNEMONIC_CALL : ZYDIS_MNEMONIC_JMP;
  emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, l, false);
  switch (r_.below(3)) {
    case 0: emit(s, m, {reg_op(kR64[t])}); break;
    case 1: {
      const int64_t d = r_.range(-0x800, 0x7f0);
      emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 8), reg_op(kR64[t])});
      if (r_.chance(50)) safe(s, kTop);
      emit(s, m, {mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 8)});
      break;
    }
    default: {
      const uint64_t slot = kSlots + 8 * r_.below(16);
      emit(s, ZYDIS_MNEMONIC_MOV, {rip_op(slot, 8), reg_op(kR64[t])});
      emit(s, m, {rip_op(slot, 8)});
    }
  }
  if (!call) {
    safes(s, kTop, 1, 3);  // skipped
    label(s, l);
  }
}

void Gen::kind_pushf(Snippet& s) {
  const int t = pick_reg(kTop);
  switch (r_.below(5)) {
    case 0:
    case 1:
      emit_popf_toggling(s, t);
      break;
    case 2:
      emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(static_cast<int64_t>((r_.next() & kFlagsToggle) | 2))});
      emit(s, ZYDIS_MNEMONIC_POPFQ, {});
      break;
    case 3:
      emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
      safes(s, kTop, 1, 3);
      if (r_.chance(50)) {
        emit(s, ZYDIS_MNEMONIC_POPFQ, {});
      } else {
        auto m = mem(s, kTop, 8);
        emit(s, ZYDIS_MNEMONIC_POP, {m});
      }
      break;
    default:  // 16-bit PUSHF/POPF
      emit(s, ZYDIS_MNEMONIC_PUSHF, {});
      emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR16[t])});
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR16[t]), imm_op(static_cast<int64_t>(r_.next() & kFlagsToggle & 0xffff))});
      emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR16[t])});
      emit(s, ZYDIS_MNEMONIC_POPF, {});
  }
}

void Gen::kind_clisti(Snippet& s) {
  switch (r_.below(4)) {
    case 0: emit(s, ZYDIS_MNEMONIC_CLI, {}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_STI, {}); break;
    case 2:
      emit(s, ZYDIS_MNEMONIC_STI, {});
      safe(s, kTop);  // in the shadow
      break;
    default:
      emit(s, ZYDIS_MNEMONIC_CLI, {});
      safes(s, kTop, 0, 2);
      emit(s, ZYDIS_MNEMONIC_STI, {});
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_CLI, {});
  }
}

void Gen::kind_atomic(Snippet& s) {
  const int sz = size();
  const int rr = pick_reg(kTop);
  auto m = mem(s, kTop & ~bit(kRax), sz);  // RAX may be loaded from it below
  const ZydisInstructionAttributes lock = r_.chance(50) ? ZYDIS_ATTRIB_HAS_LOCK : 0;
  switch (r_.below(5)) {
    case 0: emit(s, ZYDIS_MNEMONIC_XCHG, {m, reg_op(gpr(rr, sz))}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_XADD, {m, reg_op(gpr(rr, sz))}, lock); break;
    case 2:
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(kRax, sz)), m});  // so it succeeds
      emit(s, ZYDIS_MNEMONIC_CMPXCHG, {m, reg_op(gpr(rr, sz))}, lock);
      break;
    case 3: {
      const bool wide = r_.chance(50);
      // CMPXCHG16B needs 16-byte alignment
      auto a = wide ? mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, 16 * r_.range(-0x80, 0x7e), 16)
                    : mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x800, 0x7f0), 8);
      if (r_.chance(50)) {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RAX), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, a.mem.displacement, 8)});
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RDX), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, a.mem.displacement + (wide ? 8 : 4), wide ? 8 : 4)});
      }
      if (opt_.cmpxchg8b) {
        emit(s, wide ? ZYDIS_MNEMONIC_CMPXCHG16B : ZYDIS_MNEMONIC_CMPXCHG8B, {a}, lock);
      } else {  // see Options::cmpxchg8b
        a.mem.size = 8;
        emit(s, ZYDIS_MNEMONIC_CMPXCHG, {a, reg_op(ZYDIS_REGISTER_RBX)}, lock);
      }
      break;
    }
    default: {
      const ZydisMnemonic op = r_.pick({ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR, ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB,
                                        ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_NEG,
                                        ZYDIS_MNEMONIC_BTS, ZYDIS_MNEMONIC_BTC});
      if (op == ZYDIS_MNEMONIC_INC || op == ZYDIS_MNEMONIC_NEG) emit(s, op, {m}, ZYDIS_ATTRIB_HAS_LOCK);
      else if (op == ZYDIS_MNEMONIC_BTS || op == ZYDIS_MNEMONIC_BTC) {
        emit(s, op, {m, imm_op(r_.range(0, 15))}, ZYDIS_ATTRIB_HAS_LOCK);
        define_flags_after_bt(s, kTop);
      }
      else emit(s, op, {m, r_.chance(50) ? reg_op(gpr(rr, sz)) : imm_op(imm(sz))}, ZYDIS_ATTRIB_HAS_LOCK);
    }
  }
}

void Gen::kind_string(Snippet& s, bool rep) {
  emit(s, ZYDIS_MNEMONIC_LEA, {reg_op(ZYDIS_REGISTER_RSI), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x400, 0x3f8), 8)});
  emit(s, ZYDIS_MNEMONIC_LEA, {reg_op(ZYDIS_REGISTER_RDI), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x400, 0x3f8), 8)});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(0, 64))});
  emit(s, r_.chance(70) ? ZYDIS_MNEMONIC_CLD : ZYDIS_MNEMONIC_STD, {});
  const int w = r_.below(4);
  const ZydisMnemonic movs[] = {ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSW, ZYDIS_MNEMONIC_MOVSD, ZYDIS_MNEMONIC_MOVSQ};
  const ZydisMnemonic stos[] = {ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSW, ZYDIS_MNEMONIC_STOSD, ZYDIS_MNEMONIC_STOSQ};
  const ZydisMnemonic lods[] = {ZYDIS_MNEMONIC_LODSB, ZYDIS_MNEMONIC_LODSW, ZYDIS_MNEMONIC_LODSD, ZYDIS_MNEMONIC_LODSQ};
  const ZydisMnemonic cmps[] = {ZYDIS_MNEMONIC_CMPSB, ZYDIS_MNEMONIC_CMPSW, ZYDIS_MNEMONIC_CMPSD, ZYDIS_MNEMONIC_CMPSQ};
  const ZydisMnemonic scas[] = {ZYDIS_MNEMONIC_SCASB, ZYDIS_MNEMONIC_SCASW, ZYDIS_MNEMONIC_SCASD, ZYDIS_MNEMONIC_SCASQ};
  switch (r_.below(5)) {
    case 0: emit(s, movs[w], {}, rep ? ZYDIS_ATTRIB_HAS_REP : 0); break;
    case 1: emit(s, stos[w], {}, rep ? ZYDIS_ATTRIB_HAS_REP : 0); break;
    case 2: emit(s, lods[w], {}, rep ? ZYDIS_ATTRIB_HAS_REP : 0); break;
    case 3: emit(s, cmps[w], {}, rep ? (r_.chance(50) ? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REPNE) : 0); break;
    default: emit(s, scas[w], {}, rep ? (r_.chance(50) ? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REPNE) : 0);
  }
  if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_CLD, {});
}

void Gen::kind_cpuid(Snippet& s) {
  const uint32_t leaf = r_.pick<uint32_t>({0, 1, 2, 4, 6, 7, 0xb, 0xd, 0x80000000u, 0x80000001u, 0x80000002u,
                                          0x80000007u, 0x80000008u, 0x40000000u, 0x40000001u, 0x12345678u});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(static_cast<int32_t>(leaf))});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(0, 2))});
  emit(s, ZYDIS_MNEMONIC_CPUID, {});
}

void Gen::kind_rdtsc(Snippet& s) {
  switch (r_.below(3)) {
    case 0: emit(s, ZYDIS_MNEMONIC_RDTSC, {}); break;
    case 1: emit(s, ZYDIS_MNEMONIC_RDTSCP, {}); break;
    default:
      emit(s, ZYDIS_MNEMONIC_RDTSC, {});
      emit(s, ZYDIS_MNEMONIC_SHL, {reg_op(ZYDIS_REGISTER_RDX), imm_op(32)});
      emit(s, ZYDIS_MNEMONIC_OR, {reg_op(ZYDIS_REGISTER_RAX), reg_op(ZYDIS_REGISTER_RDX)});
      emit(s, ZYDIS_MNEMONIC_MOV, {mem(s, kTop & ~bit(kRax), 8), reg_op(ZYDIS_REGISTER_RAX)});
  }
}

void Gen::kind_rdrand(Snippet& s) {
  emit(s, r_.chance(70) ? ZYDIS_MNEMONIC_RDRAND : ZYDIS_MNEMONIC_RDSEED, {reg_op(gpr(pick_reg(kTop), r_.pick({2, 4, 8})))});
}

}  // namespace hvsim::fuzz::bt_diff
