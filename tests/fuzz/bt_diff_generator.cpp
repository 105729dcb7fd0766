#include "bt_diff_generator.hpp"

namespace hvsim::fuzz::bt_diff {

Gen::Gen(Case& c, Rng& r, const std::vector<const Kind*>& menu, Options opt) : c_(c), r_(r), menu_(menu), opt_(opt) {
  for (const Kind* k : menu_) total_weight_ += k->weight;
}

bool Gen::ok(const ZydisEncoderRequest& q) {
  uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
  size_t len = 0;
  return encode(q, kBase + 0x800, buf, len);
}

bool Gen::emit(Snippet& s, const ZydisEncoderRequest& q) {
  if (!ok(q)) return refused(q);
  Item it;
  it.req = q;
  s.push_back(it);
  return true;
}

bool Gen::emit(Snippet& s, ZydisMnemonic m, std::initializer_list<ZydisEncoderOperand> ops, ZydisInstructionAttributes p) {
  return emit(s, request(m, ops, p));
}

bool Gen::emit_ref(Snippet& s, ZydisEncoderRequest q, int fix, int label, bool branch, int64_t addend) {
  ZydisEncoderRequest probe = q;
  set_fix(probe, fix, branch ? kBase + 0x800 : kBase + static_cast<uint64_t>(addend));
  if (!ok(probe)) return refused(q);
  Item it;
  it.req = q;
  it.fix = fix;
  it.label = label;
  it.branch = branch;
  it.addend = addend;
  s.push_back(it);
  return true;
}

bool Gen::branch(Snippet& s, ZydisMnemonic m, int label, bool short_form) {
  ZydisEncoderRequest q = request(m, {imm_op(0)});
  q.branch_type = short_form ? ZYDIS_BRANCH_TYPE_SHORT : ZYDIS_BRANCH_TYPE_NEAR;
  q.branch_width = short_form ? ZYDIS_BRANCH_WIDTH_8 : ZYDIS_BRANCH_WIDTH_32;
  return emit_ref(s, q, 0, label, true);
}

void Gen::label(Snippet& s, int l) {
  Item it;
  it.kind = Item::Kind::Label;
  it.label = l;
  s.push_back(it);
}

void Gen::raw(Snippet& s, Bytes b) {
  Item it;
  it.kind = Item::Kind::Raw;
  it.raw = std::move(b);
  s.push_back(it);
}

int Gen::pick_reg(uint32_t mask) {
  int n = __builtin_popcount(mask);
  int k = static_cast<int>(r_.below(static_cast<uint64_t>(n)));
  for (int i = 0; i < 16; ++i) {
    if ((mask & bit(i)) && k-- == 0) return i;
  }
  return kRax;
}

int64_t Gen::imm(int size) {
  switch (size) {
    case 1: return r_.range(-128, 127);
    case 2: return r_.range(-32768, 32767);
    default:
      switch (r_.below(4)) {
        case 0: return r_.range(-16, 16);
        case 1: return r_.range(-128, 127);
        default: return static_cast<int32_t>(r_.next());
      }
  }
}

uint64_t Gen::value64() {
  switch (r_.below(6)) {
    case 0: return r_.below(256);
    case 1: return ~0ull - r_.below(256);
    case 2: return 1ull << r_.below(64);
    case 3: return kScratch + r_.below(kScratchSize);
    default: return r_.next();
  }
}

ZydisEncoderOperand Gen::mem(Snippet& s, uint32_t mask, int size) {
  const int64_t max_disp = 0x800 - 16;
  switch (r_.below(6)) {
    case 0:
    case 1:
      return mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x800, max_disp), static_cast<uint16_t>(size));
    case 2: {  // index: 0..255 scaled
      const int idx = pick_reg(mask & ~bit(kRsp));
      emit(s, ZYDIS_MNEMONIC_MOVZX, {reg_op(gpr(idx, 4)), reg_op(gpr(idx, 1))});
      const uint8_t scale = r_.pick<uint8_t>({1, 2, 4, 8});
      return mem_op(ZYDIS_REGISTER_R14, kR64[idx], scale, r_.range(-0x800, max_disp - 255 * scale),
                    static_cast<uint16_t>(size));
    }
    case 3: {  // another base register
      const int base = pick_reg(mask);
      const int64_t d1 = r_.range(-0x400, 0x400);
      emit(s, ZYDIS_MNEMONIC_LEA, {reg_op(kR64[base]), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d1, 8)});
      return mem_op(kR64[base], ZYDIS_REGISTER_NONE, 0, r_.range(-0x300, 0x300), static_cast<uint16_t>(size));
    }
    default:
      if (no_rip_) return mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x800, max_disp), static_cast<uint16_t>(size));
      return rip_op(kScratch + r_.below(kScratchSize - 16), static_cast<uint16_t>(size));
  }
}

