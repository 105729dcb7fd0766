// The bt differential generator's kinds of exceptions, interrupts and mappings that change
// under the code (the menu of kinds is in bt_diff_menu.cpp): INT n, faults, PDE rewrites,
// sensitive instructions that fault, the timer, triple faults, code run through an alias,
// unmapped, or modified just ahead.
#include "bt_diff_generator.hpp"

namespace hvsim::fuzz::bt_diff {

void Gen::kind_softint(Snippet& s) {
  safes(s, kTop, 0, 1);
  if (r_.chance(70)) emit(s, ZYDIS_MNEMONIC_INT, {imm_op(r_.pick<int64_t>({0x40, 0x41, 0x42, 0x43, 0x80}))});
  else emit(s, ZYDIS_MNEMONIC_INT3, {});
  safes(s, kTop, 0, 1);
}

void Gen::kind_fault(Snippet& s) {
  const int l = new_label();
  set_resume(s, l);
  safes(s, kTop, 0, 2);
  const int t = pick_reg(kTop);
  switch (r_.below(9)) {
    case 0: {  // #DE: divide by zero
      const int w = r_.pick({1, 4, 8});
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR32[t]), reg_op(kR32[t])});
      emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_DIV : ZYDIS_MNEMONIC_IDIV, {reg_op(gpr(t, w))});
      break;
    }
    case 1:  // #DE: quotient overflow
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RDX), imm_op(static_cast<int64_t>(value64() | 0x100))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[kRbx]), imm_op(r_.range(1, 255))});
      emit(s, ZYDIS_MNEMONIC_DIV, {reg_op(ZYDIS_REGISTER_RBX)});
      break;
    case 2:  // #UD
      if (r_.chance(60)) emit(s, ZYDIS_MNEMONIC_UD2, {});
      else raw(s, r_.pick<Bytes>({{0x06}, {0x27}, {0x60}, {0xd6}, {0x0f, 0xff, 0xc0}, {0xf0, 0x01, 0xc0}, {0x0f, 0x0b}}));
      break;
    case 3: {  // #GP: a non-canonical address
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(0x8000000000000000ull | (r_.next() & 0x7fffffffffffull)))});
      const int sz = size();
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(kTop), sz)), mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, static_cast<uint16_t>(sz))});
      else emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, static_cast<uint16_t>(sz)), reg_op(gpr(any_reg(), sz))});
      break;
    }
    case 4: {  // #GP: an MSR that does not exist, a reserved CR4 bit
      if (r_.chance(60)) {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.pick<int64_t>({0x12345678, 0xc0001000, 0x3a, 0x8b}))});
        emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_RDMSR : ZYDIS_MNEMONIC_WRMSR, {});
      } else {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR4)});
        emit(s, ZYDIS_MNEMONIC_BTS, {reg_op(kR64[t]), imm_op(r_.pick<int64_t>({15, 26, 31, 40}))});
        define_flags_after_bt(s, kTop & ~bit(t));
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR4), reg_op(kR64[t])});
      }
      break;
    }
    case 5:
    case 6: {  // #PF: above the 4 GiB identity map (read, write, or an instruction fetch)
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>((1ull << 32) + r_.below(1ull << 30)))});
      const int sz = size();
      switch (r_.below(3)) {
        case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(kTop), sz)), mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, static_cast<uint16_t>(sz))}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_ADD, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, static_cast<uint16_t>(sz)), reg_op(gpr(any_reg(), sz))}); break;
        default: emit(s, ZYDIS_MNEMONIC_JMP, {reg_op(kR64[t])});
      }
      break;
    }
    case 7:  // #NP: a gate that is not present
      emit(s, ZYDIS_MNEMONIC_INT, {imm_op(r_.pick<int64_t>({0x21, 0x50, 0xff}))});
      break;
    default:  // #DB: INT1
      emit(s, ZYDIS_MNEMONIC_INT1, {});
  }
  safes(s, kTop, 0, 2);  // skipped
  label(s, l);
  clear_resume(s);
}

