#pragma once
// The bt differential fuzzer's flat guest (bt_differential_test.cpp): where the image puts its
// code, IDT, system page and scratch data, what else the comparison covers, and the register
// numbers and flags the generator works with.
#include <cstdint>

#include "core/vm/flat_loader.hpp"

namespace hvsim::fuzz::bt_diff {

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

}  // namespace hvsim::fuzz::bt_diff
