#pragma once
// One run of a bt differential image under one engine, in the machine `hvsim run --flat`
// builds (app/machine_builder.hpp) and under the watchdog, and the state it leaves behind:
// everything the two runs of a case are compared on (bt_diff_compare.hpp).
#include <array>
#include <cstdint>
#include <string>

#include "core/cpu/cpu_types.hpp"
#include "core/mem/paging_mode.hpp"
#include "core/vm/vm.hpp"
#include "fuzz_support.hpp"
#include "translator/bt_engine.hpp"

namespace hvsim::fuzz::bt_diff {

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

// Runs `image` as a flat guest under `engine` ("native" or "bt"; bt with `paging` when
// `paging_given`) to its end, the instruction budget, or the watchdog.
State run_image(const Bytes& image, const std::string& engine, PagingMode paging, bool paging_given);

std::string end_name(RunEnd e);

}  // namespace hvsim::fuzz::bt_diff