void Gen::kind_paging(Snippet& s) {
  // PD 3 maps GiB 3 (above RAM: open bus); one of its 2 MiB pages gets another frame for a while.
  const auto [va, pde, original] = gib3_page();
  const int t = pick_reg(kTop), v = pick_reg(kTop & ~bit(t));
  const uint32_t rest = kTop & ~bit(t) & ~bit(v);
  auto flush = [&] {
    if (r_.chance(70)) {
      emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(kR64[v], ZYDIS_REGISTER_NONE, 0, r_.range(0, 0x1fffff), 1)});
    } else {
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR3)});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR3), reg_op(kR64[t])});
    }
  };
  auto access = [&](bool write) {
    const int sz = size();
    // the image (scratch) through the alias: VA + 0x106000 + offset
    auto m = mem_op(kR64[v], ZYDIS_REGISTER_NONE, 0, static_cast<int64_t>(kScratch + r_.below(kScratchSize - 8)), static_cast<uint16_t>(sz));
    if (write) emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_MOV : kAlu[r_.below(kAlu.size())], {m, reg_op(gpr(any_reg(), sz))});
    else emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(rest), sz)), m});
  };
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[v]), imm_op(static_cast<int64_t>(va))});
  const unsigned variant = static_cast<unsigned>(r_.below(4));
  const uint64_t entry = variant == 0 ? 0x87 : variant == 1 ? 0x85 : variant == 2 ? 0x86 : 0x200087;
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(entry))});
  emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, pde, 8), reg_op(kR64[t])});
  flush();
  if (variant == 0 || variant == 3) {  // present and writable: the image, or a frame at 2 MiB
    for (int64_t n = r_.range(1, 4); n > 0; --n) access(r_.chance(50));
  } else {  // read-only (a write faults) or not present (everything faults)
    const int l = new_label();
    set_resume(s, l);
    if (variant == 1) access(false);
    access(variant == 1 ? true : r_.chance(50));
    safe(s, rest);  // skipped
    label(s, l);
    clear_resume(s);
  }
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(original))});
  emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, pde, 8), reg_op(kR64[t])});
  flush();
}

void Gen::kind_sysfault(Snippet& s) {
  const int l = new_label();
  const int t = pick_reg(kTop);
  const uint64_t unmapped = (1ull << 32) + (r_.below(1u << 20) << 12) + r_.below(4096);
  set_resume(s, l);
  emit(s, ZYDIS_MNEMONIC_MOV, {rip_op(kRspSlot, 8), reg_op(ZYDIS_REGISTER_RSP)});
  switch (r_.below(8)) {
    case 0: {  // a store of system state to unmapped memory
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(unmapped))});
      const auto m10 = mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 10), m2 = mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 2);
      switch (r_.below(7)) {
        case 0: emit(s, ZYDIS_MNEMONIC_SGDT, {m10}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_SIDT, {m10}); break;
        case 2: emit(s, ZYDIS_MNEMONIC_STR, {m2}); break;
        case 3: emit(s, ZYDIS_MNEMONIC_SLDT, {m2}); break;
        case 4: emit(s, ZYDIS_MNEMONIC_SMSW, {m2}); break;
        case 5: emit(s, ZYDIS_MNEMONIC_MOV, {m2, reg_op(r_.pick({ZYDIS_REGISTER_DS, ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS}))}); break;
        default: emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_LGDT : ZYDIS_MNEMONIC_LIDT, {m10});
      }
      break;
    }
    case 1: {  // a data segment load of a selector that is not one
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.pick<int64_t>({0x30, 0x40, 0x13, 0x1233, 0xfff8}))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(r_.pick({ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES, ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS})), reg_op(kR16[t])});
      break;
    }
    case 2:  // SS: a code segment, DPL 3, RPL 3
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.pick<int64_t>({0x08, 0x20, 0x23, 0x13, 0x30}))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_SS), reg_op(kR16[t])});
      break;
    case 3:  // POP FS/GS of a bad selector (RSP stays)
      emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(r_.pick<int64_t>({0x30, 0x40, 0x13}))});
      emit(s, ZYDIS_MNEMONIC_POP, {reg_op(r_.chance(50) ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_GS)});
      break;
    case 4:  // LLDT of a non-LDT, LTR of the busy TSS or of a data segment, CR8 > 15
      if (r_.chance(60)) {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.pick<int64_t>({0x10, 0x30, 0x08}))});
        emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_LLDT : ZYDIS_MNEMONIC_LTR, {reg_op(kR16[t])});
      } else {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.range(16, 300))});
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR8), reg_op(kR64[t])});
      }
      break;
    case 5: {  // IRETQ or far RET to a bad CS (the frame stays on the stack)
      const uint16_t cs = r_.pick<uint16_t>({0x10, 0x18, 0x2b, 0x30, 0x40});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_RSP)});
      if (r_.chance(50)) {
        emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(0x10)});
        emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
        emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
        emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(cs)});
        emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, l, false);
        emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
        emit(s, ZYDIS_MNEMONIC_IRETQ, {});
      } else {
        emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(cs)});
        emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, l, false);
        emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
        emit_far_ret(s);
      }
      break;
    }
    default: {  // a push or pop on an unmapped (#PF) or non-canonical (#GP here) stack
      const bool noncanonical = r_.chance(25);
      const uint64_t bad = noncanonical ? 0x8000000000001000ull : (unmapped & ~uint64_t(7));
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), imm_op(static_cast<int64_t>(bad))});
      uint64_t which = r_.below(11);
      // bt emulates CALL r/m, JMP m and RET: see Options::bt_noncanonical
      if (noncanonical && !opt_.bt_noncanonical && which >= 7) which = which % 7;
      switch (which) {
        case 0: emit_ref(s, request(ZYDIS_MNEMONIC_CALL, {imm_op(0)}), 0, c_.functions[r_.below(c_.functions.size())].label, true); break;
        case 1: emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(imm(4))}); break;
        case 2: emit(s, ZYDIS_MNEMONIC_PUSHFQ, {}); break;
        case 3: emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(r_.chance(50) ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_GS)}); break;
        case 4: emit(s, ZYDIS_MNEMONIC_INT, {imm_op(0x40)}); break;
        case 5: emit(s, ZYDIS_MNEMONIC_ENTER, {imm_op(16), imm_op(0)}); break;
        case 6: emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])}); break;
        case 7: emit(s, ZYDIS_MNEMONIC_RET, {}); break;
        case 8: {  // JMP/CALL through a non-canonical or unmapped memory operand
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), rip_op(kRspSlot, 8)});
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(bad))});
          emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_JMP : ZYDIS_MNEMONIC_CALL, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 8)});
          break;
        }
        case 9: {  // CALL through a RIP-relative slot
          const Function& f = c_.functions[r_.below(c_.functions.size())];
          emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, f.label, false);
          emit(s, ZYDIS_MNEMONIC_MOV, {rip_op(kSlots + 8 * 16, 8), reg_op(kR64[t])});
          emit(s, ZYDIS_MNEMONIC_CALL, {rip_op(kSlots + 8 * 16, 8)});
          break;
        }
        default: {
          const Function& f = c_.functions[r_.below(c_.functions.size())];
          emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, f.label, false);
          emit(s, ZYDIS_MNEMONIC_CALL, {reg_op(kR64[t])});
        }
      }
    }
  }
  safe(s, kTop);  // skipped
  label(s, l);
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), rip_op(kRspSlot, 8)});
  clear_resume(s);
}

