// Differential fuzzing of the bt engine (issue 6): random kernel-mode instruction sequences,
// encoded with Zydis' encoder as flat guests, run under `native` and under `bt`; the two runs
// must end the same way with the same registers, flags, system state, memory and console.
//
// Each case is one flat image (docs/flat-guests.md), derived from (seed, index) alone:
//   code     0x100000  prologue (LIDT of the image's own IDT, known register values, random
//                      flags), in a quarter of the cases a JMP over padding so that the body
//                      straddles 0x101000, the body (20-60 random snippets from the weighted
//                      menu kKinds), the epilogue (every GPR and RFLAGS stored, then OUT 0xf4
//                      ends the run), small local functions (RET, RET imm16), the exception
//                      stubs and their handler
//   IDT      0x104000  gates 0-31, 0x40-0x47, 0x80 (the others not present); #DE, #BP, #SS,
//                      #GP and #PF on IST1; 0x44-0x47 (the timer's) are interrupt gates
//   system   0x105000  IDTR images, the resume slot, exception records, saved registers
//   scratch  0x106000  8 KiB of random bytes; R14 points at its middle (never written)
// The handler records every exception and interrupt (vector, error code, frame, CR2) and, for
// a fault, resumes at the address the snippet put in the resume slot; an exception nobody
// expected ends the run with exit status 0x80 | vector. A saved image runs on its own:
// `hvsim run --flat X.bin [--engine bt]`, or HVSIM_FUZZ_IMAGE below.
//
// Compared: the run's end and exit status, instructions retired and virtual time, GPRs, RIP,
// RFLAGS, CR0/2/3/4/8, EFER, segment registers (selector, base, limit, attributes), FS/GS/
// KERNEL_GS base, TSC_AUX, GDTR/IDTR/LDTR/TR, the whole image (code, IDT, system page,
// scratch), the stack and IST1 pages, the page tables (accessed/dirty bits), console output,
// exceptions and interrupts delivered. bt runs with shadow paging (its default) in half the
// cases, with native paging or EPT in the others.
//
// What bt or the CPU substrate gets wrong is kept out of the default run, so that ctest stays
// green, and comes back on demand: the kinds in kKnownBrokenInBt (HVSIM_FUZZ_ONLY_KINDS) and
// the switches of Options (HVSIM_FUZZ_LOOPE, _CMPXCHG8B, _UNDEFINED_FLAGS, _FAST_TIMER,
// _FAST_TIMER); each says what goes wrong, with a reproducer. What was fixed is in the
// default run (its switches, _BT_NONCANONICAL, _IRQ_WINDOWS and _BT_FAR_CODE, = 0 turn it off).
//
// Environment (as guest_fuzz_test.cpp):
//   HVSIM_FUZZ_SEED=<n>     another seed (default 0xb7d1ff01)
//   HVSIM_FUZZ_COUNT=<n>    another number of cases (default 300; 10000 take about 2 minutes)
//   HVSIM_FUZZ_ONLY=<i>     run case <i> only
//   HVSIM_FUZZ_SAVE=1       write each case's image to bt-diff-case-<seed>-<index>.bin
//   HVSIM_FUZZ_PRINT=1      print each case's disassembly and exception records (with ONLY)
//   HVSIM_FUZZ_REDUCE=1     on a mismatch, drop snippets while its first difference stays the
//                           same kind, then print (and save) the smallest program found
//   HVSIM_FUZZ_SNIPPETS=<n> body length in snippets (default: 20-60 per case)
//   HVSIM_FUZZ_ONLY_KINDS=a,b   draw snippets from these kinds only (known-broken ones too)
//   HVSIM_FUZZ_EXCLUDE=a,b  never draw these kinds
//   HVSIM_FUZZ_WATCHDOG_MS=<n>  wall-clock limit of one run (default 5000)
//   HVSIM_FUZZ_MAX_FAILURES=<n> stop after this many failing cases (default 5)
//   HVSIM_FUZZ_IMAGE=<file> run one flat image (a saved case) under both engines instead,
//                           bt with HVSIM_FUZZ_PAGING=shadow|native|ept (default shadow)
// A failure prints the seed, the case index, the differences, both runs' exception records
// and the body's disassembly, and saves the image to bt-diff-failure-<seed>-<index>.bin.
#include <doctest/doctest.h>

#include <Zydis/Zydis.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/machine_builder.hpp"
#include "core/vm/flat_loader.hpp"
#include "translator/bt_engine.hpp"

using namespace hvsim;

namespace {

constexpr uint64_t kDefaultSeed = 0xb7d1ff01;
constexpr unsigned kDefaultCount = 300;
constexpr uint64_t kBudget = 200000;

// ---- the image -------------------------------------------------------------------------------
constexpr uint64_t kBase = kFlatLoadAddress;     // 0x100000
constexpr uint64_t kCodeLimit = 0x4000;          // code in [kBase, kBase + kCodeLimit)
constexpr uint64_t kIdt = kBase + 0x4000;        // 256 gates
constexpr uint64_t kSys = kBase + 0x5000;        // descriptors, records, saved registers
constexpr uint64_t kScratch = kBase + 0x6000;    // random data
constexpr uint64_t kScratchSize = 0x2000;
constexpr uint64_t kScratchMid = kScratch + 0x1000;  // R14
constexpr uint64_t kImageSize = 0x8000;
// in the system page
constexpr uint64_t kIdtrImage = kSys + 0x00;   // 10 bytes: limit, base
constexpr uint64_t kResume = kSys + 0x10;      // where the handler resumes after a fault
constexpr uint64_t kExcCount = kSys + 0x18;    // exceptions taken
constexpr uint64_t kRspSlot = kSys + 0x20;     // RSP saved by snippets that move the stack
constexpr uint64_t kEmptyIdtr = kSys + 0x28;   // 10 bytes of zeros: an IDT with limit 0
constexpr uint64_t kExcRing = kSys + 0x40;     // 8 records of 64 bytes
constexpr uint64_t kSave = kSys + 0x300;       // 16 GPRs, RFLAGS
constexpr uint64_t kSlots = kSys + 0x400;      // indirect branch targets
// compared outside the image: the stack below 0x80000 and the IST1 stack below 0x70000
constexpr uint64_t kStackLow = kFlatStackTop - 0x2000;
constexpr uint64_t kTablesLow = kFlatPml4, kTablesHigh = kFlatGdt;  // PML4, PDPT, PDs (A/D bits)
constexpr uint64_t kIstLow = kFlatIst1Top - 0x1000;

constexpr int kRsp = 4, kR14 = 14, kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3, kRsi = 6, kRdi = 7;
constexpr uint32_t kAllRegs = 0xffff;
constexpr uint32_t kPinned = (1u << kRsp) | (1u << kR14);
constexpr uint32_t bit(int r) { return 1u << r; }

// RFLAGS bits a POPF may toggle: the arithmetic flags, DF, IF, IOPL and ID; never TF, NT, AC,
// RF (TF would single-step, NT makes IRETQ fault, AC is left alone).
constexpr uint64_t kFlagsToggle = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800 | 0x200 | 0x3000 | 0x200000;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

std::set<std::string> env_list(const char* name) {
  std::set<std::string> out;
  const char* v = std::getenv(name);
  if (!v) return out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}

// SplitMix64, as guest_fuzz_test.cpp: the same sequence on every platform.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1))); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T>
  T pick(std::initializer_list<T> v) { return v.begin()[below(v.size())]; }
};

using Bytes = std::vector<uint8_t>;

// ---- Zydis requests ---------------------------------------------------------------------------
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
// RIP-relative: `address` is absolute (ZydisEncoderEncodeInstructionAbsolute makes it relative).
ZydisEncoderOperand rip_op(uint64_t address, uint16_t size) {
  return mem_op(ZYDIS_REGISTER_RIP, ZYDIS_REGISTER_NONE, 0, static_cast<int64_t>(address), size);
}

ZydisEncoderRequest request(ZydisMnemonic m, std::initializer_list<ZydisEncoderOperand> ops,
                            ZydisInstructionAttributes prefixes = 0) {
  ZydisEncoderRequest q;
  std::memset(&q, 0, sizeof q);
  q.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  q.mnemonic = m;
  q.prefixes = prefixes;
  for (const auto& o : ops) q.operands[q.operand_count++] = o;
  return q;
}

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
  bool add(const Snippet& s, bool final_pass) {
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
  bool fail(const std::string& e) {
    error = e;
    return false;
  }
};

// ---- the generator --------------------------------------------------------------------------
constexpr std::array<ZydisMnemonic, 16> kJcc = {
    ZYDIS_MNEMONIC_JB,  ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JL,  ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNB, ZYDIS_MNEMONIC_JNBE,
    ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JNLE, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JNP, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JNZ,
    ZYDIS_MNEMONIC_JO,  ZYDIS_MNEMONIC_JP,  ZYDIS_MNEMONIC_JS,  ZYDIS_MNEMONIC_JZ};
