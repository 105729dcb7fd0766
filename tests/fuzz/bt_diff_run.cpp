#include "bt_diff_run.hpp"

#include <doctest/doctest.h>

#include "app/machine_builder.hpp"
#include "bt_diff_layout.hpp"

namespace hvsim::fuzz::bt_diff {
namespace {

// The instruction budget of one run; a case that ends properly is far shorter.
constexpr uint64_t kBudget = 200000;

}  // namespace

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

  const WatchedRun watched = run_watched(vm);
  const RunOutcome& out = watched.out;

  UnicornCpu& cpu = vm.cpu();
  st.end = out.end;
  st.exit_status = out.exit_status;
  st.detail = out.detail;
  st.hung = watched.hung;
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

}  // namespace hvsim::fuzz::bt_diff