void Gen::kind_timer(Snippet& s) {
  // Mostly a TPR below the vectors' priority class 4; sometimes one that holds them back,
  // so that a HLT can never end. (That once hung hvsim under every engine: Vm::run skipped
  // from deadline to deadline forever and neither the instruction budget nor a stop
  // request ended it; now the run ends as a halt forever, guest/flat/tpr_halt.asm.)
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(r_.chance(15) ? r_.range(4, 5) : r_.range(0, 3))});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR8), reg_op(ZYDIS_REGISTER_RAX)});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(r_.pick<int64_t>({0x44, 0x45, 0x46, 0x47}))});
  emit(s, ZYDIS_MNEMONIC_OUT, {imm_op(0xf8), reg_op(ZYDIS_REGISTER_AL)});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(r_.range(opt_.fast_timer ? 20 : 120, 600))});
  emit(s, ZYDIS_MNEMONIC_OUT, {imm_op(0xf0), reg_op(ZYDIS_REGISTER_EAX)});
  emit(s, ZYDIS_MNEMONIC_STI, {});
  safes(s, kTop & ~bit(kRax), 1, 4);
  if (r_.chance(60)) {  // a loop of 10-300 instructions for the interrupts to land in
    const int l = new_label();
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(5, 60))});
    label(s, l);
    const bool window = r_.chance(50);  // see Options::irq_windows
    if (window && opt_.irq_windows) emit(s, ZYDIS_MNEMONIC_CLI, {});
    safes(s, kTop & ~bit(kRax) & ~bit(kRcx), 1, 4);
    if (window && opt_.irq_windows) emit(s, ZYDIS_MNEMONIC_STI, {});
    emit(s, ZYDIS_MNEMONIC_DEC, {reg_op(ZYDIS_REGISTER_ECX)});
    branch(s, ZYDIS_MNEMONIC_JNZ, l, r_.chance(50));
  }
  if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_HLT, {});
  emit(s, ZYDIS_MNEMONIC_CLI, {});
  emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(ZYDIS_REGISTER_EAX), reg_op(ZYDIS_REGISTER_EAX)});
  emit(s, ZYDIS_MNEMONIC_OUT, {imm_op(0xf0), reg_op(ZYDIS_REGISTER_EAX)});
}

