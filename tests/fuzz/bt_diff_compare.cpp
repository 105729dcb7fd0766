#include "bt_diff_compare.hpp"

#include <cstring>

#include "bt_diff_layout.hpp"

namespace hvsim::fuzz::bt_diff {

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

std::string signature(const std::vector<std::string>& diffs) {
  if (diffs.empty()) return "";
  const std::string& f = diffs.front();
  return f.substr(0, f.find(':'));
}

std::string join(const std::vector<std::string>& lines, size_t max) {
  std::string s;
  for (size_t i = 0; i < lines.size() && i < max; ++i) s += "    " + lines[i] + "\n";
  if (lines.size() > max) s += "    ... " + std::to_string(lines.size() - max) + " more\n";
  return s;
}

}  // namespace hvsim::fuzz::bt_diff
