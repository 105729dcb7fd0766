#pragma once
// Architectural CPU state names shared by every engine. Names follow the Intel SDM.
#include <cstdint>
#include <optional>
#include <string>

namespace hvsim {

enum class Gpr : uint8_t { Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15 };
constexpr int kGprCount = 16;
const char* gpr_name(Gpr r);

enum class Seg : uint8_t { Es, Cs, Ss, Ds, Fs, Gs };
constexpr int kSegCount = 6;
const char* seg_name(Seg s);

// A segment register with its hidden part. `attributes` holds bits 8-23 of the descriptor's
// high dword (type, S, DPL, P, AVL, L, D/B, G), i.e. descriptor_high & 0x00f0ff00.
struct SegmentState {
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0;
  uint32_t attributes = 0;

  unsigned dpl() const { return (attributes >> 13) & 3; }
  bool present() const { return attributes & (1u << 15); }
  bool long_mode() const { return attributes & (1u << 21); }
  bool operator==(const SegmentState&) const = default;
};

struct DescriptorTableRegister {
  uint64_t base = 0;
  uint16_t limit = 0;
  bool operator==(const DescriptorTableRegister&) const = default;
};

// System segment (LDTR, TR): a selector plus its hidden part.
using SystemSegment = SegmentState;

namespace rflags {
constexpr uint64_t CF = 1ull << 0, PF = 1ull << 2, AF = 1ull << 4, ZF = 1ull << 6, SF = 1ull << 7,
                   TF = 1ull << 8, IF = 1ull << 9, DF = 1ull << 10, OF = 1ull << 11,
                   IOPL = 3ull << 12, NT = 1ull << 14, RF = 1ull << 16, VM = 1ull << 17,
                   AC = 1ull << 18, VIF = 1ull << 19, VIP = 1ull << 20, ID = 1ull << 21;
constexpr uint64_t kFixed1 = 1ull << 1;
inline unsigned iopl(uint64_t f) { return (f >> 12) & 3; }
}  // namespace rflags

namespace cr0 {
constexpr uint64_t PE = 1ull << 0, MP = 1ull << 1, EM = 1ull << 2, TS = 1ull << 3, ET = 1ull << 4,
                   NE = 1ull << 5, WP = 1ull << 16, AM = 1ull << 18, NW = 1ull << 29,
                   CD = 1ull << 30, PG = 1ull << 31;
}
namespace cr4 {
constexpr uint64_t VME = 1ull << 0, PVI = 1ull << 1, TSD = 1ull << 2, DE = 1ull << 3,
                   PSE = 1ull << 4, PAE = 1ull << 5, MCE = 1ull << 6, PGE = 1ull << 7,
                   PCE = 1ull << 8, OSFXSR = 1ull << 9, OSXMMEXCPT = 1ull << 10,
                   UMIP = 1ull << 11, LA57 = 1ull << 12, VMXE = 1ull << 13, FSGSBASE = 1ull << 16,
                   PCIDE = 1ull << 17, OSXSAVE = 1ull << 18, SMEP = 1ull << 20,
                   SMAP = 1ull << 21;
}

// MSR numbers (SDM Vol. 4).
namespace msr {
constexpr uint32_t IA32_TSC = 0x10, IA32_APIC_BASE = 0x1b, IA32_SYSENTER_CS = 0x174,
                   IA32_SYSENTER_ESP = 0x175, IA32_SYSENTER_EIP = 0x176, IA32_PAT = 0x277,
                   IA32_EFER = 0xc0000080, IA32_STAR = 0xc0000081, IA32_LSTAR = 0xc0000082,
                   IA32_CSTAR = 0xc0000083, IA32_FMASK = 0xc0000084, IA32_FS_BASE = 0xc0000100,
                   IA32_GS_BASE = 0xc0000101, IA32_KERNEL_GS_BASE = 0xc0000102,
                   IA32_TSC_AUX = 0xc0000103;
}
namespace efer {
constexpr uint64_t SCE = 1ull << 0, LME = 1ull << 8, LMA = 1ull << 10, NXE = 1ull << 11;
}

// Exception vectors (SDM Vol. 3A, Table 6-1).
namespace vec {
constexpr uint8_t DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
                  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18,
                  XM = 19, VE = 20, CP = 21;
bool has_error_code(uint8_t vector);
const char* mnemonic(uint8_t vector);  // "#PF", ... or "INT" for vectors >= 32
}  // namespace vec

// #PF error code bits (SDM Vol. 3A, 4.7).
namespace pfec {
constexpr uint32_t P = 1u << 0, W = 1u << 1, U = 1u << 2, RSVD = 1u << 3, I = 1u << 4, PK = 1u << 5;
}

enum class Access : uint8_t { Read, Write, Fetch };
const char* access_name(Access a);

}  // namespace hvsim