void Gen::safe(Snippet& out, uint32_t mask) {
  const bool before = failed_;
  for (int tries = 0; tries < 64; ++tries) {
    Snippet s;
    failed_ = false;
    const bool done = safe_try(s, mask) && !failed_;
    failed_ = before;
    if (done) {
      out.insert(out.end(), s.begin(), s.end());
      return;
    }
    ++retries_;
  }
  emit(out, ZYDIS_MNEMONIC_NOP, {});
}

bool Gen::safe_try(Snippet& s, uint32_t mask) {
  const int sz = size();
  const int d = pick_reg(mask);
  const int src = any_reg();
  switch (r_.below(22)) {
    case 0:
    case 1: {
      const ZydisMnemonic m = r_.chance(10) ? ZYDIS_MNEMONIC_TEST : kAlu[r_.below(kAlu.size())];
      return emit(s, m, {reg_op(gpr(d, sz)), reg_op(gpr(src, sz))});
    }
    case 2: {
      const ZydisMnemonic m = r_.chance(10) ? ZYDIS_MNEMONIC_TEST : kAlu[r_.below(kAlu.size())];
      if (m == ZYDIS_MNEMONIC_MOV && sz == 8 && r_.chance(50)) return emit(s, m, {reg_op(gpr(d, 8)), imm_op(static_cast<int64_t>(value64()))});
      return emit(s, m, {reg_op(gpr(d, sz)), imm_op(imm(sz))});
    }
    case 3: {
      auto m = mem(s, mask, sz);
      return emit(s, kAlu[r_.below(kAlu.size())], {reg_op(gpr(d, sz)), m});
    }
    case 4: {
      auto m = mem(s, mask, sz);
      const ZydisMnemonic op = r_.chance(10) ? ZYDIS_MNEMONIC_TEST : kAlu[r_.below(kAlu.size())];
      return emit(s, op, {m, reg_op(gpr(src, sz))});
    }
    case 5: {
      auto m = mem(s, mask, sz);
      return emit(s, kAlu[r_.below(kAlu.size())], {m, imm_op(imm(sz))});
    }
    case 6: {  // shifts and rotates by imm, 1 or CL, of a register or memory
      const ZydisMnemonic m = kShift[r_.below(kShift.size())];
      ZydisEncoderOperand dst = r_.chance(70) ? reg_op(gpr(d, sz)) : mem(s, mask, sz);
      switch (r_.below(3)) {
        case 0: return emit(s, m, {dst, imm_op(r_.range(0, 63))});
        case 1: return emit(s, m, {dst, imm_op(1)});
        default: return emit(s, m, {dst, reg_op(ZYDIS_REGISTER_CL)});
      }
    }
    case 7: {  // SHLD/SHRD
      const int w = r_.pick({2, 4, 8});
      const ZydisMnemonic m = r_.chance(50) ? ZYDIS_MNEMONIC_SHLD : ZYDIS_MNEMONIC_SHRD;
      ZydisEncoderOperand dst = r_.chance(70) ? reg_op(gpr(d, w)) : mem(s, mask, w);
      // The substrate addresses a RIP-relative operand of the imm8 forms one byte short (it
      // leaves the imm8 out of the instruction's end, docs/unicorn-notes.md), under native
      // and in bt's cache alike, but not from the trampoline that runs far code (in_far_code_).
      const bool rip_relative = dst.type == ZYDIS_OPERAND_TYPE_MEMORY && dst.mem.base == ZYDIS_REGISTER_RIP;
      if (r_.chance(50) && !(in_far_code_ && rip_relative)) {
        return emit(s, m, {dst, reg_op(gpr(src, w)), imm_op(r_.range(0, 63))});
      }
      return emit(s, m, {dst, reg_op(gpr(src, w)), reg_op(ZYDIS_REGISTER_CL)});
    }
    case 8: {  // IMUL r, r/m [, imm]
      const int w = r_.pick({2, 4, 8});
      ZydisEncoderOperand a = r_.chance(60) ? reg_op(gpr(src, w)) : mem(s, mask, w);
      if (r_.chance(50)) return emit(s, ZYDIS_MNEMONIC_IMUL, {reg_op(gpr(d, w)), a});
      return emit(s, ZYDIS_MNEMONIC_IMUL, {reg_op(gpr(d, w)), a, imm_op(imm(w))});
    }
    case 9: {  // LEA with any base and index (no memory access)
      const int w = r_.pick({2, 4, 8, 8});
      const int b = any_reg();
      int i = any_reg();
      if (i == kRsp) i = kRbx;
      const bool use_index = r_.chance(60);
      return emit(s, ZYDIS_MNEMONIC_LEA,
                  {reg_op(gpr(d, w)), mem_op(r_.chance(90) ? kR64[b] : ZYDIS_REGISTER_NONE, use_index ? kR64[i] : ZYDIS_REGISTER_NONE,
                                             r_.pick<uint8_t>({1, 2, 4, 8}), imm(4), 8)});
    }
    case 10: {  // MOVZX/MOVSX/MOVSXD, MOV r64, imm64
      switch (r_.below(4)) {
        case 0: return emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[d]), imm_op(static_cast<int64_t>(value64()))});
        case 1:
        case 2: {
          const int from = r_.pick({1, 2});
          const int to = from == 1 ? r_.pick({2, 4, 8}) : r_.pick({4, 8});
          ZydisEncoderOperand a = r_.chance(60) ? reg_op(gpr(src, from)) : mem(s, mask, from);
          return emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOVSX, {reg_op(gpr(d, to)), a});
        }
        default: {
          ZydisEncoderOperand a = r_.chance(60) ? reg_op(gpr(src, 4)) : mem(s, mask, 4);
          return emit(s, ZYDIS_MNEMONIC_MOVSXD, {reg_op(kR64[d]), a});
        }
      }
    }
    case 11: {  // INC/DEC/NEG/NOT
      const ZydisMnemonic m = r_.pick({ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC, ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_NOT});
      ZydisEncoderOperand dst = r_.chance(70) ? reg_op(gpr(d, sz)) : mem(s, mask, sz);
      return emit(s, m, {dst});
    }
    case 12: return emit(s, ZYDIS_MNEMONIC_BSWAP, {reg_op(gpr(d, r_.pick({4, 8})))});
    case 13: {  // CMOVcc, SETcc
      if (r_.chance(50)) {
        const int w = r_.pick({2, 4, 8});
        ZydisEncoderOperand a = r_.chance(60) ? reg_op(gpr(src, w)) : mem(s, mask, w);
        return emit(s, kCmov[r_.below(16)], {reg_op(gpr(d, w)), a});
      }
      ZydisEncoderOperand dst = r_.chance(70) ? reg_op(gpr(d, 1)) : mem(s, mask, 1);
      return emit(s, kSetcc[r_.below(16)], {dst});
    }
    case 14: {  // BT/BTS/BTR/BTC
      const ZydisMnemonic m = r_.pick({ZYDIS_MNEMONIC_BT, ZYDIS_MNEMONIC_BTS, ZYDIS_MNEMONIC_BTR, ZYDIS_MNEMONIC_BTC});
      const int w = r_.pick({2, 4, 8});
      bool done = false;
      switch (r_.below(3)) {
        case 0: done = emit(s, m, {reg_op(gpr(d, w)), reg_op(gpr(src, w))}); break;
        case 1: done = emit(s, m, {reg_op(gpr(d, w)), imm_op(r_.range(0, 63))}); break;
        default: {
          auto a = mem(s, mask, w);
          done = emit(s, m, {a, imm_op(r_.range(0, 63))});
        }
      }
      return done && define_flags_after_bt(s, mask);
    }
    case 15: {  // XCHG/XADD/CMPXCHG on registers
      const ZydisMnemonic m = r_.pick({ZYDIS_MNEMONIC_XCHG, ZYDIS_MNEMONIC_XADD, ZYDIS_MNEMONIC_CMPXCHG});
      const int other = pick_reg(mask);
      if (m == ZYDIS_MNEMONIC_CMPXCHG && !(mask & bit(kRax))) return false;
      return emit(s, m, {reg_op(gpr(d, sz)), reg_op(gpr(other, sz))});
    }
    case 16: {  // flag instructions and RAX/RDX conversions
      switch (r_.below(9)) {
        case 0: return emit(s, ZYDIS_MNEMONIC_CLC, {});
        case 1: return emit(s, ZYDIS_MNEMONIC_STC, {});
        case 2: return emit(s, ZYDIS_MNEMONIC_CMC, {});
        case 3: return (mask & bit(kRax)) && emit(s, ZYDIS_MNEMONIC_LAHF, {});
        case 4: return emit(s, ZYDIS_MNEMONIC_SAHF, {});
        case 5: return (mask & bit(kRax)) && emit(s, r_.pick({ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWDE, ZYDIS_MNEMONIC_CDQE}), {});
        case 6: return (mask & bit(kRdx)) && emit(s, r_.pick({ZYDIS_MNEMONIC_CWD, ZYDIS_MNEMONIC_CDQ, ZYDIS_MNEMONIC_CQO}), {});
        case 7: return emit(s, ZYDIS_MNEMONIC_NOP, {});
        default: return (mask & bit(kRax)) && (mask & bit(kRbx)) &&
                        emit(s, ZYDIS_MNEMONIC_LEA, {reg_op(ZYDIS_REGISTER_RBX), mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, r_.range(-0x800, 0x700), 8)}) &&
                        emit(s, ZYDIS_MNEMONIC_XLAT, {});
      }
    }
    case 17:
    case 18: {  // RIP-relative loads, stores, ALU
      if (no_rip_) return false;
      auto m = rip_op(kScratch + r_.below(kScratchSize - 16), static_cast<uint16_t>(sz));
      switch (r_.below(4)) {
        case 0: return emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(d, sz)), m});
        case 1: return emit(s, ZYDIS_MNEMONIC_MOV, {m, reg_op(gpr(src, sz))});
        case 2: return emit(s, kAlu[r_.below(kAlu.size())], {m, imm_op(imm(sz))});
        default: return emit(s, kAlu[r_.below(kAlu.size())], {reg_op(gpr(d, sz)), m});
      }
    }
    case 19: {  // BSF/BSR
      const int w = r_.pick({2, 4, 8});
      const ZydisMnemonic m = r_.pick({ZYDIS_MNEMONIC_BSF, ZYDIS_MNEMONIC_BSR});  // POPCNT: #UD on this CPU model
      ZydisEncoderOperand a = r_.chance(60) ? reg_op(gpr(src, w)) : mem(s, mask, w);
      return emit(s, m, {reg_op(gpr(d, w)), a});
    }
    case 20: {  // MOV r, [mem] / MOV [mem], r / MOV [mem], imm
      auto m = mem(s, mask, sz);
      switch (r_.below(3)) {
        case 0: return emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(d, sz)), m});
        case 1: return emit(s, ZYDIS_MNEMONIC_MOV, {m, reg_op(gpr(src, sz))});
        default: return emit(s, ZYDIS_MNEMONIC_MOV, {m, imm_op(imm(sz))});
      }
    }
    default: {  // ADD/SUB r, imm with 8-bit immediates (the short forms)
      return emit(s, r_.pick({ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB}),
                  {reg_op(gpr(d, sz == 1 ? 4 : sz)), imm_op(r_.range(-128, 127))});
    }
  }
}