void Gen::kind_triplefault(Snippet& s) {
  const int t = pick_reg(kTop);
  const uint64_t bad = r_.chance(50) ? (1ull << 32) + (r_.below(1u << 20) << 12) : 0x8000000000001000ull;
  safes(s, kTop, 0, 2);
  emit(s, ZYDIS_MNEMONIC_LIDT, {rip_op(kEmptyIdtr, 10)});
  switch (r_.below(8)) {
    case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), imm_op(static_cast<int64_t>(bad))}); emit(s, ZYDIS_MNEMONIC_RET, {}); break;
    case 1:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(bad))});
      emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_JMP : ZYDIS_MNEMONIC_CALL, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 8)});
      break;
    case 2:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), imm_op(static_cast<int64_t>(bad))});
      emit(s, ZYDIS_MNEMONIC_CALL, {reg_op(kR64[t])});
      break;
    case 3: raw(s, r_.pick<Bytes>({{0x06}, {0x27}, {0x60}, {0xd6}})); break;  // undecodable in 64-bit mode
    case 4: emit(s, ZYDIS_MNEMONIC_UD2, {}); break;
    case 5: emit(s, ZYDIS_MNEMONIC_INT3, {}); break;
    case 6:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(0x12345678)});
      emit(s, ZYDIS_MNEMONIC_RDMSR, {});
      break;
    default:
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(bad))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 8)});
  }
}

void Gen::kind_alias(Snippet& s, bool then_unmap) {
  const auto [va, pde, original] = gib3_page();
  const int v = pick_reg(kTop), t = pick_reg(kTop & ~bit(v));
  const uint32_t inner = kTop & ~bit(v) & ~bit(t);
  const int f = new_label(), over = new_label();
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[v]), imm_op(static_cast<int64_t>(va))});
  emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, pde, 8), imm_op(0x87)});
  emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(kR64[v], ZYDIS_REGISTER_NONE, 0, static_cast<int64_t>(kBase), 1)});
  branch(s, ZYDIS_MNEMONIC_JMP, over, false);
  label(s, f);  // the function, run at VA + its address: no RIP-relative operand unless
  no_rip_ = !opt_.bt_far_code;  // Options::bt_far_code
  in_far_code_ = true;
  safes(s, inner, 1, 5);
  no_rip_ = in_far_code_ = false;
  emit(s, ZYDIS_MNEMONIC_RET, {});
  label(s, over);
  emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, f, false);
  emit(s, ZYDIS_MNEMONIC_ADD, {reg_op(kR64[t]), reg_op(kR64[v])});
  emit(s, ZYDIS_MNEMONIC_CALL, {reg_op(kR64[t])});
  if (then_unmap) {  // unmapped: the call's fetch faults, whatever was translated there
    const int l = new_label();
    emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, pde, 8), imm_op(0)});
    emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 1)});
    set_resume(s, l);
    emit(s, ZYDIS_MNEMONIC_MOV, {rip_op(kRspSlot, 8), reg_op(ZYDIS_REGISTER_RSP)});
    emit(s, ZYDIS_MNEMONIC_CALL, {reg_op(kR64[t])});
    label(s, l);
    emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), rip_op(kRspSlot, 8)});
    clear_resume(s);
    if (r_.chance(50)) {  // mapped again: runs again
      emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, pde, 8), imm_op(0x87)});
      emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 1)});
      emit(s, ZYDIS_MNEMONIC_CALL, {reg_op(kR64[t])});
    }
  }
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(original))});
  emit(s, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_NONE, ZYDIS_REGISTER_NONE, 0, pde, 8), reg_op(kR64[t])});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR3)});
  emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR3), reg_op(kR64[t])});
}

void Gen::kind_smc(Snippet& s) {
  // mov byte [rip + imm8 of L], x; ...; L: add r64, imm8
  const int l = new_label();
  const int t = pick_reg(kTop);
  const ZydisEncoderRequest target = request(ZYDIS_MNEMONIC_ADD, {reg_op(kR64[t]), imm_op(r_.range(-128, 127))});
  uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
  size_t len = 0;
  if (!encode(target, kBase, buf, len)) {
    refused(target);
    return;
  }
  emit_ref(s, request(ZYDIS_MNEMONIC_MOV, {rip_op(0, 1), imm_op(r_.range(-128, 127))}), 0, l, false,
           static_cast<int64_t>(len) - 1);
  safes(s, kTop & ~bit(t), 0, 2);
  label(s, l);
  emit(s, target);
}

}  // namespace hvsim::fuzz::bt_diff
