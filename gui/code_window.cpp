#include "gui/code_window.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/isa/decoder.hpp"

namespace hvsim::gui {
namespace {

constexpr size_t kMaxInstruction = 15;
constexpr uint64_t kLookBehind = 64;  // bytes tried before RIP

}  // namespace

std::string hex_bytes(const uint8_t* bytes, size_t size) {
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    char b[4];
    std::snprintf(b, sizeof b, i ? " %02x" : "%02x", bytes[i]);
    out += b;
  }
  return out;
}

namespace {

DisasmLine line_for(const Instruction& insn, const uint8_t* bytes, uint64_t rip, const TrapSet& policy) {
  DisasmLine l;
  l.address = insn.address;
  l.length = insn.length();
  l.bytes = hex_bytes(bytes, l.length);
  l.text = insn.text();
  l.trap = classify_trap(insn);
  l.trapped = l.trap && policy.contains(*l.trap);
  l.at_rip = insn.address == rip;
  return l;
}

// Addresses of the instructions decoded from `from` up to `rip`; empty unless one lands on it.
std::vector<uint64_t> chain_to(const uint8_t* bytes, size_t size, uint64_t base, uint64_t from, uint64_t rip) {
  std::vector<uint64_t> starts;
  uint64_t at = from;
  while (at < rip) {
    auto insn = decode_instruction(bytes + (at - base), size - (at - base), at);
    if (!insn) return {};
    starts.push_back(at);
    at = insn->next();
  }
  if (at != rip) return {};
  return starts;
}

}  // namespace

std::vector<DisasmLine> disassemble_window(const uint8_t* bytes, size_t size, uint64_t base, uint64_t rip,
                                           unsigned before, unsigned after, const TrapSet& policy) {
  std::vector<DisasmLine> lines;
  if (rip < base || rip - base >= size) return lines;
  if (before > 0) {
    for (uint64_t from = base; from < rip; ++from) {
      std::vector<uint64_t> starts = chain_to(bytes, size, base, from, rip);
      if (starts.empty()) continue;
      size_t first = starts.size() > before ? starts.size() - before : 0;
      for (size_t i = first; i < starts.size(); ++i) {
        const uint8_t* p = bytes + (starts[i] - base);
        auto insn = decode_instruction(p, size - (starts[i] - base), starts[i]);
        if (insn) lines.push_back(line_for(*insn, p, rip, policy));
      }
      break;
    }
  }
  uint64_t at = rip;
  for (unsigned n = 0; n <= after && at - base < size; ++n) {
    const uint8_t* p = bytes + (at - base);
    auto insn = decode_instruction(p, size - (at - base), at);
    if (!insn) {
      DisasmLine bad;
      bad.address = at;
      bad.length = 1;
      char b[4];
      std::snprintf(b, sizeof b, "%02x", *p);
      bad.bytes = b;
      bad.text = "(not an instruction)";
      bad.at_rip = at == rip;
      bad.valid = false;
      lines.push_back(bad);
      break;
    }
    lines.push_back(line_for(*insn, p, rip, policy));
    at = insn->next();
  }
  return lines;
}

size_t read_guest_code(GuestRam& ram, const PagingControl& control, uint64_t va, uint8_t* out, size_t size) {
  PagingControl c = control;
  c.rflags_ac = true;  // the visualizer's read is not a guest access: SMAP does not apply
  const bool paging = c.cr0 & cr0::PG;
  size_t have = 0;
  while (have < size) {
    const uint64_t at = va + have;
    uint64_t gpa = at;
    if (paging) {
      WalkResult w = walk_page_tables(ram, c, at, Access::Read, 0, false);
      if (!w.ok) break;
      gpa = w.gpa;
    }
    const size_t chunk = std::min<size_t>(size - have, kPageSize - (at & (kPageSize - 1)));
    if (!ram.read(gpa, out + have, chunk)) break;
    have += chunk;
  }
  return have;
}

std::vector<DisasmLine> code_around(GuestRam& ram, const PagingControl& control, uint64_t rip, unsigned before,
                                    unsigned after, const TrapSet& policy) {
  const size_t forward = (after + 1) * kMaxInstruction;
  std::vector<uint8_t> buf(kLookBehind + forward);
  uint64_t base = rip >= kLookBehind ? rip - kLookBehind : 0;
  size_t got = read_guest_code(ram, control, base, buf.data(), buf.size());
  if (got <= rip - base) {
    // The bytes before RIP are on a page that is not mapped: start at RIP's own page.
    base = std::max(base, rip & ~(kPageSize - 1));
    got = read_guest_code(ram, control, base, buf.data(), buf.size());
  }
  if (got <= rip - base) return {};
  return disassemble_window(buf.data(), got, base, rip, before, after, policy);
}

}  // namespace hvsim::gui