constexpr std::array<ZydisMnemonic, 16> kCmov = {
    ZYDIS_MNEMONIC_CMOVB,  ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVL,  ZYDIS_MNEMONIC_CMOVLE,
    ZYDIS_MNEMONIC_CMOVNB, ZYDIS_MNEMONIC_CMOVNBE, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVNLE,
    ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVNP, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVNZ,
    ZYDIS_MNEMONIC_CMOVO,  ZYDIS_MNEMONIC_CMOVP,  ZYDIS_MNEMONIC_CMOVS,  ZYDIS_MNEMONIC_CMOVZ};
constexpr std::array<ZydisMnemonic, 16> kSetcc = {
    ZYDIS_MNEMONIC_SETB,  ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETL,  ZYDIS_MNEMONIC_SETLE,
    ZYDIS_MNEMONIC_SETNB, ZYDIS_MNEMONIC_SETNBE, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETNLE,
    ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETNP, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETNZ,
    ZYDIS_MNEMONIC_SETO,  ZYDIS_MNEMONIC_SETP,  ZYDIS_MNEMONIC_SETS,  ZYDIS_MNEMONIC_SETZ};
constexpr std::array<ZydisMnemonic, 9> kAlu = {ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,  ZYDIS_MNEMONIC_ADC,
                                               ZYDIS_MNEMONIC_SBB, ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB,
                                               ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_MOV};
constexpr std::array<ZydisMnemonic, 7> kShift = {ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR,
                                                 ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL,
                                                 ZYDIS_MNEMONIC_RCR};

// Selectors for LAR/LSL/VERR/VERW: the flat GDT's (docs/flat-guests.md), RPL variants, the
// TSS's upper half, beyond the limit, null.
constexpr std::array<uint16_t, 16> kSelectors = {0x00, 0x08, 0x0b, 0x10, 0x13, 0x18, 0x1b, 0x20,
                                                 0x23, 0x28, 0x2b, 0x30, 0x38, 0x40, 0x04, 0xfff8};
// Vectors with a gate, and which of them push an error code.
bool has_gate(unsigned v) { return v < 32 || (v >= 0x40 && v <= 0x47) || v == 0x80; }
bool pushes_error(unsigned v) { return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30; }

struct Kind {
  const char* name;
  unsigned weight;
  const char* what;
};
// The menu. Weights are relative.
const std::vector<Kind> kKinds = {
    {"alu", 20, "ALU, shifts, multiply, LEA, MOV, CMOV/SETcc, bit ops on registers, memory, RIP-relative"},
    {"muldiv", 3, "MUL/IMUL/DIV/IDIV with RDX:RAX (no #DE)"},
    {"stack", 5, "balanced PUSH/POP of registers, immediates, memory; 16-bit pushes; ENTER/LEAVE"},
    {"branch", 6, "forward JMP/Jcc (rel8 and rel32) over a few instructions"},
    {"loop", 3, "backward counted loops: DEC/JNZ, LOOP, LOOPE/LOOPNE; JRCXZ"},
    {"call", 4, "direct CALL of a local function (RET, RET imm16)"},
    {"indirect", 4, "JMP/CALL through a register, a memory slot, a RIP-relative slot"},
    {"pushf", 4, "PUSHF/POPF (64- and 16-bit) changing arithmetic flags, DF, IF, IOPL, ID"},
    {"clisti", 3, "CLI, STI, STI's shadow"},
    {"atomic", 3, "XCHG, XADD, CMPXCHG, CMPXCHG8B/16B, LOCK-prefixed ALU on memory"},
    {"string", 2, "MOVS/STOS/LODS/CMPS/SCAS without REP, CLD/STD"},
    {"repstring", 3, "REP MOVS/STOS/LODS, REPE/REPNE CMPS/SCAS with RCX 0-64, CLD/STD"},
    {"cpuid", 2, "CPUID of assorted leaves"},
    {"rdtsc", 2, "RDTSC, RDTSCP (virtual time)"},
    {"msr", 2, "RDMSR/WRMSR of the implemented MSRs (TSC, TSC_AUX, STAR, LSTAR, ...)"},
    {"fsgs", 2, "FS/GS base by WRMSR, FS:/GS: accesses, SWAPGS"},
    {"cr", 3, "MOV from CR0/2/3/4/8, CR3 reload, CR8 writes, CR0.WP and CR4.PGE toggles, CR2 writes"},
    {"dr", 1, "MOV from DR0-3/6/7, MOV to DR0-3"},
    {"dtables", 2, "SGDT/SIDT into memory, LGDT/LIDT reloading the same tables"},
    {"sysseg", 2, "STR/SLDT, LLDT null, SMSW, LMSW, CLTS"},
    {"segcheck", 2, "LAR/LSL/VERR/VERW on the flat GDT's selectors"},
    {"segregs", 2, "PUSH/POP FS/GS, MOV from segment registers, MOV to DS/ES/FS/GS/SS"},
    {"cache", 2, "WBINVD, INVD, INVLPG on scratch pages, PAUSE, fences, CLFLUSH"},
    {"portio", 2, "IN/OUT to COM1 and unclaimed ports, REP INS/OUTS"},
    {"softint", 2, "INT n through trap gates, INT3 (IST1)"},
    {"fault", 3, "#DE (IST1), #UD, #GP, #PF, #NP, #DB (INT1): delivered, recorded, resumed"},
    {"rdrand", 1, "RDRAND/RDSEED (seeded, so both runs see the same values)"},
    {"far", 2, "far RET and far JMP through memory to CS 0x08, IRETQ to the same CPL with new flags"},
    {"user", 2, "SYSRETQ to CPL 3, user code (ALU, memory, RDTSC, CPUID, PUSHF/POPF), SYSCALL back"},
    {"paging", 2, "rewrite a PDE of the 3 GiB region: alias of the image, read-only, not present, another "
                  "frame; INVLPG or CR3 reload; accesses and #PF through it; then restored"},
    {"sysfault", 3, "sensitive instructions that fault: SGDT/SIDT/STR/SMSW/LGDT to unmapped memory, segment "
                    "loads of bad selectors (MOV, POP), LLDT/LTR, CR8 > 15, IRETQ/RETF to bad CS, pushes "
                    "(CALL, PUSH, PUSHF, PUSH FS, INT, ENTER) on an unmapped or non-canonical stack"},
    {"smc", 2, "a store into the immediate of an instruction ahead in the same fragment"},
    {"alias", 2, "a local function called through an alias above 3 GiB (a PDE of PD 3 pointed at frame 0)"},
    {"unmap", 2, "the same, then the alias unmapped (INVLPG) and called again: #PF on the fetch; maybe mapped "
                 "again and called a third time"},
    {"timer", 2, "the test timer (interrupt gates 0x44-0x47) armed, STI, a loop, maybe HLT, CLI, disarmed"},
    {"triplefault", 1, "LIDT of an empty IDT, then a fault in an instruction bt emulates or runs in the cache: "
                       "the run ends in a triple fault"},
};

// Kinds left out of the default menu because bt gets a whole category wrong (listed in the
// final message; HVSIM_FUZZ_ONLY_KINDS brings them back). Empty when everything agrees.
// Found by this fuzzer and fixed (each has a flat guest, tests/translator/guests/bt_*.asm):
//   triplefault: an exception bt raised for an instruction it emulates that ended in a triple
//     fault ended the run as "exited, status 0".
//   repstring: REP MOVS (and any REP string instruction that began a fragment) retired one
//     instruction more under bt: `mov rdi, 0x200000; mov rsi, 0x200000; mov ecx, 1; rep
//     movsb; rdtsc` gave RAX 4 under native, 5 under bt. QEMU runs each further iteration of a
//     REP instruction as a block of its own at the instruction, and the CPU adapter took the
//     first of those for a restarted block (uncharging the instruction) only when it missed
//     its block cache, which depended on where the next block began, never at a fragment
//     start; and a stop between iterations (shadow paging's sync after MOVS first stored to a
//     page it had read) counted the resumed instruction as started afresh. Now the adapter
//     tells a REP instruction's next iteration from the block before it (across a stop too)
//     and reads the count register: one retirement per iteration, one when there is none
//     (bt_rep_count). Native's count changed too where it had depended on the layout.
//   smc: a store to the instruction right after it in the same block ran the old translation
//     (bt noticed code writes at the next block boundary): `mov byte [rel L+3], 0x7f; L: add
//     rax, 5` gave 0x7f native, 5 bt. Now a store from a fragment to a frame holding
//     translated code stops before it (the adapter's code write barrier); the instruction runs
//     alone from a step fragment, and the changed fragments are dropped before the next
//     instruction is translated anew (bt_smc_next). Native overcounted such a store when it
//     was the first instruction of its block (QEMU's restart there went unnoticed); fixed too.
//   unmap: bt kept running a translation after its code was unmapped (PDE cleared, INVLPG):
//     map 0xc0000000 to frame 0, call f's alias (f: `inc rcx; ret`), clear the PDE, INVLPG,
//     call it again: native took the #PF of the fetch (error 0x10, CR2 the alias); bt ran the
//     stale `inc rcx`. Now each fragment's pages keep the frame they mapped, and after INVLPG
//     or a MOV to CR0/CR3/CR4 the fragments of pages that map elsewhere are dropped
//     (bt_unmap_code).
//   (with repstring on: a jump to a non-canonical address in kernel code made bt loop
//     forever, the VMM window taking the fetch for a kernel entry each time; now the #GP, as
//     under native.)
// Fixed since (was known and left in, rare): under native paging the substrate's INVLPG of
// one address of a 2 MiB page flushed only that 4 KiB (docs/unicorn-notes.md), so the paging
// kind could still read through a mapping it cleared where bt, whose shadow paging flushes
// everything, took the #PF (HVSIM_FUZZ_ONLY_KINDS=paging, 2000 cases: 5 differed so, none
// since the CPU adapter flushes its whole TLB at INVLPG in a large page; invlpg_large guest).
const std::set<std::string> kKnownBrokenInBt = {};

