#include "app/state_dump.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace hvsim {

std::string dump_state_json(UnicornCpu& cpu) {
  auto hex = [](uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return std::string(buf);
  };
  nlohmann::ordered_json j;
  for (int r = 0; r < kGprCount; ++r) j[gpr_name(static_cast<Gpr>(r))] = hex(cpu.gpr(static_cast<Gpr>(r)));
  j["rip"] = hex(cpu.rip());
  j["rflags"] = hex(cpu.rflags());
  for (int n : {0, 2, 3, 4, 8}) j["cr" + std::to_string(n)] = hex(cpu.cr(n));
  j["efer"] = hex(cpu.msr(msr::IA32_EFER));
  j["cs"] = hex(cpu.segment(Seg::Cs).selector);
  j["ss"] = hex(cpu.segment(Seg::Ss).selector);
  j["fs_base"] = hex(cpu.msr(msr::IA32_FS_BASE));
  j["gs_base"] = hex(cpu.msr(msr::IA32_GS_BASE));
  j["kernel_gs_base"] = hex(cpu.msr(msr::IA32_KERNEL_GS_BASE));
  return j.dump(2) + "\n";
}

}  // namespace hvsim
