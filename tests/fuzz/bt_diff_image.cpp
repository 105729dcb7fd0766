#include "bt_diff_image.hpp"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "bt_diff_generator.hpp"
#include "bt_diff_layout.hpp"

namespace hvsim::fuzz::bt_diff {
namespace {

// Vectors with a gate, and which of them push an error code.
bool has_gate(unsigned v) { return v < 32 || (v >= 0x40 && v <= 0x47) || v == 0x80; }
bool pushes_error(unsigned v) { return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30; }

}  // namespace

Image build_image(const Case& c, const std::vector<bool>& keep) {
  Image img;
  // Labels: the case's own, then the epilogue's and the handler's.
  int labels = c.labels;
  const int exit_label = labels++;
  const int common = labels++;
  const int ret_normal = labels++;
  const int unexpected = labels++;
  const int body_label = labels++;
  std::array<int, 256> stub{};
  for (unsigned v = 0; v < 256; ++v) stub[v] = has_gate(v) ? labels++ : -1;

  Rng dummy(0);
  Case scratch_case;
  Gen g(scratch_case, dummy, {});
  Snippet pro, epi, handler;
  // prologue
  g.emit(pro, ZYDIS_MNEMONIC_LIDT, {rip_op(kIdtrImage, 10)});
  g.emit(pro, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_R14), imm_op(static_cast<int64_t>(kScratchMid))});
  for (int i = 0; i < 16; ++i) {
    if (i == kRsp || i == kR14) continue;
    g.emit(pro, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[i]), imm_op(static_cast<int64_t>(c.regs[i]))});
  }
  g.emit(pro, ZYDIS_MNEMONIC_PUSH, {imm_op(static_cast<int64_t>(c.flags))});
  g.emit(pro, ZYDIS_MNEMONIC_POPFQ, {});
  // epilogue: every GPR and RFLAGS into the system page, then the debug exit
  for (int i = 0; i < 16; ++i) g.emit(epi, ZYDIS_MNEMONIC_MOV, {rip_op(kSave + 8 * i, 8), reg_op(kR64[i])});
  g.emit(epi, ZYDIS_MNEMONIC_PUSHFQ, {});
  g.emit(epi, ZYDIS_MNEMONIC_POP, {rip_op(kSave + 8 * 16, 8)});
  Gen::label(epi, exit_label);
  g.emit(epi, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(0)});
  g.emit(epi, ZYDIS_MNEMONIC_OUT, {imm_op(0xf4), reg_op(ZYDIS_REGISTER_AL)});
  g.emit(epi, ZYDIS_MNEMONIC_HLT, {});
  // exception stubs: push 0 (no error code), push vector, jmp common
  for (unsigned v = 0; v < 256; ++v) {
    if (stub[v] < 0) continue;
    Gen::label(handler, stub[v]);
    if (!pushes_error(v)) g.emit(handler, ZYDIS_MNEMONIC_PUSH, {imm_op(0)});
    g.emit(handler, ZYDIS_MNEMONIC_PUSH, {imm_op(static_cast<int64_t>(v))});
    ZydisEncoderRequest j = request(ZYDIS_MNEMONIC_JMP, {imm_op(0)});
    j.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
    j.branch_width = ZYDIS_BRANCH_WIDTH_32;
    g.emit_ref(handler, j, 0, common, true);
  }
  // common: [rsp] rcx, rbx, rax, vector, error, rip, cs, rflags, rsp, ss
  Gen::label(handler, common);
  g.emit(handler, ZYDIS_MNEMONIC_PUSH, {reg_op(ZYDIS_REGISTER_RAX)});
  g.emit(handler, ZYDIS_MNEMONIC_PUSH, {reg_op(ZYDIS_REGISTER_RBX)});
  g.emit(handler, ZYDIS_MNEMONIC_PUSH, {reg_op(ZYDIS_REGISTER_RCX)});
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RAX), rip_op(kExcCount, 8)});
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EBX), reg_op(ZYDIS_REGISTER_EAX)});
  g.emit(handler, ZYDIS_MNEMONIC_AND, {reg_op(ZYDIS_REGISTER_EBX), imm_op(7)});
  g.emit(handler, ZYDIS_MNEMONIC_SHL, {reg_op(ZYDIS_REGISTER_EBX), imm_op(6)});
  g.emit(handler, ZYDIS_MNEMONIC_ADD, {reg_op(ZYDIS_REGISTER_RBX), imm_op(static_cast<int64_t>(kExcRing))});
  g.emit(handler, ZYDIS_MNEMONIC_INC, {reg_op(ZYDIS_REGISTER_RAX)});
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {rip_op(kExcCount, 8), reg_op(ZYDIS_REGISTER_RAX)});
  for (int i = 0; i < 7; ++i) {  // vector, error, rip, cs, rflags, rsp, ss
    g.emit(handler, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RCX), mem_op(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, 24 + 8 * i, 8)});
    g.emit(handler, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_NONE, 0, 8 * i, 8), reg_op(ZYDIS_REGISTER_RCX)});
  }
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RCX), reg_op(ZYDIS_REGISTER_CR2)});
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_NONE, 0, 56, 8), reg_op(ZYDIS_REGISTER_RCX)});
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RAX), mem_op(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, 24, 8)});
  // INT3 and vectors >= 32 return to the next instruction; faults go to the resume address
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RBX), rip_op(kResume, 8)});
  g.emit(handler, ZYDIS_MNEMONIC_TEST, {reg_op(ZYDIS_REGISTER_RBX), reg_op(ZYDIS_REGISTER_RBX)});
  auto jcc = [&](ZydisMnemonic m, int l) {
    ZydisEncoderRequest q = request(m, {imm_op(0)});
    q.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
    q.branch_width = ZYDIS_BRANCH_WIDTH_32;
    g.emit_ref(handler, q, 0, l, true);
  };
  g.emit(handler, ZYDIS_MNEMONIC_CMP, {reg_op(ZYDIS_REGISTER_EAX), imm_op(3)});
  jcc(ZYDIS_MNEMONIC_JZ, ret_normal);
  g.emit(handler, ZYDIS_MNEMONIC_CMP, {reg_op(ZYDIS_REGISTER_EAX), imm_op(32)});
  jcc(ZYDIS_MNEMONIC_JNB, ret_normal);
  g.emit(handler, ZYDIS_MNEMONIC_TEST, {reg_op(ZYDIS_REGISTER_RBX), reg_op(ZYDIS_REGISTER_RBX)});
  jcc(ZYDIS_MNEMONIC_JZ, unexpected);
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {mem_op(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, 40, 8), reg_op(ZYDIS_REGISTER_RBX)});
  g.emit(handler, ZYDIS_MNEMONIC_MOV, {rip_op(kResume, 8), imm_op(0)});
  Gen::label(handler, ret_normal);
  g.emit(handler, ZYDIS_MNEMONIC_POP, {reg_op(ZYDIS_REGISTER_RCX)});
  g.emit(handler, ZYDIS_MNEMONIC_POP, {reg_op(ZYDIS_REGISTER_RBX)});
  g.emit(handler, ZYDIS_MNEMONIC_POP, {reg_op(ZYDIS_REGISTER_RAX)});
  g.emit(handler, ZYDIS_MNEMONIC_ADD, {reg_op(ZYDIS_REGISTER_RSP), imm_op(16)});
  g.emit(handler, ZYDIS_MNEMONIC_IRETQ, {});
  Gen::label(handler, unexpected);  // exit status 0x80 | vector
  g.emit(handler, ZYDIS_MNEMONIC_OR, {reg_op(ZYDIS_REGISTER_EAX), imm_op(0x80)});
  g.emit(handler, ZYDIS_MNEMONIC_OUT, {imm_op(0xf4), reg_op(ZYDIS_REGISTER_AL)});
  g.emit(handler, ZYDIS_MNEMONIC_HLT, {});

  Assembler a;
  a.labels.assign(static_cast<size_t>(labels), kBase);
  for (int pass = 0; pass < 2; ++pass) {
    const bool final_pass = pass == 1;
    a.code.clear();
    a.marks.clear();
    bool ok = a.add(pro, final_pass);
    if (ok && c.straddle >= 0) {  // instructions of the body cross the page boundary at 0x101000
      Snippet pad;
      ZydisEncoderRequest j = request(ZYDIS_MNEMONIC_JMP, {imm_op(0)});
      j.branch_type = ZYDIS_BRANCH_TYPE_NEAR;
      j.branch_width = ZYDIS_BRANCH_WIDTH_32;
      g.emit_ref(pad, j, 0, body_label, true);
      const size_t at = a.code.size() + 5, want = 0x1000 - static_cast<size_t>(c.straddle);
      Gen::raw(pad, Bytes(want > at ? want - at : 0, 0xcc));
      Gen::label(pad, body_label);
      ok = a.add(pad, final_pass);
    }
    img.body_begin = kBase + a.code.size();
    for (size_t i = 0; ok && i < c.body.size(); ++i) {
      if (!keep[i]) continue;
      a.marks.push_back({kBase + a.code.size(), "snippet " + std::to_string(i) + " (" + c.body[i].kind + ")"});
      ok = a.add(c.body[i].items, final_pass);
    }
    img.body_end = kBase + a.code.size();
    if (ok) a.marks.push_back({img.body_end, "epilogue"});
    ok = ok && a.add(epi, final_pass);
    for (size_t i = 0; ok && i < c.functions.size(); ++i) {
      a.marks.push_back({kBase + a.code.size(), "function " + std::to_string(i) +
                                                    (c.functions[i].ret_extra ? " (RET imm16)" : "")});
      ok = a.add(c.functions[i].body, final_pass);
    }
    if (ok) a.marks.push_back({kBase + a.code.size(), "exception stubs and handler"});
    ok = ok && a.add(handler, final_pass);
    if (!ok) {
      img.error = a.error;
      return img;
    }
  }
  if (a.code.size() > kCodeLimit) {
    img.error = "code too large: " + std::to_string(a.code.size()) + " bytes";
    return img;
  }
  img.code_end = kBase + a.code.size();
  img.marks = a.marks;
  img.bytes.assign(kImageSize, 0);
  std::copy(a.code.begin(), a.code.end(), img.bytes.begin());
  // IDT: interrupt gates below 32 (#DE and #BP on IST1), trap gates above
  for (unsigned v = 0; v < 256; ++v) {
    if (stub[v] < 0) continue;
    const uint64_t h = a.labels[stub[v]];
    const uint64_t type = v < 32 || (v >= 0x44 && v <= 0x47) ? 0xe : 0xf;  // 0x44-0x47: the timer's
    // #SS, #GP and #PF on IST1 too: faults of pushes on a bad stack are delivered
    const uint64_t ist = (v == 0 || v == 3 || v == 12 || v == 13 || v == 14) ? 1 : 0;
    const uint64_t lo = (h & 0xffff) | (0x08ull << 16) | (ist << 32) | (type << 40) | (1ull << 47) | (((h >> 16) & 0xffff) << 48);
    const uint64_t hi = h >> 32;
    std::memcpy(&img.bytes[kIdt - kBase + 16 * v], &lo, 8);
    std::memcpy(&img.bytes[kIdt - kBase + 16 * v + 8], &hi, 8);
  }
  const uint16_t limit = 0xfff;
  std::memcpy(&img.bytes[kIdtrImage - kBase], &limit, 2);
  std::memcpy(&img.bytes[kIdtrImage - kBase + 2], &kIdt, 8);
  std::copy(c.scratch.begin(), c.scratch.end(), img.bytes.begin() + static_cast<long>(kScratch - kBase));
  return img;
}

std::string disassemble(const Image& img, uint64_t from, uint64_t to) {
  std::string out;
  size_t mark = 0;
  uint64_t at = from;
  while (at < to) {
    while (mark < img.marks.size() && img.marks[mark].address <= at) {
      if (img.marks[mark].address == at) out += "  ; " + img.marks[mark].text + "\n";
      ++mark;
    }
    ZydisDisassembledInstruction d;
    const uint8_t* p = img.bytes.data() + (at - kBase);
    if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, at, p, to - at, &d))) {
      char line[64];
      std::snprintf(line, sizeof line, "  %llx  %02x  (bad)\n", static_cast<unsigned long long>(at), *p);
      out += line;
      ++at;
      continue;
    }
    char bytes[64] = {};
    for (unsigned i = 0; i < d.info.length && i < 15; ++i) std::snprintf(bytes + 3 * i, 4, "%02x ", p[i]);
    char line[256];
    std::snprintf(line, sizeof line, "  %llx  %-33s %s\n", static_cast<unsigned long long>(at), bytes, d.text);
    out += line;
    at += d.info.length;
  }
  return out;
}

}  // namespace hvsim::fuzz::bt_diff
