#include "gui/snapshot.hpp"

namespace hvsim::gui {

const char* sim_mode_name(SimMode m) {
  switch (m) {
    case SimMode::Running: return "running";
    case SimMode::Paused: return "paused";
    case SimMode::Ended: return "ended";
  }
  return "?";
}

std::vector<RegisterValue> register_list(const RegisterFile& r) {
  std::vector<RegisterValue> out;
  for (int i = 0; i < kGprCount; ++i) out.push_back({gpr_name(static_cast<Gpr>(i)), r.gpr[static_cast<size_t>(i)]});
  out.push_back({"rip", r.rip});
  out.push_back({"rflags", r.rflags});
  out.push_back({"cr0", r.cr0});
  out.push_back({"cr2", r.cr2});
  out.push_back({"cr3", r.cr3});
  out.push_back({"cr4", r.cr4});
  out.push_back({"cr8", r.cr8});
  out.push_back({"efer", r.efer});
  out.push_back({"cpl", r.cpl});
  return out;
}

std::vector<const char*> changed_registers(const RegisterFile& before, const RegisterFile& after) {
  std::vector<const char*> out;
  const auto a = register_list(before), b = register_list(after);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].value != b[i].value) out.push_back(b[i].name);
  }
  return out;
}

void RegisterTrail::update(size_t guest, GuestSnapshot& g) {
  if (guests_.size() <= guest) guests_.resize(guest + 1);
  Trail& t = guests_[guest];
  if (t.seen && t.last != g.regs) {
    t.before = t.last;
    t.changed = true;
  }
  t.last = g.regs;
  t.seen = true;
  g.prev_regs = t.before;
  g.has_prev = t.changed;
}

}  // namespace hvsim::gui