// Generator switches for what native and bt disagree on below the level of a whole kind, off
// by default: three things the CPU substrate (Unicorn 2.1) gets wrong or leaves to chance
// under both engines, one that bt gets wrong; and three for bugs since fixed, on by default.
struct Options {
  // (substrate) HVSIM_FUZZ_LOOPE=1: LOOPE/LOOPNE. When RCX reaches 0 the substrate leaves RFLAGS
  // garbage (its lazy condition codes are not written back on that path; TF may come on),
  // under native as under bt: `mov ecx, 1; cmp rdx, 0x4d418d5d; loopne $; pushfq` reads
  // 0x4d408d5f. Without it, LOOP takes their place.
  bool loope = false;
  // (substrate) HVSIM_FUZZ_UNDEFINED_FLAGS=1: BT/BTS/BTR/BTC leave OF, SF, AF and PF
  // undefined (SDM); the substrate derives them from whatever its lazy flags held before,
  // which depends on block boundaries and stops, so native and bt differ (DIV/IDIV leave the
  // flags as they are and carry it on): `mov rax, 0xcce10087b42f1d4b; mov rbx, 0x800000000;
  // add rax, rbx; mov r11, cr4; bts r11, 26; pushfq` reads 0x886 under native, 0x86 under
  // bt. Without it an ADC/SBB that defines every flag (from BT's CF) follows each of them.
  bool undefined_flags = false;
  // (substrate) HVSIM_FUZZ_CMPXCHG8B=1: CMPXCHG8B/CMPXCHG16B. The substrate leaves RFLAGS garbage after
  // them (native: `mov r13, 5; add r13, -0x6c; cmpxchg16b [0x200000]; pushfq` reads
  // 0xffffffd6, with bits above 31 set; under bt TF comes on and the guest triple-faults).
  // Without it, CMPXCHG r/m64, RBX on the same operand takes their place.
  bool cmpxchg8b = false;
  // (bt, fixed; on by default, HVSIM_FUZZ_BT_NONCANONICAL=0 turns it off) CALL r/m, JMP m and
  // RET on a non-canonical stack or through a non-canonical memory operand. bt emulates them;
  // raising #GP it also set CR2 (to 0), which only #PF may change: `mov cr2, 0x1234; mov rsp,
  // 1 << 63; ret`, the #GP handler read CR2 0x1234 under native, 0 under bt.
  bool bt_noncanonical = true;
  // (bt) HVSIM_FUZZ_FAST_TIMER=1: timer periods from 20 ns, shorter than the handler (about
  // 40 instructions), so that the next interrupt is due when IRETQ returns. Native runs on
  // into the interrupted code and gets through; bt, whose IRETQ is a callout (a stop), takes
  // the next interrupt first, every time, and never returns to the guest's code (the budget
  // ends it): both deliver at the same times for a while, then bt livelocks. Without it
  // periods start at 120 ns.
  bool fast_timer = false;
  // (native and bt, fixed; on by default, HVSIM_FUZZ_IRQ_WINDOWS=0 turns it off) CLI ... STI
  // inside the timer loop. A timer interrupt that fell due while IF was 0 was taken by native
  // only at the next timer deadline (the VM looked for interrupts when the CPU stopped, and
  // nothing stopped it at STI): timer period 1000, CLI, 1500 instructions, STI at t = 1506:
  // native delivered at t = 2004. bt delivered right after STI, but before the instruction in
  // its shadow (the HLT returning from STI's trampoline ended the CPU's shadow). Both now take
  // it after the one instruction in STI's shadow (the CPU stops where IF becomes 1 while an
  // interrupt waits; guest/flat/irq_window.asm). Without it the loop has no CLI/STI.
  bool irq_windows = true;
  // (bt, fixed; on by default, HVSIM_FUZZ_BT_FAR_CODE=0 turns it off) RIP-relative operands in
  // the alias kind's function, which runs above 3 GiB, out of rel32 reach of the translation
  // cache. bt ended the run with a host error ("callout RipRelativeOutOfReach ... is not
  // supported", exit status 123): map 0xc0000000 to frame 0, call f's alias, f: `mov rcx,
  // [rel data]; ret`. Now such an instruction runs from a trampoline that addresses the
  // operand through a scratch register (bt_far_riprel). Off, that function has no
  // RIP-relative operand.
  bool bt_far_code = true;
  static Options from_env() {
    Options o;
    o.bt_far_code = env_u64("HVSIM_FUZZ_BT_FAR_CODE", 1) != 0;
    o.irq_windows = env_u64("HVSIM_FUZZ_IRQ_WINDOWS", 1) != 0;
    o.fast_timer = env_u64("HVSIM_FUZZ_FAST_TIMER", 0) != 0;
    o.bt_noncanonical = env_u64("HVSIM_FUZZ_BT_NONCANONICAL", 1) != 0;
    o.cmpxchg8b = env_u64("HVSIM_FUZZ_CMPXCHG8B", 0) != 0;
    o.loope = env_u64("HVSIM_FUZZ_LOOPE", 0) != 0;
    o.undefined_flags = env_u64("HVSIM_FUZZ_UNDEFINED_FLAGS", 0) != 0;
    return o;
  }
};

class Gen {
 public:
  Gen(Case& c, Rng& r, const std::vector<const Kind*>& menu, Options opt = {}) : c_(c), r_(r), menu_(menu), opt_(opt) {
    for (const Kind* k : menu_) total_weight_ += k->weight;
  }

  int new_label() { return c_.labels++; }

