#include "translator/explain.hpp"

#include <algorithm>
#include <cstdio>

#include "translator/chain.hpp"

namespace hvsim::bt {
namespace {

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string why(const GuestInsn& gi, const InsnTranslation& t, const Fragment& f) {
  std::string s = rewrite_text(t.rewrite);
  if (!gi.decoded()) return std::string("callout: ") + callout_kind_text(CalloutKind::Undecodable);
  const Classification& c = gi.cls;
  if (c.cls == InsnClass::Sensitive) {
    const std::string what = sensitive_text(c.sensitive);
    return s + " (" + what + "): " + sensitive_reason(c.sensitive);
  }
  if (t.rewrite == Rewrite::Callout) {
    for (const auto& co : f.callouts) {
      if (co.tc_address >= t.tc_begin && co.tc_address - t.tc_begin < t.tc_length) {
        return s + ": " + callout_kind_text(co.kind);
      }
    }
  }
  if (t.rewrite == Rewrite::Lookup) {
    return s + (c.branch == BranchKind::Return ? ": in the return-address cache" : ": in the hash table");
  }
  for (const auto& st : f.stubs) {
    if (st.from_guest_rip == gi.guest_rip && st.role != StubRole::FallThrough &&
        st.role != StubRole::Limit && st.role != StubRole::ReturnPoint) {
      return s + "; guest target " + hex(st.guest_target);
    }
  }
  return s;
}

std::vector<TcLine> disassemble(const InsnTranslation& t, const Fragment& f,
                                std::span<const uint8_t> tc) {
  std::vector<TcLine> out;
  uint64_t at = t.tc_begin;
  const uint64_t end = t.tc_begin + t.tc_length;
  while (at < end) {
    const uint64_t off = at - f.tc_address;
    if (off >= tc.size()) break;
    const size_t avail = std::min<uint64_t>(end - at, tc.size() - off);
    TcLine line;
    line.tc_address = at;
    size_t len = 0;
    const ExitStub* stub = nullptr;
    for (const auto& s : f.stubs) {
      if (s.tc_address == at) stub = &s;
    }
    if (stub && avail >= kExitStubSize) {
      len = kExitStubSize;
      uint64_t target = 0;
      if (is_chained(std::span<const uint8_t, kExitStubSize>(tc.data() + off, kExitStubSize), at, &target)) {
        line.text = "jmp " + hex(target) + "  ; chained " + stub_role_name(stub->role) +
                    " exit to guest " + hex(stub->guest_target);
      } else {
        line.text = "hlt  ; exit stub (" + std::string(stub_role_name(stub->role)) +
                    "): callout to guest " + hex(stub->guest_target);
      }
    } else if (const Callout* c = f.callout_at(at); c && tc[off] == kCalloutOpcode) {
      len = 1;
      line.text = "hlt  ; callout ";
      line.text += c->kind == CalloutKind::Sensitive ? sensitive_text(c->sensitive) : callout_kind_name(c->kind);
    } else if (auto insn = decode_instruction(tc.data() + off, avail, at)) {
      len = insn->length();
      line.text = insn->text();
    } else {
      len = avail;
      line.text = "(bytes)";
    }
    line.bytes.assign(tc.data() + off, tc.data() + off + len);
    out.push_back(std::move(line));
    at += len;
  }
  return out;
}

std::string byte_string(const std::vector<uint8_t>& b) {
  std::string s;
  char x[4];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(x, sizeof x, i ? " %02x" : "%02x", b[i]);
    s += x;
  }
  return s;
}

}  // namespace

std::vector<ExplainLine> explain(const TranslationUnit& unit, const Fragment& fragment,
                                 std::span<const uint8_t> tc_bytes) {
  std::vector<ExplainLine> lines;
  const size_t n = std::min(unit.insns.size(), fragment.insns.size());
  for (size_t i = 0; i < n; ++i) {
    const GuestInsn& gi = unit.insns[i];
    const InsnTranslation& t = fragment.insns[i];
    ExplainLine l;
    l.guest_rip = gi.guest_rip;
    const size_t glen = gi.decoded() ? gi.length() : gi.bytes_read;
    l.guest_bytes.assign(gi.bytes.begin(), gi.bytes.begin() + glen);
    l.guest_text = gi.decoded() ? gi.insn->text()
                                : "(undecodable; " + std::to_string(gi.bytes_read) + " bytes readable)";
    l.rewrite = t.rewrite;
    l.why = why(gi, t, fragment);
    l.translation = disassemble(t, fragment, tc_bytes);
    lines.push_back(std::move(l));
  }
  // The limit stub belongs to no guest instruction.
  for (const auto& s : fragment.stubs) {
    if (s.role != StubRole::Limit) continue;
    ExplainLine l;
    l.guest_rip = s.guest_target;
    l.guest_text = "(next unit)";
    l.rewrite = Rewrite::Jump;
    l.why = "the unit reached its instruction limit: exit stub to the next guest instruction";
    InsnTranslation t{s.guest_target, s.tc_address, kExitStubSize, Rewrite::Jump};
    l.translation = disassemble(t, fragment, tc_bytes);
    lines.push_back(std::move(l));
  }
  return lines;
}

std::string format_explanation(const std::vector<ExplainLine>& lines) {
  std::string out;
  char buf[512];
  for (const auto& l : lines) {
    std::snprintf(buf, sizeof buf, "%016llx  %-30s %s\n", static_cast<unsigned long long>(l.guest_rip),
                  byte_string(l.guest_bytes).c_str(), l.guest_text.c_str());
    out += buf;
    out += "    ";
    out += rewrite_name(l.rewrite);
    out += ": " + l.why + "\n";
    for (const auto& t : l.translation) {
      std::snprintf(buf, sizeof buf, "    -> %016llx  %-30s %s\n",
                    static_cast<unsigned long long>(t.tc_address), byte_string(t.bytes).c_str(),
                    t.text.c_str());
      out += buf;
    }
  }
  return out;
}

}  // namespace hvsim::bt