bool Gen::define_flags_after_bt(Snippet& s, uint32_t mask) {
  const int r = pick_reg(mask);
  const ZydisMnemonic m = r_.chance(50) ? ZYDIS_MNEMONIC_ADC : ZYDIS_MNEMONIC_SBB;
  const int64_t v = r_.range(-128, 127);
  if (opt_.undefined_flags) return true;
  return emit(s, m, {reg_op(kR64[r]), imm_op(v)});
}

void Gen::safes(Snippet& s, uint32_t mask, int lo, int hi) {
  for (int64_t n = r_.range(lo, hi); n > 0; --n) safe(s, mask);
}

void Gen::make_functions() {
  const int n = static_cast<int>(r_.range(2, 4));
  for (int i = 0; i < n; ++i) {
    Function f;
    f.label = new_label();
    f.ret_extra = r_.chance(40) ? static_cast<int>(r_.range(1, 3)) : 0;
    label(f.body, f.label);
    safes(f.body, kAllRegs & ~kPinned, 1, 5);
    if (f.ret_extra) emit(f.body, ZYDIS_MNEMONIC_RET, {imm_op(8 * f.ret_extra)});
    else emit(f.body, ZYDIS_MNEMONIC_RET, {});
    c_.functions.push_back(std::move(f));
  }
}