  // Encodable with a dummy address and the label placeholders the first pass uses.
  static bool ok(const ZydisEncoderRequest& q) {
    uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
    size_t len = 0;
    return encode(q, kBase + 0x800, buf, len);
  }
  // A request the encoder refuses marks the snippet being generated as failed (it is then
  // generated again), so that no snippet silently lacks an instruction.
  bool emit(Snippet& s, const ZydisEncoderRequest& q) {
    if (!ok(q)) return refused(q);
    Item it;
    it.req = q;
    s.push_back(it);
    return true;
  }
  bool emit(Snippet& s, ZydisMnemonic m, std::initializer_list<ZydisEncoderOperand> ops, ZydisInstructionAttributes p = 0) {
    return emit(s, request(m, ops, p));
  }
  // An instruction with a label in operand `fix` (a branch target, a LEA or MOV of its address).
  bool emit_ref(Snippet& s, ZydisEncoderRequest q, int fix, int label, bool branch, int64_t addend = 0) {
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
  bool branch(Snippet& s, ZydisMnemonic m, int label, bool short_form) {
    ZydisEncoderRequest q = request(m, {imm_op(0)});
    q.branch_type = short_form ? ZYDIS_BRANCH_TYPE_SHORT : ZYDIS_BRANCH_TYPE_NEAR;
    q.branch_width = short_form ? ZYDIS_BRANCH_WIDTH_8 : ZYDIS_BRANCH_WIDTH_32;
    return emit_ref(s, q, 0, label, true);
  }
  static void label(Snippet& s, int l) {
    Item it;
    it.kind = Item::Kind::Label;
    it.label = l;
    s.push_back(it);
  }
  static void raw(Snippet& s, Bytes b) {
    Item it;
    it.kind = Item::Kind::Raw;
    it.raw = std::move(b);
    s.push_back(it);
  }

  int pick_reg(uint32_t mask) {
    int n = __builtin_popcount(mask);
    int k = static_cast<int>(r_.below(static_cast<uint64_t>(n)));
    for (int i = 0; i < 16; ++i) {
      if ((mask & bit(i)) && k-- == 0) return i;
    }
    return kRax;
  }
  int any_reg() { return static_cast<int>(r_.below(16)); }
  int size() { return r_.pick({1, 2, 4, 4, 8, 8, 8}); }
  int64_t imm(int size) {
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
  uint64_t value64() {
    switch (r_.below(6)) {
      case 0: return r_.below(256);
      case 1: return ~0ull - r_.below(256);
      case 2: return 1ull << r_.below(64);
      case 3: return kScratch + r_.below(kScratchSize);
      default: return r_.next();
    }
  }

  // A memory operand into the scratch area: [r14 + disp], [base + index*scale + disp] with
  // the index bounded by a MOVZX first (and a base LEA'd from r14), or RIP-relative.
  ZydisEncoderOperand mem(Snippet& s, uint32_t mask, int size) {
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

  // One instruction (with its MOVZX/LEA preparation) that writes only registers in `mask` (and
  // scratch memory and flags), never branches, never touches the stack.
  void safe(Snippet& out, uint32_t mask) {
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

  bool safe_try(Snippet& s, uint32_t mask) {
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

  // After BT*: ADC/SBB r, imm8 defines OF, SF, ZF, AF, PF from BT's CF (see Options).
  bool define_flags_after_bt(Snippet& s, uint32_t mask) {
    const int r = pick_reg(mask);
    const ZydisMnemonic m = r_.chance(50) ? ZYDIS_MNEMONIC_ADC : ZYDIS_MNEMONIC_SBB;
    const int64_t v = r_.range(-128, 127);
    if (opt_.undefined_flags) return true;
    return emit(s, m, {reg_op(kR64[r]), imm_op(v)});
  }

  void safes(Snippet& s, uint32_t mask, int lo, int hi) {
    for (int64_t n = r_.range(lo, hi); n > 0; --n) safe(s, mask);
  }

  // ---- functions ----
  void make_functions() {
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

  // The mask for the top level: everything but RSP and R14.
  static constexpr uint32_t kTop = kAllRegs & ~kPinned;

  // Pushes the qwords a RET imm16 will drop.
  void call_padding(Snippet& s, const Function& f) {
    for (int i = 0; i < f.ret_extra; ++i) {
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(imm(4))});
      else emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[any_reg()])});
    }
  }

  // The resume slot for a fault: the handler continues at `resume`.
  void set_resume(Snippet& s, int resume) {
    emit_ref(s, request(ZYDIS_MNEMONIC_MOV, {rip_op(kResume, 8), imm_op(0)}), 1, resume, false);
  }
  void clear_resume(Snippet& s) { emit(s, ZYDIS_MNEMONIC_MOV, {rip_op(kResume, 8), imm_op(0)}); }

  const Kind& pick_kind() {
    uint64_t w = r_.below(total_weight_);
    for (const Kind* k : menu_) {
      if (w < k->weight) return *k;
      w -= k->weight;
    }
    return *menu_.back();
  }

  BodySnippet snippet() {
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

  void gen_kind(const std::string& kind, Snippet& s) {
    const uint32_t top = kTop;
    if (kind == "alu") {
      safes(s, top, 1, 3);
    } else if (kind == "muldiv") {
      const int w = r_.pick({1, 2, 4, 8});
      int src = pick_reg(top & ~bit(kRax) & ~bit(kRdx));
      switch (r_.below(3)) {
        case 0:
          emit(s, r_.chance(50) ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL, {r_.chance(70) ? reg_op(gpr(src, w)) : mem(s, top, w)});
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
          define_flags_after_bt(s, top & ~bit(kRax) & ~bit(kRdx) & ~bit(src));  // IDIV leaves them as they are
          emit(s, w == 2 ? ZYDIS_MNEMONIC_CWD : w == 4 ? ZYDIS_MNEMONIC_CDQ : ZYDIS_MNEMONIC_CQO, {});
          emit(s, ZYDIS_MNEMONIC_IDIV, {reg_op(gpr(src, w))});
        }
      }
    } else if (kind == "stack") {
      switch (r_.below(4)) {
        case 0:
        case 1: {
          const int n = static_cast<int>(r_.range(1, 4));
          for (int i = 0; i < n; ++i) {
            switch (r_.below(3)) {
              case 0: emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[any_reg()])}); break;
              case 1: emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(imm(4))}); break;
              default: {
                auto m = mem(s, top, 8);
                emit(s, ZYDIS_MNEMONIC_PUSH, {m});
              }
            }
          }
          safes(s, top, 0, 2);
          if (r_.chance(30)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[pick_reg(top)]), mem_op(ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_NONE, 0, 8 * r_.range(0, n - 1), 8)});
          for (int i = 0; i < n; ++i) {
            if (r_.chance(75)) {
              emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[pick_reg(top)])});
            } else {
              auto m = mem(s, top, 8);
              emit(s, ZYDIS_MNEMONIC_POP, {m});
            }
          }
          break;
        }
        case 2:  // 16-bit push/pop: RSP off by two for a while
          emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR16[any_reg()])});
          safes(s, top, 0, 2);
          emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR16[pick_reg(top)])});
          break;
        default: {  // ENTER/LEAVE
          emit(s, ZYDIS_MNEMONIC_ENTER, {imm_op(8 * r_.range(0, 8)), imm_op(r_.chance(80) ? 0 : 1)});  // level 1 reads no frame
          safes(s, top & ~bit(5), 0, 2);
          emit(s, ZYDIS_MNEMONIC_LEAVE, {});
        }
      }
    } else if (kind == "branch") {
      const int l = new_label();
      safes(s, top, 0, 1);  // flags for the Jcc
      const bool short_form = r_.chance(50);
      branch(s, r_.chance(75) ? kJcc[r_.below(16)] : ZYDIS_MNEMONIC_JMP, l, short_form);
      safes(s, top, 0, short_form ? 3 : 5);
      label(s, l);
    } else if (kind == "loop") {
      const int l = new_label();
      const uint32_t inner = top & ~bit(kRcx);
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
          safes(s, top, 1, 3);
          label(s, l);
        }
      }
    } else if (kind == "call") {
      const Function& f = c_.functions[r_.below(c_.functions.size())];
      call_padding(s, f);
      emit_ref(s, request(ZYDIS_MNEMONIC_CALL, {imm_op(0)}), 0, f.label, true);
    } else if (kind == "indirect") {
      const int t = pick_reg(top);
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
          if (r_.chance(50)) safe(s, top);
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
        safes(s, top, 1, 3);  // skipped
        label(s, l);
      }
    } else if (kind == "pushf") {
      const int t = pick_reg(top);
      switch (r_.below(5)) {
        case 0:
        case 1:
          emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
          emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])});
          emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(r_.next() & kFlagsToggle))});
          emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
          emit(s, ZYDIS_MNEMONIC_POPFQ, {});
          break;
        case 2:
          emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(static_cast<int64_t>((r_.next() & kFlagsToggle) | 2))});
          emit(s, ZYDIS_MNEMONIC_POPFQ, {});
          break;
        case 3:
          emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
          safes(s, top, 1, 3);
          if (r_.chance(50)) {
            emit(s, ZYDIS_MNEMONIC_POPFQ, {});
          } else {
            auto m = mem(s, top, 8);
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
    } else if (kind == "clisti") {
      switch (r_.below(4)) {
        case 0: emit(s, ZYDIS_MNEMONIC_CLI, {}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_STI, {}); break;
        case 2:
          emit(s, ZYDIS_MNEMONIC_STI, {});
          safe(s, top);  // in the shadow
          break;
        default:
          emit(s, ZYDIS_MNEMONIC_CLI, {});
          safes(s, top, 0, 2);
          emit(s, ZYDIS_MNEMONIC_STI, {});
          if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_CLI, {});
      }
    } else if (kind == "atomic") {
      const int sz = size();
      const int rr = pick_reg(top);
      auto m = mem(s, top & ~bit(kRax), sz);  // RAX may be loaded from it below
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
            define_flags_after_bt(s, top);
          }
          else emit(s, op, {m, r_.chance(50) ? reg_op(gpr(rr, sz)) : imm_op(imm(sz))}, ZYDIS_ATTRIB_HAS_LOCK);
        }
      }
    } else if (kind == "string" || kind == "repstring") {
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
      const bool rep = kind == "repstring";
      switch (r_.below(5)) {
        case 0: emit(s, movs[w], {}, rep ? ZYDIS_ATTRIB_HAS_REP : 0); break;
        case 1: emit(s, stos[w], {}, rep ? ZYDIS_ATTRIB_HAS_REP : 0); break;
        case 2: emit(s, lods[w], {}, rep ? ZYDIS_ATTRIB_HAS_REP : 0); break;
        case 3: emit(s, cmps[w], {}, rep ? (r_.chance(50) ? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REPNE) : 0); break;
        default: emit(s, scas[w], {}, rep ? (r_.chance(50) ? ZYDIS_ATTRIB_HAS_REPE : ZYDIS_ATTRIB_HAS_REPNE) : 0);
      }
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_CLD, {});
    } else if (kind == "cpuid") {
      const uint32_t leaf = r_.pick<uint32_t>({0, 1, 2, 4, 6, 7, 0xb, 0xd, 0x80000000u, 0x80000001u, 0x80000002u,
                                              0x80000007u, 0x80000008u, 0x40000000u, 0x40000001u, 0x12345678u});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_EAX), imm_op(static_cast<int32_t>(leaf))});
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(0, 2))});
      emit(s, ZYDIS_MNEMONIC_CPUID, {});
    } else if (kind == "rdtsc") {
      switch (r_.below(3)) {
        case 0: emit(s, ZYDIS_MNEMONIC_RDTSC, {}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_RDTSCP, {}); break;
        default:
          emit(s, ZYDIS_MNEMONIC_RDTSC, {});
          emit(s, ZYDIS_MNEMONIC_SHL, {reg_op(ZYDIS_REGISTER_RDX), imm_op(32)});
          emit(s, ZYDIS_MNEMONIC_OR, {reg_op(ZYDIS_REGISTER_RAX), reg_op(ZYDIS_REGISTER_RDX)});
          emit(s, ZYDIS_MNEMONIC_MOV, {mem(s, top & ~bit(kRax), 8), reg_op(ZYDIS_REGISTER_RAX)});
      }
    } else if (kind == "msr") {
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
    } else if (kind == "fsgs") {
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
              case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(top), sz)), m}, seg); break;
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
              if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(top), sz)), m}, ZYDIS_ATTRIB_HAS_SEGMENT_GS);
              else emit(s, ZYDIS_MNEMONIC_MOV, {m, reg_op(gpr(any_reg(), sz))}, ZYDIS_ATTRIB_HAS_SEGMENT_GS);
            }
          }
          if (r_.chance(80)) emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
          break;
        case 2:
          emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
          safes(s, top, 0, 2);
          emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
          break;
        default:
          emit(s, ZYDIS_MNEMONIC_SWAPGS, {});
      }
    } else if (kind == "cr") {
      const int t = pick_reg(top);
      switch (r_.below(8)) {
        case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(r_.pick({ZYDIS_REGISTER_CR0, ZYDIS_REGISTER_CR2, ZYDIS_REGISTER_CR3, ZYDIS_REGISTER_CR4}))}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR8)}); break;
        case 2:
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(ZYDIS_REGISTER_CR3)});
          safes(s, top & ~bit(t), 0, 1);
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR3), reg_op(kR64[t])});
          break;
        case 3:
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR32[t]), imm_op(r_.range(0, 15))});
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR8), reg_op(kR64[t])});
          if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[pick_reg(top)]), reg_op(ZYDIS_REGISTER_CR8)});
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
    } else if (kind == "dr") {
      const int t = pick_reg(top);
      if (r_.chance(50)) {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), reg_op(r_.pick({ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR1, ZYDIS_REGISTER_DR2,
                                                                      ZYDIS_REGISTER_DR3, ZYDIS_REGISTER_DR6, ZYDIS_REGISTER_DR7}))});
      } else {
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(value64() & 0x00007fffffffffffull))});
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(r_.pick({ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR1, ZYDIS_REGISTER_DR2, ZYDIS_REGISTER_DR3})), reg_op(kR64[t])});
        if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[pick_reg(top)]), reg_op(r_.pick({ZYDIS_REGISTER_DR0, ZYDIS_REGISTER_DR1, ZYDIS_REGISTER_DR2, ZYDIS_REGISTER_DR3}))});
      }
    } else if (kind == "dtables") {
      const bool gdt = r_.chance(50);
      const int64_t d = r_.range(-0x800, 0x7f0);
      auto m = r_.chance(70) ? mem_op(ZYDIS_REGISTER_R14, ZYDIS_REGISTER_NONE, 0, d, 10) : rip_op(kScratch + 0x1000 + d, 10);
      switch (r_.below(3)) {
        case 0: emit(s, gdt ? ZYDIS_MNEMONIC_SGDT : ZYDIS_MNEMONIC_SIDT, {m}); break;
        case 1:
          emit(s, gdt ? ZYDIS_MNEMONIC_SGDT : ZYDIS_MNEMONIC_SIDT, {m});
          safes(s, top, 0, 1);
          emit(s, gdt ? ZYDIS_MNEMONIC_LGDT : ZYDIS_MNEMONIC_LIDT, {m});
          break;
        default: emit(s, ZYDIS_MNEMONIC_LIDT, {rip_op(kIdtrImage, 10)});
      }
    } else if (kind == "sysseg") {
      const int t = pick_reg(top);
      const int w = r_.pick({2, 4, 8});
      switch (r_.below(6)) {
        case 0: emit(s, ZYDIS_MNEMONIC_STR, {r_.chance(70) ? reg_op(gpr(t, w)) : mem(s, top, 2)}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_SLDT, {r_.chance(70) ? reg_op(gpr(t, w)) : mem(s, top, 2)}); break;
        case 2: emit(s, ZYDIS_MNEMONIC_SMSW, {r_.chance(70) ? reg_op(gpr(t, w)) : mem(s, top, 2)}); break;
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
    } else if (kind == "segcheck") {
      const int sel = pick_reg(top);
      const int d = pick_reg(top);
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
    } else if (kind == "segregs") {
      const int t = pick_reg(top);
      const ZydisRegister data_segs[] = {ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES, ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS};
      const ZydisRegister all_segs[] = {ZYDIS_REGISTER_ES, ZYDIS_REGISTER_CS, ZYDIS_REGISTER_SS, ZYDIS_REGISTER_DS, ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS};
      switch (r_.below(5)) {
        case 0: {
          emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(r_.chance(50) ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_GS)});
          safes(s, top, 0, 1);
          if (r_.chance(70)) emit(s, ZYDIS_MNEMONIC_POP, {reg_op(r_.chance(50) ? ZYDIS_REGISTER_FS : ZYDIS_REGISTER_GS)});
          else emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])});
          break;
        }
        case 1: {
          const ZydisRegister sreg = all_segs[r_.below(6)];
          if (r_.chance(70)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(t, r_.pick({2, 4, 8}))), reg_op(sreg)});
          else emit(s, ZYDIS_MNEMONIC_MOV, {mem(s, top, 2), reg_op(sreg)});
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
          safe(s, top);
      }
    } else if (kind == "cache") {
      switch (r_.below(7)) {
        case 0: emit(s, ZYDIS_MNEMONIC_WBINVD, {}); break;
        case 1: emit(s, ZYDIS_MNEMONIC_INVD, {}); break;
        case 2: emit(s, ZYDIS_MNEMONIC_PAUSE, {}); break;
        case 3: {
          auto m = r_.chance(60) ? mem(s, top, 1) : rip_op(kBase + r_.below(kImageSize), 1);
          emit(s, ZYDIS_MNEMONIC_INVLPG, {m});
          break;
        }
        case 4: emit(s, r_.pick({ZYDIS_MNEMONIC_MFENCE, ZYDIS_MNEMONIC_LFENCE, ZYDIS_MNEMONIC_SFENCE}), {}); break;
        case 5: {
          auto m = mem(s, top, 1);
          emit(s, ZYDIS_MNEMONIC_CLFLUSH, {m});
          break;
        }
        default: {  // INVLPG of an arbitrary canonical address
          const int t = pick_reg(top);
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(value64() & 0x00007fffffffffffull))});
          emit(s, ZYDIS_MNEMONIC_INVLPG, {mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, 1)});
        }
      }
    } else if (kind == "portio") {
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
    } else if (kind == "softint") {
      safes(s, top, 0, 1);
      if (r_.chance(70)) emit(s, ZYDIS_MNEMONIC_INT, {imm_op(r_.pick<int64_t>({0x40, 0x41, 0x42, 0x43, 0x80}))});
      else emit(s, ZYDIS_MNEMONIC_INT3, {});
      safes(s, top, 0, 1);
    } else if (kind == "fault") {
      const int l = new_label();
      set_resume(s, l);
      safes(s, top, 0, 2);
      const int t = pick_reg(top);
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
          if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(top), sz)), mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, static_cast<uint16_t>(sz))});
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
            define_flags_after_bt(s, top & ~bit(t));
            emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_CR4), reg_op(kR64[t])});
          }
          break;
        }
        case 5:
        case 6: {  // #PF: above the 4 GiB identity map (read, write, or an instruction fetch)
          emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(kR64[t]), imm_op(static_cast<int64_t>((1ull << 32) + r_.below(1ull << 30)))});
          const int sz = size();
          switch (r_.below(3)) {
            case 0: emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(gpr(pick_reg(top), sz)), mem_op(kR64[t], ZYDIS_REGISTER_NONE, 0, 0, static_cast<uint16_t>(sz))}); break;
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
      safes(s, top, 0, 2);  // skipped
      label(s, l);
      clear_resume(s);
    } else if (kind == "rdrand") {
      emit(s, r_.chance(70) ? ZYDIS_MNEMONIC_RDRAND : ZYDIS_MNEMONIC_RDSEED, {reg_op(gpr(pick_reg(top), r_.pick({2, 4, 8})))});
    } else if (kind == "far") {
      const int l = new_label();
      const int t = pick_reg(top);
      switch (r_.below(3)) {
        case 0: {  // push cs; push target; retfq
          emit_ref(s, request(ZYDIS_MNEMONIC_LEA, {reg_op(kR64[t]), rip_op(0, 8)}), 1, l, false);
          emit(s, ZYDIS_MNEMONIC_PUSH, {imm_op(0x08)});
          emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
          ZydisEncoderRequest q = request(ZYDIS_MNEMONIC_RET, {});
          q.branch_type = ZYDIS_BRANCH_TYPE_FAR;
          q.branch_width = ZYDIS_BRANCH_WIDTH_64;
          emit(s, q);
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
          const int u = pick_reg(top & ~bit(t));
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
      safes(s, top, 0, 2);  // skipped
      label(s, l);
    } else if (kind == "user") {
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
            const int t = pick_reg(top);
            emit(s, ZYDIS_MNEMONIC_PUSHFQ, {});
            emit(s, ZYDIS_MNEMONIC_POP, {reg_op(kR64[t])});
            emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(kR64[t]), imm_op(static_cast<int64_t>(r_.next() & kFlagsToggle))});
            emit(s, ZYDIS_MNEMONIC_PUSH, {reg_op(kR64[t])});
            emit(s, ZYDIS_MNEMONIC_POPFQ, {});
            break;
          }
          case 3: {  // unprivileged reads of system state (no UMIP)
            // SGDT, SIDT, SLDT and STR at CPL 3 read the VMM's registers under bt, on purpose
            // (the Red Pill: translator/red_pill.hpp, scenarios/redpill.toml): not compared.
            const int t = pick_reg(top);
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
            safe(s, top);  // skipped when it faulted
            label(s, l);
            clear_resume(s);
            break;
          }
          default: safe(s, top);
        }
      }
      emit(s, ZYDIS_MNEMONIC_SYSCALL, {});
      label(s, kernel);
    } else if (kind == "paging") {
      // PD 3 maps GiB 3 (above RAM: open bus); entry j gets another frame for a while.
      const uint64_t j = r_.below(512);
      const uint64_t va = 0xc0000000ull + (j << 21);
      const int64_t pde = static_cast<int64_t>(0x6000 + 8 * j);
      const uint64_t original = ((3 * 512 + j) << 21) | 0x87;
      const int t = pick_reg(top), v = pick_reg(top & ~bit(t));
      const uint32_t rest = top & ~bit(t) & ~bit(v);
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
    } else if (kind == "sysfault") {
      const int l = new_label();
      const int t = pick_reg(top);
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
            ZydisEncoderRequest q = request(ZYDIS_MNEMONIC_RET, {});
            q.branch_type = ZYDIS_BRANCH_TYPE_FAR;
            q.branch_width = ZYDIS_BRANCH_WIDTH_64;
            emit(s, q);
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
      safe(s, top);  // skipped
      label(s, l);
      emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_RSP), rip_op(kRspSlot, 8)});
      clear_resume(s);
    } else if (kind == "timer") {
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
      safes(s, top & ~bit(kRax), 1, 4);
      if (r_.chance(60)) {  // a loop of 10-300 instructions for the interrupts to land in
        const int l = new_label();
        emit(s, ZYDIS_MNEMONIC_MOV, {reg_op(ZYDIS_REGISTER_ECX), imm_op(r_.range(5, 60))});
        label(s, l);
        const bool window = r_.chance(50);  // see Options::irq_windows
        if (window && opt_.irq_windows) emit(s, ZYDIS_MNEMONIC_CLI, {});
        safes(s, top & ~bit(kRax) & ~bit(kRcx), 1, 4);
        if (window && opt_.irq_windows) emit(s, ZYDIS_MNEMONIC_STI, {});
        emit(s, ZYDIS_MNEMONIC_DEC, {reg_op(ZYDIS_REGISTER_ECX)});
        branch(s, ZYDIS_MNEMONIC_JNZ, l, r_.chance(50));
      }
      if (r_.chance(50)) emit(s, ZYDIS_MNEMONIC_HLT, {});
      emit(s, ZYDIS_MNEMONIC_CLI, {});
      emit(s, ZYDIS_MNEMONIC_XOR, {reg_op(ZYDIS_REGISTER_EAX), reg_op(ZYDIS_REGISTER_EAX)});
      emit(s, ZYDIS_MNEMONIC_OUT, {imm_op(0xf0), reg_op(ZYDIS_REGISTER_EAX)});
    } else if (kind == "triplefault") {
      const int t = pick_reg(top);
      const uint64_t bad = r_.chance(50) ? (1ull << 32) + (r_.below(1u << 20) << 12) : 0x8000000000001000ull;
      safes(s, top, 0, 2);
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
    } else if (kind == "alias" || kind == "unmap") {
      const uint64_t j = r_.below(512);
      const uint64_t va = 0xc0000000ull + (j << 21);
      const int64_t pde = static_cast<int64_t>(0x6000 + 8 * j);
      const uint64_t original = ((3 * 512 + j) << 21) | 0x87;
      const int v = pick_reg(top), t = pick_reg(top & ~bit(v));
      const uint32_t inner = top & ~bit(v) & ~bit(t);
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
      if (kind == "unmap") {  // unmapped: the call's fetch faults, whatever was translated there
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
    } else if (kind == "smc") {
      // mov byte [rip + imm8 of L], x; ...; L: add r64, imm8
      const int l = new_label();
      const int t = pick_reg(top);
      const ZydisEncoderRequest target = request(ZYDIS_MNEMONIC_ADD, {reg_op(kR64[t]), imm_op(r_.range(-128, 127))});
      uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
      size_t len = 0;
      if (!encode(target, kBase, buf, len)) {
        refused(target);
        return;
      }
      emit_ref(s, request(ZYDIS_MNEMONIC_MOV, {rip_op(0, 1), imm_op(r_.range(-128, 127))}), 0, l, false,
               static_cast<int64_t>(len) - 1);
      safes(s, top & ~bit(t), 0, 2);
      label(s, l);
      emit(s, target);
    }
  }

  unsigned retries() const { return retries_; }
  const std::map<std::string, unsigned>& refusals() const { return refusals_; }

 private:
  bool refused(const ZydisEncoderRequest& q) {
    failed_ = true;
    ++refusals_[ZydisMnemonicGetString(q.mnemonic)];
    return false;
  }
  bool failed_ = false;
  bool no_rip_ = false;  // safe() and mem() make no RIP-relative operand
  bool in_far_code_ = false;  // generating the alias kind's function, run above 3 GiB
  unsigned retries_ = 0;
  std::map<std::string, unsigned> refusals_;
  Case& c_;
  Rng& r_;
  std::vector<const Kind*> menu_;
  Options opt_;
  uint64_t total_weight_ = 0;
};

