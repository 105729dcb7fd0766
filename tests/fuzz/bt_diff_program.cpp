#include "bt_diff_program.hpp"

#include <cstring>

#include "bt_diff_layout.hpp"

namespace hvsim::fuzz::bt_diff {

ZydisRegister gpr(int index, int size) {
  switch (size) {
    case 1: return kR8[index];
    case 2: return kR16[index];
    case 4: return kR32[index];
    default: return kR64[index];
  }
}

ZydisEncoderOperand reg_op(ZydisRegister r) {
  ZydisEncoderOperand o{};
  o.type = ZYDIS_OPERAND_TYPE_REGISTER;
  o.reg.value = r;
  return o;
}
ZydisEncoderOperand imm_op(int64_t v) {
  ZydisEncoderOperand o{};
  o.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
  o.imm.s = v;
  return o;
}
ZydisEncoderOperand mem_op(ZydisRegister base, ZydisRegister index, uint8_t scale, int64_t disp, uint16_t size) {
  ZydisEncoderOperand o{};
  o.type = ZYDIS_OPERAND_TYPE_MEMORY;
  o.mem.base = base;
  o.mem.index = index;
  o.mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : scale;
  o.mem.displacement = disp;
  o.mem.size = size;
  return o;
}
ZydisEncoderOperand rip_op(uint64_t address, uint16_t size) {
  return mem_op(ZYDIS_REGISTER_RIP, ZYDIS_REGISTER_NONE, 0, static_cast<int64_t>(address), size);
}

ZydisEncoderRequest request(ZydisMnemonic m, std::initializer_list<ZydisEncoderOperand> ops,
                            ZydisInstructionAttributes prefixes) {
  ZydisEncoderRequest q;
  std::memset(&q, 0, sizeof q);
  q.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  q.mnemonic = m;
  q.prefixes = prefixes;
  for (const auto& o : ops) q.operands[q.operand_count++] = o;
  return q;
}

bool encode(const ZydisEncoderRequest& q, uint64_t address, uint8_t* out, size_t& len) {
  ZydisEncoderRequest copy = q;
  ZyanUSize n = ZYDIS_MAX_INSTRUCTION_LENGTH;
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&copy, out, &n, address))) return false;
  len = n;
  return true;
}

void set_fix(ZydisEncoderRequest& q, int fix, uint64_t value) {
  ZydisEncoderOperand& o = q.operands[fix];
  if (o.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    o.mem.displacement = static_cast<int64_t>(value);
  } else {
    o.imm.u = value;
  }
}

bool Assembler::add(const Snippet& s, bool final_pass) {
  for (const Item& it : s) {
    const uint64_t at = kBase + code.size();
    switch (it.kind) {
      case Item::Kind::Label:
        if (!final_pass) labels[it.label] = at;
        else if (labels[it.label] != at) return fail("label moved between passes");
        break;
      case Item::Kind::Raw:
        code.insert(code.end(), it.raw.begin(), it.raw.end());
        break;
      case Item::Kind::Insn: {
        ZydisEncoderRequest q = it.req;
        if (it.label >= 0) {
          uint64_t target = final_pass ? labels[it.label] : (it.branch ? at : kBase);
          set_fix(q, it.fix, target + static_cast<uint64_t>(it.addend));
        }
        uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
        size_t len = 0;
        if (!encode(q, at, buf, len)) {
          return fail("cannot encode " + std::string(ZydisMnemonicGetString(q.mnemonic)) + " at " + hex(at));
        }
        code.insert(code.end(), buf, buf + len);
        break;
      }
    }
  }
  return true;
}

bool Assembler::fail(const std::string& e) {
  error = e;
  return false;
}

}  // namespace hvsim::fuzz::bt_diff
