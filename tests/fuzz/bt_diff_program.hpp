#pragma once
// A bt differential case as a program (bt_differential_test.cpp): Zydis encoder requests,
// items with labels (instructions, raw bytes, label definitions) grouped in snippets and
// functions, the case they make up, and the two-pass assembler that lays them out.
#include <Zydis/Zydis.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/mem/paging_mode.hpp"
#include "fuzz_support.hpp"

namespace hvsim::fuzz::bt_diff {

constexpr ZydisRegister kR64[16] = {ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
                                    ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
                                    ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
                                    ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15};
constexpr ZydisRegister kR32[16] = {ZYDIS_REGISTER_EAX,  ZYDIS_REGISTER_ECX,  ZYDIS_REGISTER_EDX,  ZYDIS_REGISTER_EBX,
                                    ZYDIS_REGISTER_ESP,  ZYDIS_REGISTER_EBP,  ZYDIS_REGISTER_ESI,  ZYDIS_REGISTER_EDI,
                                    ZYDIS_REGISTER_R8D,  ZYDIS_REGISTER_R9D,  ZYDIS_REGISTER_R10D, ZYDIS_REGISTER_R11D,
                                    ZYDIS_REGISTER_R12D, ZYDIS_REGISTER_R13D, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R15D};
constexpr ZydisRegister kR16[16] = {ZYDIS_REGISTER_AX,   ZYDIS_REGISTER_CX,   ZYDIS_REGISTER_DX,   ZYDIS_REGISTER_BX,
                                    ZYDIS_REGISTER_SP,   ZYDIS_REGISTER_BP,   ZYDIS_REGISTER_SI,   ZYDIS_REGISTER_DI,
                                    ZYDIS_REGISTER_R8W,  ZYDIS_REGISTER_R9W,  ZYDIS_REGISTER_R10W, ZYDIS_REGISTER_R11W,
                                    ZYDIS_REGISTER_R12W, ZYDIS_REGISTER_R13W, ZYDIS_REGISTER_R14W, ZYDIS_REGISTER_R15W};
constexpr ZydisRegister kR8[16] = {ZYDIS_REGISTER_AL,   ZYDIS_REGISTER_CL,   ZYDIS_REGISTER_DL,   ZYDIS_REGISTER_BL,
                                   ZYDIS_REGISTER_SPL,  ZYDIS_REGISTER_BPL,  ZYDIS_REGISTER_SIL,  ZYDIS_REGISTER_DIL,
                                   ZYDIS_REGISTER_R8B,  ZYDIS_REGISTER_R9B,  ZYDIS_REGISTER_R10B, ZYDIS_REGISTER_R11B,
                                   ZYDIS_REGISTER_R12B, ZYDIS_REGISTER_R13B, ZYDIS_REGISTER_R14B, ZYDIS_REGISTER_R15B};

ZydisRegister gpr(int index, int size);

ZydisEncoderOperand reg_op(ZydisRegister r);
ZydisEncoderOperand imm_op(int64_t v);
ZydisEncoderOperand mem_op(ZydisRegister base, ZydisRegister index, uint8_t scale, int64_t disp, uint16_t size);
// RIP-relative: `address` is absolute (ZydisEncoderEncodeInstructionAbsolute makes it relative).
ZydisEncoderOperand rip_op(uint64_t address, uint16_t size);

ZydisEncoderRequest request(ZydisMnemonic m, std::initializer_list<ZydisEncoderOperand> ops,
                            ZydisInstructionAttributes prefixes = 0);

// ---- programs: items with labels, assembled in two passes --------------------------------------
struct Item {
  enum class Kind { Insn, Raw, Label } kind = Kind::Insn;
  ZydisEncoderRequest req{};
  int label = -1;        // Label: the label defined here; Insn: the label operand `fix` refers to
  int fix = -1;          // operand receiving the label's address (immediate or memory displacement)
  bool branch = false;   // the fixed operand is a relative branch target
  int64_t addend = 0;    // added to the label's address
  Bytes raw;
};
using Snippet = std::vector<Item>;

struct Function {
  int label = -1;
  int ret_extra = 0;  // RET imm16 pops this many qwords more
  Snippet body;
};

struct BodySnippet {
  std::string kind;
  Snippet items;
};

// Everything a case is made of; the image is assembled from it (with a subset of the body
// snippets when reducing).
struct Case {
  uint64_t seed = 0;
  unsigned index = 0;
  std::array<uint64_t, 16> regs{};
  uint64_t flags = 2;
  std::vector<Function> functions;
  std::vector<BodySnippet> body;
  Bytes scratch;
  int labels = 0;
  PagingMode paging = PagingMode::Shadow;
  bool paging_given = false;
  int straddle = -1;  // >= 0: the body starts this many bytes below 0x101000 (after a JMP over padding)
};

// Encodes `q` at `address` into `out` (ZYDIS_MAX_INSTRUCTION_LENGTH bytes); false when the
// encoder refuses it.
bool encode(const ZydisEncoderRequest& q, uint64_t address, uint8_t* out, size_t& len);

// Puts `value` into operand `fix`: a memory operand's displacement, or an immediate.
void set_fix(ZydisEncoderRequest& q, int fix, uint64_t value);

struct Assembler {
  Bytes code;                        // from kBase
  std::vector<uint64_t> labels;      // addresses
  std::string error;
  struct Mark {
    uint64_t address;
    std::string text;
  };
  std::vector<Mark> marks;           // snippet boundaries, for the disassembly

  // Appends the items at the end of `code`; pass 1 (no label addresses yet) and pass 2 must
  // give every instruction the same length (fixed branch widths, imm32/disp32 label fields).
  bool add(const Snippet& s, bool final_pass);
  bool fail(const std::string& e);
};

}  // namespace hvsim::fuzz::bt_diff