std::vector<const Kind*> menu() {
  const auto only = env_list("HVSIM_FUZZ_ONLY_KINDS");
  const auto exclude = env_list("HVSIM_FUZZ_EXCLUDE");
  std::vector<const Kind*> m;
  for (const Kind& k : kKinds) {
    if (!only.empty() ? !only.count(k.name) : kKnownBrokenInBt.count(k.name) != 0) continue;
    if (exclude.count(k.name)) continue;
    m.push_back(&k);
  }
  return m;
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

// ---- the image ---------------------------------------------------------------------------------
struct Image {
  Bytes bytes;
  std::vector<Assembler::Mark> marks;
  uint64_t body_begin = 0, body_end = 0, code_end = 0;
  std::string error;
};

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

// ---- running ----------------------------------------------------------------------------------
struct State {
  RunEnd end = RunEnd::Exited;
  int exit_status = 0;
  std::string detail;
  bool hung = false;
  uint64_t retired = 0, now = 0, rip = 0, rflags = 0;
  std::array<uint64_t, 16> gprs{};
  std::array<uint64_t, 5> crs{};  // 0, 2, 3, 4, 8
  uint64_t efer = 0, fs_base = 0, gs_base = 0, kgs_base = 0, tsc_aux = 0;
  std::array<SegmentState, kSegCount> segs{};
  uint64_t gdtr_base = 0, idtr_base = 0, gdtr_limit = 0, idtr_limit = 0;
  uint16_t ldtr = 0, tr = 0;
  Bytes image, stack, ist, tables;
  std::string console;
  uint64_t exceptions = 0, interrupts = 0;
  bt::BtCounters btc{};  // bt's counters (zero for native)
};

std::chrono::milliseconds watchdog_limit() { return std::chrono::milliseconds(env_u64("HVSIM_FUZZ_WATCHDOG_MS", 5000)); }

State run_image(const Bytes& image, const std::string& engine, PagingMode paging, bool paging_given) {
  State st;
  MachineOptions opt;
  opt.image_path = "bt-differential.bin";
  opt.engine = engine;
  opt.paging = paging;
  opt.paging_given = paging_given;
  opt.max_instructions = kBudget;
  auto built = build_machine(opt, image);
  REQUIRE_MESSAGE(built.ok(), (built.ok() ? "" : built.error().message));
  Machine& m = **built;
  Vm& vm = *m.vm;
  vm.set_console([&st](char ch) {
    if (st.console.size() < 65536) st.console.push_back(ch);
  });

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> fired{false};
  std::thread dog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, watchdog_limit(), [&] { return done; })) {
      fired = true;
      vm.cpu().request_stop();
    }
  });
  RunOutcome out = vm.run();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_one();
  dog.join();

  UnicornCpu& cpu = vm.cpu();
  st.end = out.end;
  st.exit_status = out.exit_status;
  st.detail = out.detail;
  st.hung = fired && out.end == RunEnd::Stopped;
  st.retired = cpu.instructions_retired();
  st.now = vm.now_ns();
  st.rip = cpu.rip();
  st.rflags = cpu.rflags();
  for (int r = 0; r < 16; ++r) st.gprs[r] = cpu.gpr(static_cast<Gpr>(r));
  const int crs[] = {0, 2, 3, 4, 8};
  for (int i = 0; i < 5; ++i) st.crs[i] = cpu.cr(crs[i]);
  st.efer = cpu.msr(msr::IA32_EFER);
  st.fs_base = cpu.msr(msr::IA32_FS_BASE);
  st.gs_base = cpu.msr(msr::IA32_GS_BASE);
  st.kgs_base = cpu.msr(msr::IA32_KERNEL_GS_BASE);
  st.tsc_aux = cpu.msr(msr::IA32_TSC_AUX);
  for (int s = 0; s < kSegCount; ++s) st.segs[s] = cpu.segment(static_cast<Seg>(s));
  st.gdtr_base = cpu.gdtr().base;
  st.gdtr_limit = cpu.gdtr().limit;
  st.idtr_base = cpu.idtr().base;
  st.idtr_limit = cpu.idtr().limit;
  st.ldtr = cpu.ldtr().selector;
  st.tr = cpu.tr().selector;
  auto grab = [&vm](uint64_t gpa, uint64_t size) {
    Bytes b(size);
    REQUIRE(vm.ram().read(gpa, b.data(), size));
    return b;
  };
  st.image = grab(kBase, kImageSize);
  st.stack = grab(kStackLow, kFlatStackTop - kStackLow);
  st.ist = grab(kIstLow, kFlatIst1Top - kIstLow);
  st.tables = grab(kTablesLow, kTablesHigh - kTablesLow);
  st.exceptions = vm.counters().exceptions_delivered;
  st.interrupts = vm.counters().interrupts_delivered;
  if (auto* e = dynamic_cast<bt::BtEngine*>(m.engine.get())) {
    st.btc = e->counters();
  }
  return st;
}