void Gen::call_padding(Snippet& s, const Function& f) {
  for (int i = 0; i < f.ret_extra; ++i) {
    if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(imm(4))});
    else emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[any_reg()])});
  }
}

void Gen::set_resume(Snippet& s, int resume) {
  emit_ref(s, request(ZYDIS_MNEMONIC_MOV, {rip_op(kResume, 8), imm_op(0)}), 1, resume, false);
}

void Gen::clear_resume(Snippet& s) { emit(s, ZYDIS_MNEMONIC_MOV, {rip_op(kResume, 8), imm_op(0)}); }

void Gen::emit_far_ret(Snippet& s) {
  ZydisEncoderRequest q = request(ZYDIS_MNEMONIC_RET, {});
  q.branch_type = ZYDIS_BRANCH_TYPE_FAR;
  q.branch_width = ZYDIS_BRANCH_WIDTH_64;
  emit(s, q);
}

void Gen::emit_popf_toggling(Snippet& s, int t) {
  emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
  emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])});
  emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(r_.next() & kFlagsToggle))});
  emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
  emit(s, ZYDIS_MNEMONIC_POPFQ, {});
}

Gen::Gib3Page Gen::gib3_page() {
  const uint64_t j = r_.below(512);
  const uint64_t va = 0xc0000000ull + (j << 21);
  const int64_t pde = static_cast<int64_t>(0x6000 + 8 * j);
  const uint64_t original = ((3 * 512 + j) << 21) | 0x87;
  return {va, pde, original};
}

