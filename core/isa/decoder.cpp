#include "core/isa/decoder.hpp"

namespace hvsim {
namespace {
const ZydisDecoder& decoder() {
  static const ZydisDecoder d = [] {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    return dec;
  }();
  return d;
}
const ZydisFormatter& formatter() {
  static const ZydisFormatter f = [] {
    ZydisFormatter fmt;
    ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
    return fmt;
  }();
  return f;
}
}  // namespace

std::optional<Instruction> decode_instruction(const uint8_t* bytes, size_t size, uint64_t address) {
  Instruction insn;
  insn.address = address;
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder(), bytes, size, &insn.info, insn.operands))) {
    return std::nullopt;
  }
  return insn;
}

std::string Instruction::text() const {
  char buf[256];
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter(), &info, operands,
                                                    info.operand_count_visible, buf, sizeof buf,
                                                    address, nullptr))) {
    return "(unformattable)";
  }
  return buf;
}

}  // namespace hvsim