std::string end_name(RunEnd e) { return run_end_name(e); }

// The exceptions the guest's handler recorded (the last eight): vector, error code, RIP.
std::string exception_records(const State& st) {
  auto q = [&st](uint64_t addr) {
    uint64_t v = 0;
    std::memcpy(&v, &st.image[addr - kBase], 8);
    return v;
  };
  const uint64_t n = q(kExcCount);
  std::string out = std::to_string(n) + " exceptions recorded";
  for (uint64_t i = n > 8 ? n - 8 : 0; i < n; ++i) {
    const uint64_t rec = kExcRing + 64 * (i & 7);
    out += "; #" + std::to_string(i) + ": vector " + hex(q(rec)) + " error " + hex(q(rec + 8)) + " rip " + hex(q(rec + 16)) +
           " rsp " + hex(q(rec + 40)) + " cr2 " + hex(q(rec + 56));
  }
  return out;
}

// The differences between two runs, one line each; empty when they agree.
std::vector<std::string> compare(const State& n, const State& b) {
  std::vector<std::string> d;
  auto field = [&d](const std::string& name, uint64_t x, uint64_t y) {
    if (x != y) d.push_back(name + ": native " + hex(x) + ", bt " + hex(y));
  };
  if (n.end != b.end || n.exit_status != b.exit_status) {
    d.push_back(std::string("end: native ") + end_name(n.end) + " status " + std::to_string(n.exit_status) +
                (n.detail.empty() ? "" : " (" + n.detail + ")") + ", bt " + end_name(b.end) + " status " +
                std::to_string(b.exit_status) + (b.detail.empty() ? "" : " (" + b.detail + ")"));
  }
  // A budget stop lands at a block boundary, which the engines place differently: only the
  // ending itself is comparable then.
  if (n.end == RunEnd::BudgetExhausted && b.end == RunEnd::BudgetExhausted) return d;
  field("instructions retired", n.retired, b.retired);
  field("virtual time", n.now, b.now);
  field("rip", n.rip, b.rip);
  field("rflags", n.rflags, b.rflags);
  for (int r = 0; r < 16; ++r) field(gpr_name(static_cast<Gpr>(r)), n.gprs[r], b.gprs[r]);
  const char* crs[] = {"cr0", "cr2", "cr3", "cr4", "cr8"};
  for (int i = 0; i < 5; ++i) field(crs[i], n.crs[i], b.crs[i]);
  field("efer", n.efer, b.efer);
  field("fs_base", n.fs_base, b.fs_base);
  field("gs_base", n.gs_base, b.gs_base);
  field("kernel_gs_base", n.kgs_base, b.kgs_base);
  field("tsc_aux", n.tsc_aux, b.tsc_aux);
  for (int s = 0; s < kSegCount; ++s) {
    const std::string name = seg_name(static_cast<Seg>(s));
    field(name + ".selector", n.segs[s].selector, b.segs[s].selector);
    field(name + ".base", n.segs[s].base, b.segs[s].base);
    field(name + ".limit", n.segs[s].limit, b.segs[s].limit);
    field(name + ".attributes", n.segs[s].attributes, b.segs[s].attributes);
  }
  field("gdtr.base", n.gdtr_base, b.gdtr_base);
  field("gdtr.limit", n.gdtr_limit, b.gdtr_limit);
  field("idtr.base", n.idtr_base, b.idtr_base);
  field("idtr.limit", n.idtr_limit, b.idtr_limit);
  field("ldtr", n.ldtr, b.ldtr);
  field("tr", n.tr, b.tr);
  field("exceptions delivered", n.exceptions, b.exceptions);
  field("interrupts delivered", n.interrupts, b.interrupts);
  if (n.console != b.console) d.push_back("console: native \"" + n.console + "\", bt \"" + b.console + "\"");
  auto memory = [&d](const char* what, uint64_t base, const Bytes& x, const Bytes& y) {
    int shown = 0;
    for (size_t off = 0; off < x.size(); off += 8) {
      uint64_t a = 0, c = 0;
      std::memcpy(&a, &x[off], 8);
      std::memcpy(&c, &y[off], 8);
      if (a == c) continue;
      if (shown++ < 6) d.push_back(std::string(what) + " qword at " + hex(base + off) + ": native " + hex(a) + ", bt " + hex(c));
    }
    if (shown > 6) d.push_back(std::string(what) + ": " + std::to_string(shown - 6) + " more qwords differ");
  };
  memory("image", kBase, n.image, b.image);
  memory("stack", kStackLow, n.stack, b.stack);
  memory("IST1 stack", kIstLow, n.ist, b.ist);
  memory("page tables", kTablesLow, n.tables, b.tables);
  return d;
}