const Kind& Gen::pick_kind() {
  uint64_t w = r_.below(total_weight_);
  for (const Kind* k : menu_) {
    if (w < k->weight) return *k;
    w -= k->weight;
  }
  return *menu_.back();
}

BodySnippet Gen::snippet() {
  const Kind& k = pick_kind();
  BodySnippet b;
  b.kind = k.name;
  for (int tries = 0; tries < 32; ++tries) {
    b.items.clear();
    failed_ = false;
    gen_kind(k.name, b.items);
    if (!failed_) return b;
    ++retries_;
  }
  b.items.clear();
  return b;
}

void Gen::gen_kind(const std::string& kind, Snippet& s) {
  if (kind == "alu") {
    kind_alu(s);
  } else if (kind == "muldiv") {
    kind_muldiv(s);
  } else if (kind == "stack") {
    kind_stack(s);
  } else if (kind == "branch") {
    kind_branch(s);
  } else if (kind == "loop") {
    kind_loop(s);
  } else if (kind == "call") {
    kind_call(s);
  } else if (kind == "indirect") {
    kind_indirect(s);
  } else if (kind == "pushf") {
    kind_pushf(s);
  } else if (kind == "clisti") {
    kind_clisti(s);
  } else if (kind == "atomic") {
    kind_atomic(s);
  } else if (kind == "string" || kind == "repstring") {
    kind_string(s, kind == "repstring");
  } else if (kind == "cpuid") {
    kind_cpuid(s);
  } else if (kind == "rdtsc") {
    kind_rdtsc(s);
  } else if (kind == "msr") {
    kind_msr(s);
  } else if (kind == "fsgs") {
    kind_fsgs(s);
  } else if (kind == "cr") {
    kind_cr(s);
  } else if (kind == "dr") {
    kind_dr(s);
  } else if (kind == "dtables") {
    kind_dtables(s);
  } else if (kind == "sysseg") {
    kind_sysseg(s);
  } else if (kind == "segcheck") {
    kind_segcheck(s);
  } else if (kind == "segregs") {
    kind_segregs(s);
  } else if (kind == "cache") {
    kind_cache(s);
  } else if (kind == "portio") {
    kind_portio(s);
  } else if (kind == "softint") {
    kind_softint(s);
  } else if (kind == "fault") {
    kind_fault(s);
  } else if (kind == "rdrand") {
    kind_rdrand(s);
  } else if (kind == "far") {
    kind_far(s);
  } else if (kind == "user") {
    kind_user(s);
  } else if (kind == "paging") {
    kind_paging(s);
  } else if (kind == "sysfault") {
    kind_sysfault(s);
  } else if (kind == "timer") {
    kind_timer(s);
  } else if (kind == "triplefault") {
    kind_triplefault(s);
  } else if (kind == "alias" || kind == "unmap") {
    kind_alias(s, kind == "unmap");
  } else if (kind == "smc") {
    kind_smc(s);
  }
}

bool Gen::refused(const ZydisEncoderRequest& q) {
  failed_ = true;
  ++refusals_[ZydisMnemonicGetString(q.mnemonic)];
  return false;
}

Case make_case(uint64_t seed, unsigned index, const std::vector<const Kind*>& kinds, const Options& opt) {
  Rng r(seed ^ (0x9e3779b97f4a7c15ull * (index + 1)));
  Case c;
  c.seed = seed;
  c.index = index;
  Gen g(c, r, kinds, opt);
  for (int i = 0; i < 16; ++i) c.regs[i] = g.value64();
  c.flags = (r.next() & kFlagsToggle & ~uint64_t(0x200 | 0x400)) | 2;  // IF and DF start clear
  c.scratch.resize(kScratchSize);
  for (auto& b : c.scratch) b = static_cast<uint8_t>(r.next());
  // bt runs with shadow paging (its default) in half the cases, native paging and EPT in the
  // others.
  switch (index % 6) {
    case 0: case 2: case 4: c.paging = PagingMode::Shadow; break;
    case 1: case 5: c.paging = PagingMode::Native; c.paging_given = true; break;
    default: c.paging = PagingMode::Ept; c.paging_given = true;
  }
  c.straddle = r.chance(25) ? static_cast<int>(r.range(0, 24)) : -1;
  g.make_functions();
  const uint64_t fixed = env_u64("HVSIM_FUZZ_SNIPPETS", 0);
  const uint64_t n = fixed ? fixed : static_cast<uint64_t>(r.range(20, 60));
  if (!kinds.empty()) {
    for (uint64_t i = 0; i < n; ++i) c.body.push_back(g.snippet());
  }
  return c;
}

}  // namespace hvsim::fuzz::bt_diff