// What a mismatch is about, for the reducer: the kind of the first difference.
std::string signature(const std::vector<std::string>& diffs) {
  if (diffs.empty()) return "";
  const std::string& f = diffs.front();
  return f.substr(0, f.find(':'));
}

struct Outcome {
  State native, bt;
  std::vector<std::string> diffs;
  std::string error;
};

Outcome run_case(const Case& c, const std::vector<bool>& keep, Image* built = nullptr) {
  Outcome o;
  Image img = build_image(c, keep);
  if (!img.error.empty()) {
    o.error = img.error;
    return o;
  }
  o.native = run_image(img.bytes, "native", PagingMode::Native, false);
  o.bt = run_image(img.bytes, "bt", c.paging, c.paging_given);
  o.diffs = compare(o.native, o.bt);
  if (o.native.hung) o.diffs.insert(o.diffs.begin(), "native run hung (stopped by the watchdog)");
  if (o.bt.hung) o.diffs.insert(o.diffs.begin(), "bt run hung (stopped by the watchdog)");
  if (built) *built = std::move(img);
  return o;
}

std::string save(const char* what, const Bytes& bytes, uint64_t seed, unsigned index) {
  char name[96];
  std::snprintf(name, sizeof name, "bt-diff-%s-%llx-%u.bin", what, static_cast<unsigned long long>(seed), index);
  std::ofstream f(name, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return (std::filesystem::current_path() / name).string();
}

std::string paging_text(const Case& c) { return paging_mode_name(c.paging); }

std::string join(const std::vector<std::string>& lines, size_t max = 40) {
  std::string s;
  for (size_t i = 0; i < lines.size() && i < max; ++i) s += "    " + lines[i] + "\n";
  if (lines.size() > max) s += "    ... " + std::to_string(lines.size() - max) + " more\n";
  return s;
}

// Drops snippets while the mismatch keeps its signature: one at a time, repeated until no
// single removal keeps it.
std::vector<bool> reduce(const Case& c, const std::string& sig) {
  std::vector<bool> keep(c.body.size(), true);
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = c.body.size(); i-- > 0;) {
      if (!keep[i]) continue;
      keep[i] = false;
      Outcome o = run_case(c, keep);
      if (o.error.empty() && signature(o.diffs) == sig) {
        progress = true;
      } else {
        keep[i] = true;
      }
    }
  }
  return keep;
}

}  // namespace

// HVSIM_FUZZ_IMAGE=<file.bin>: run that flat image (a saved case, or any guest) under native
// and bt (paging HVSIM_FUZZ_PAGING=shadow|native|ept, default shadow) and compare as above.
bool run_given_image() {
  const char* path = std::getenv("HVSIM_FUZZ_IMAGE");
  if (!path || !*path) return false;
  auto bytes = read_file(path, 64u << 20);
  REQUIRE_MESSAGE(bytes.ok(), (bytes.ok() ? "" : bytes.error().message));
  const char* paging = std::getenv("HVSIM_FUZZ_PAGING");
  const std::string mode = paging && *paging ? paging : "shadow";
  const PagingMode m = mode == "native" ? PagingMode::Native : mode == "ept" ? PagingMode::Ept : PagingMode::Shadow;
  Bytes image = *bytes;
  if (image.size() < kImageSize) image.resize(kImageSize, 0);  // the state compared covers kImageSize bytes
  const State n = run_image(image, "native", PagingMode::Native, false);
  const State b = run_image(image, "bt", m, true);
  const auto diffs = compare(n, b);
  MESSAGE(std::string(path), " (bt paging ", mode, "): native ", end_name(n.end), " status ", n.exit_status, ", ", n.retired,
          " instructions; bt ", end_name(b.end), " status ", b.exit_status, ", ", b.retired, " instructions; ",
          diffs.empty() ? std::string("no differences") : "differences:\n" + join(diffs));
  CHECK(diffs.empty());
  return true;
}

TEST_CASE("Fuzz: bt and native agree on random kernel code") {
  if (run_given_image()) return;
  const uint64_t seed = env_u64("HVSIM_FUZZ_SEED", kDefaultSeed);
  const uint64_t only = env_u64("HVSIM_FUZZ_ONLY", ~0ull);
  const auto count = only != ~0ull ? static_cast<unsigned>(only + 1)
                                   : static_cast<unsigned>(env_u64("HVSIM_FUZZ_COUNT", kDefaultCount));
  const bool save_all = env_u64("HVSIM_FUZZ_SAVE", 0) != 0;
  const bool print = env_u64("HVSIM_FUZZ_PRINT", 0) != 0;
  const bool reduce_failures = env_u64("HVSIM_FUZZ_REDUCE", 0) != 0;
  const auto max_failures = static_cast<unsigned>(env_u64("HVSIM_FUZZ_MAX_FAILURES", 5));
  const auto kinds = menu();
  const Options opt = Options::from_env();
  REQUIRE_MESSAGE(!kinds.empty(), "no snippet kinds left (HVSIM_FUZZ_ONLY_KINDS / HVSIM_FUZZ_EXCLUDE)");

  const auto started = std::chrono::steady_clock::now();
  unsigned cases = 0, failures = 0, budget_ends = 0;
  std::string unexpected;
  unsigned unexpected_n = 0;
  std::map<std::string, unsigned> ends, kind_counts;
  std::map<std::string, unsigned> paging_counts;
  uint64_t retired = 0, exceptions = 0, interrupts = 0, callouts = 0, emulated = 0, trampolines = 0, snippets = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (only != ~0ull && i != only) continue;
    const Case c = make_case(seed, i, kinds, opt);
    const std::vector<bool> all(c.body.size(), true);
    Image img;
    Outcome o = run_case(c, all, &img);
    CAPTURE(seed);
    CAPTURE(i);
    REQUIRE_MESSAGE(o.error.empty(), "case ", i, ": ", o.error);
    ++cases;
    snippets += c.body.size();
    for (const auto& b : c.body) ++kind_counts[b.kind];
    ++paging_counts[paging_text(c)];
    if (save_all) MESSAGE("case ", i, " saved to ", save("case", img.bytes, seed, i));
    if (print) {
      MESSAGE("case ", i, " (bt paging ", paging_text(c), "), native: ", end_name(o.native.end), " status ",
              o.native.exit_status, ", ", o.native.retired, " instructions, ", o.native.exceptions,
              " exceptions; bt: ", end_name(o.bt.end), " status ", o.bt.exit_status, ", ", o.bt.btc.callouts,
              " callouts\n  native: ", exception_records(o.native), "\n  bt:     ", exception_records(o.bt), "\n",
              disassemble(img, kBase, img.code_end));
    }
    ++ends[std::string(end_name(o.native.end)) + (o.native.end == RunEnd::Exited ? " " + std::to_string(o.native.exit_status) : "")];
    if (o.native.end == RunEnd::BudgetExhausted) ++budget_ends;
    // An exception the generator did not mean to cause (the handler's exit status 0x80 | vector)
    if (o.native.end == RunEnd::Exited && o.native.exit_status >= 0x80 && unexpected_n++ < 10) {
      unexpected += " " + std::to_string(i) + " (vector " + std::to_string(o.native.exit_status & 0x7f) + ")";
    }
    retired += o.native.retired;
    exceptions += o.native.exceptions;
    interrupts += o.native.interrupts;
    callouts += o.bt.btc.callouts;
    emulated += o.bt.btc.sensitive_emulated;
    trampolines += o.bt.btc.trampolines;
    if (o.diffs.empty()) continue;

    ++failures;
    const std::string saved = save("failure", img.bytes, seed, i);
    std::string reduced;
    if (reduce_failures) {
      const std::vector<bool> keep = reduce(c, signature(o.diffs));
      Image small;
      Outcome r = run_case(c, keep, &small);
      unsigned kept = 0;
      for (bool k : keep) kept += k;
      reduced = "\n  reduced to " + std::to_string(kept) + " of " + std::to_string(c.body.size()) +
                " snippets (saved to " + save("reduced", small.bytes, seed, i) + "), differences:\n" + join(r.diffs) +
                "  reduced body:\n" + disassemble(small, small.body_begin, small.body_end);
    }
    FAIL_CHECK("bt and native differ: seed ", hex(seed), ", case ", i, " (HVSIM_FUZZ_SEED=", hex(seed),
               " HVSIM_FUZZ_ONLY=", i, "), bt paging ", paging_text(c), ", image saved to ", saved,
               "\n  differences:\n", join(o.diffs), "  native: ", end_name(o.native.end), " status ",
               o.native.exit_status, ", ", o.native.retired, " instructions; bt: ", end_name(o.bt.end), " status ",
               o.bt.exit_status, ", ", o.bt.retired, " instructions\n  native: ", exception_records(o.native),
               "\n  bt:     ", exception_records(o.bt), "\n  body:\n",
               disassemble(img, img.body_begin, img.body_end), reduced);
    if (failures >= max_failures) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string end_summary, paging_summary, excluded, kind_summary;
  for (const auto& [name, n] : kind_counts) kind_summary += " " + name + "=" + std::to_string(n);
  for (const auto& [name, n] : ends) end_summary += " " + name + "=" + std::to_string(n);
  for (const auto& [name, n] : paging_counts) paging_summary += " " + name + "=" + std::to_string(n);
  for (const auto& name : kKnownBrokenInBt) excluded += " " + name;
  MESSAGE("bt differential, seed ", hex(seed), ": ", cases, " cases (", snippets, " snippets) in ", seconds,
          " s; native ends:", end_summary, "; bt paging:", paging_summary, "; snippets:", kind_summary, "; ", retired, " instructions, ",
          exceptions, " exceptions, ", interrupts, " interrupts; bt: ", callouts, " callouts, ", emulated, " emulated, ", trampolines,
          " trampolines; ", failures, " cases differ", (excluded.empty() ? "" : "; kinds excluded as broken in bt:" + excluded),
          std::string(opt.loope ? "" : "; LOOPE/LOOPNE replaced by LOOP"),
          std::string(opt.cmpxchg8b ? "" : "; CMPXCHG8B/16B replaced by CMPXCHG"),
          std::string(opt.undefined_flags ? "" : "; flags defined after BT*"),
          (unexpected.empty() ? "" : "; unexpected exceptions (exit status 0x80 | vector) in " + std::to_string(unexpected_n) +
                                         " cases:" + unexpected));
  CHECK(failures == 0);
  // The generator must make programs that end properly, not ones the budget stops.
  CHECK(budget_ends * 10 <= cases);
}
