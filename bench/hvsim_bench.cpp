// hvsim's hot-path benchmark: guest MIPS against raw Unicorn on the same code, and host time
// per delivered exception, per SYSCALL round trip and per trap point, measured in one run.
// Targets (issue "Foundation"): loops >= 90% of raw Unicorn; each event < 1 us.
#include <unicorn/unicorn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "app/machine_builder.hpp"
#include "app/initrd.hpp"
#include "hwassist/vtx_engine.hpp"
#include "translator/bt_engine.hpp"
#include "translator/emit.hpp"

namespace {

using Clock = std::chrono::steady_clock;
const std::string kDir = HVSIM_GUEST_DIR;

std::vector<uint8_t> image(const std::string& name) {
  auto r = hvsim::read_file(kDir + "/bench_" + name + ".bin", 1 << 20);
  if (!r) {
    std::fprintf(stderr, "bench: %s\n", r.error().message.c_str());
    std::exit(1);
  }
  return *r;
}

// Raw Unicorn: same bytes at the same address, UC_TLB_VIRTUAL with an identity fill (the mode
// hvsim runs in), no other hooks; runs up to the image's final `out 0xf4, al`.
bool identity_fill(uc_engine*, uint64_t va, uc_mem_type, uc_tlb_entry* e, void*) {
  e->paddr = va;
  e->perms = UC_PROT_ALL;
  return va < (64ull << 20);
}

double raw_seconds(const std::vector<uint8_t>& code) {
  uc_engine* uc = nullptr;
  uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
  uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL);
  std::vector<uint8_t> ram(64ull << 20);
  uc_mem_map_ptr(uc, 0, ram.size(), UC_PROT_ALL, ram.data());
  std::memcpy(ram.data() + 0x100000, code.data(), code.size());
  uc_hook h;
  uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, reinterpret_cast<void*>(identity_fill), nullptr, 1, 0);
  uint64_t cr4 = 0x20, cr0 = 0x80000011, rsp = 0x80000;
  uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
  uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
  uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
  auto t0 = Clock::now();
  uc_emu_start(uc, 0x100000, 0x100000 + code.size() - 4, 0, 0);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  uc_close(uc);
  return s;
}

struct HvsimRun {
  double seconds = 0;
  uint64_t instructions = 0;
  hvsim::VmCounters counters;
  uint64_t trap_points = 0;
  hvsim::MemCounters mem;
  uint64_t vm_exits = 0;
  uint64_t callouts = 0;
};

HvsimRun hvsim_run(const std::vector<uint8_t>& code, bool trap_policy = true,
                   hvsim::PagingMode paging = hvsim::PagingMode::Native, const char* vtx_preset = nullptr,
                   const char* engine = nullptr, const hvsim::MachineOptions* kernel = nullptr,
                   const std::vector<uint8_t>* initrd = nullptr) {
  hvsim::MachineOptions opt = kernel ? *kernel : hvsim::MachineOptions{};
  opt.paging = paging;
  opt.paging_given = true;
  if (vtx_preset) {
    opt.engine = "vtx";
    opt.preset = vtx_preset;
  }
  if (engine) opt.engine = engine;
  auto m = initrd ? hvsim::build_machine(opt, code, *initrd) : hvsim::build_machine(opt, code);
  if (!m) {
    std::fprintf(stderr, "bench: %s\n", m.error().message.c_str());
    std::exit(1);
  }
  hvsim::Vm& vm = *(*m)->vm;
  if (!trap_policy) vm.cpu().set_trap_policy({hvsim::TrapKind::Out});
  auto t0 = Clock::now();
  auto out = vm.run();
  HvsimRun r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (out.end != hvsim::RunEnd::Exited) {
    std::fprintf(stderr, "bench: guest did not exit cleanly (%s)\n", hvsim::run_end_name(out.end));
    std::exit(1);
  }
  r.instructions = vm.cpu().instructions_retired();
  r.counters = vm.counters();
  r.trap_points = vm.cpu().counters().trap_points_hit;
  r.mem = vm.mmu().counters();
  if (auto* vtx = dynamic_cast<hvsim::vmx::VtxEngine*>((*m)->engine.get())) r.vm_exits = vtx->exits(vm).total;
  if (auto* bt = dynamic_cast<hvsim::bt::BtEngine*>((*m)->engine.get())) r.callouts = bt->counters().callouts;
  return r;
}

template <typename F>
auto best_of(int n, F f) {
  auto best = f();
  for (int i = 1; i < n; ++i) {
    auto r = f();
    if (r.seconds < best.seconds) best = r;
  }
  return best;
}

struct Seconds {
  double seconds;
};

}  // namespace

// The bt engine (issue 6): translated kernel code and directly executed user code against
// native in the same run, the translator's speed, and the host cost of a callout.
int bt_benchmarks(int reps) {
  int misses = 0;
  std::printf("\n%-34s %12s %12s %10s %8s\n", "bt engine", "native", "bt", "ratio", "target");
  auto mips = [](const HvsimRun& r) { return r.instructions / r.seconds / 1e6; };
  // A flat guest's best run of `reps` under native and under bt, taken in turns.
  auto native_and_bt = [reps](const char* name) {
    auto code = image(name);
    std::pair<HvsimRun, HvsimRun> best;
    best.first.seconds = best.second.seconds = 1e30;
    for (int i = 0; i < reps; ++i) {
      if (auto r = hvsim_run(code); r.seconds < best.first.seconds) best.first = r;
      if (auto r = hvsim_run(code, true, hvsim::PagingMode::Shadow, nullptr, "bt"); r.seconds < best.second.seconds) {
        best.second = r;
      }
    }
    return best;
  };
  {  // kernel-mode compute: the flat guests run at CPL 0, so under bt from the cache
    const auto [native, bt] = native_and_bt("regloop");
    const bool ok = mips(bt) >= 0.5 * mips(native);
    misses += !ok;
    std::printf("%-34s %12.0f %12.0f %9.0f%% %8s\n", "translated kernel loop, MIPS", mips(native), mips(bt),
                100 * mips(bt) / mips(native), ok ? ">=50% ok" : ">=50% MISS");
  }
  {  // indirect branches in kernel code: each a lookup in the cache (hash table, return cache)
    const auto [native, bt] = native_and_bt("callret");
    // Target: with a lookup in the cache (about 17 instructions of the VMM's and two more
    // blocks per hit) a loop of nothing but indirect branches keeps a tenth of the native MIPS;
    // as callouts (three per iteration, about 2 us each) it would keep about 1%.
    const bool ok = mips(bt) >= 0.10 * mips(native) && bt.callouts < 100;
    misses += !ok;
    std::printf("%-34s %12.0f %12.0f %9.0f%% %8s\n", "indirect-branch loop, MIPS", mips(native), mips(bt),
                100 * mips(bt) / mips(native), ok ? ">=10% ok" : ">=10% MISS");
  }
  {  // user-mode compute: the guest kernel runs `compute` (heap sort) in user mode
    hvsim::MachineOptions opt;
    opt.kernel_path = HVSIM_KERNEL_PATH;
    opt.cmdline = "init compute 200000";
    auto kernel = hvsim::read_file(opt.kernel_path, 64 << 20);
    auto files = hvsim::initrd_files_from_paths({HVSIM_USER_DIR "/init", HVSIM_USER_DIR "/compute"});
    auto initrd = files ? hvsim::pack_initrd(*files) : hvsim::Result<std::vector<uint8_t>>(files.error());
    if (!kernel || !initrd) {
      std::fprintf(stderr, "bench: the guest kernel or its programs are missing\n");
      return misses + 1;
    }
    HvsimRun native, bt;
    native.seconds = bt.seconds = 1e30;
    for (int i = 0; i < reps; ++i) {
      if (auto r = hvsim_run(*kernel, true, hvsim::PagingMode::Shadow, nullptr, "native", &opt, &*initrd);
          r.seconds < native.seconds)
        native = r;
      if (auto r = hvsim_run(*kernel, true, hvsim::PagingMode::Shadow, nullptr, "bt", &opt, &*initrd); r.seconds < bt.seconds)
        bt = r;
    }
    const bool ok = mips(bt) >= 0.9 * mips(native);
    misses += !ok;
    std::printf("%-34s %12.0f %12.0f %9.0f%% %8s\n", "user compute (shadow paging), MIPS", mips(native), mips(bt),
                100 * mips(bt) / mips(native), ok ? ">=90% ok" : ">=90% MISS");
  }
  {  // translation speed: every byte offset of the benchmark images as a unit start
    uint64_t translated = 0;
    double seconds = 1e30;
    for (int i = 0; i < reps; ++i) {
      uint64_t n = 0;
      auto t0 = Clock::now();
      for (const char* name : {"regloop", "memstride", "divzero", "syscall", "rdtsc", "pagestride", "cpuid"}) {
        auto code = image(name);
        const uint64_t base = 0x100000;
        auto reader = [&](uint64_t va, std::span<uint8_t> out) -> size_t {
          if (va < base || va - base >= code.size()) return 0;
          const size_t n = std::min<size_t>(out.size(), code.size() - (va - base));
          std::memcpy(out.data(), code.data() + (va - base), n);
          return n;
        };
        std::vector<uint8_t> buffer(hvsim::bt::kMaxFragmentSize);
        for (uint64_t off = 0; off < code.size(); ++off) {
          auto unit = hvsim::bt::build_unit(reader, base + off);
          auto f = hvsim::bt::emit_fragment(unit, hvsim::bt::kTcFragmentsBase, buffer);
          if (f) n += unit.insns.size();
        }
      }
      seconds = std::min(seconds, std::chrono::duration<double>(Clock::now() - t0).count());
      translated = n;
    }
    const double per_second = translated / seconds;
    std::printf("%-34s %12llu %12.2f %10s %8s\n", "translation: instructions, M/s", static_cast<unsigned long long>(translated),
                per_second / 1e6, "", "");
  }
  {  // a callout: CPUID in kernel code (a trampoline runs it; two stops per CPUID)
    auto r = best_of(reps, [&] { return hvsim_run(image("cpuid"), true, hvsim::PagingMode::Shadow, nullptr, "bt"); });
    const double ns = r.callouts ? r.seconds * 1e9 / static_cast<double>(r.callouts) : 0;
    const bool ok = r.callouts > 0 && ns < 2000;
    misses += !ok;
    std::printf("%-34s %12llu %12.0f %10s %8s\n", "callout (CPUID under bt)", static_cast<unsigned long long>(r.callouts), ns,
                "ns each", ok ? "<2us ok" : "<2us MISS");
  }
  return misses;
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int reps = quick ? 1 : 5;
  int misses = 0;
  std::printf("hvsim bench (best of %d; host: %s)\n\n", reps, quick ? "quick run" : "full run");
  std::printf("%-34s %12s %12s %10s %8s\n", "loop", "raw MIPS", "hvsim MIPS", "ratio", "target");
  for (const char* name : {"regloop", "memstride"}) {
    auto code = image(name);
    // Interleaved, best of each: the host's shared vCPUs drift by 2x between seconds, so a
    // ratio is only meaningful between runs taken close together.
    Seconds raw{1e30};
    HvsimRun hv, hv_plain;
    hv.seconds = hv_plain.seconds = 1e30;
    for (int i = 0; i < reps; ++i) {
      raw.seconds = std::min(raw.seconds, raw_seconds(code));
      if (auto r = hvsim_run(code); r.seconds < hv.seconds) hv = r;
      if (auto r = hvsim_run(code, false); r.seconds < hv_plain.seconds) hv_plain = r;
    }
    double raw_mips = hv.instructions / raw.seconds / 1e6;
    double hv_mips = hv.instructions / hv.seconds / 1e6;
    double plain_mips = hv_plain.instructions / hv_plain.seconds / 1e6;
    bool ok = hv_mips >= 0.9 * raw_mips;
    misses += !ok;
    std::printf("%-34s %12.0f %12.0f %9.0f%% %8s\n", name, raw_mips, hv_mips, 100 * hv_mips / raw_mips,
                ok ? ">=90% ok" : ">=90% MISS");
    std::printf("%-34s %12s %12.0f %9.0f%%\n", "  (same, trap points only on OUT)", "", plain_mips,
                100 * plain_mips / raw_mips);
  }
  std::printf("\n%-34s %12s %12s %8s\n", "event", "count", "ns each", "target");
  struct EventBench {
    const char* name;
    const char* label;
    uint64_t (*count)(const HvsimRun&);
  };
  const EventBench events[] = {
      {"divzero", "exception delivered (#DE)", [](const HvsimRun& r) { return r.counters.exceptions_delivered; }},
      {"syscall", "SYSCALL/SYSRET round trip", [](const HvsimRun& r) { return r.counters.syscalls; }},
      {"rdtsc", "trap point (RDTSC emulated)", [](const HvsimRun& r) { return r.trap_points; }},
  };
  for (const auto& e : events) {
    auto r = best_of(reps, [&] { return hvsim_run(image(e.name)); });
    uint64_t n = e.count(r);
    double ns = r.seconds * 1e9 / static_cast<double>(n);
    bool ok = ns < 1000;
    misses += !ok;
    std::printf("%-34s %12llu %12.0f %8s\n", e.label, static_cast<unsigned long long>(n), ns,
                ok ? "<1us ok" : "<1us MISS");
  }
  // Memory virtualization: the same page-stride loop (nearly every load a TLB fill) under each
  // paging mode, interleaved. The fill costs differ by the walk: native 2-3 guest references
  // (the flat machine's 2 MiB pages), EPT 3 guest levels x 5 + 4 with 4 KiB EPT pages, shadow
  // a 4-level walk of its own tables once the entries are built.
  std::printf("\n%-34s %12s %12s %10s %12s %8s\n", "4 KiB-stride loop, paging", "hvsim MIPS", "fills", "refs/fill",
              "ns per fill", "target");
  {
    auto code = image("pagestride");
    const hvsim::PagingMode modes[] = {hvsim::PagingMode::Native, hvsim::PagingMode::Ept, hvsim::PagingMode::Shadow};
    HvsimRun best[3];
    for (auto& b : best) b.seconds = 1e30;
    for (int i = 0; i < reps; ++i) {
      for (int m = 0; m < 3; ++m) {
        if (auto r = hvsim_run(code, true, modes[m]); r.seconds < best[m].seconds) best[m] = r;
      }
    }
    const double native_mips = best[0].instructions / best[0].seconds / 1e6;
    for (int m = 0; m < 3; ++m) {
      const HvsimRun& r = best[m];
      double mips = r.instructions / r.seconds / 1e6;
      double refs = r.mem.fills ? static_cast<double>(r.mem.walk_references) / static_cast<double>(r.mem.fills) : 0;
      double ns = r.mem.fills ? r.seconds * 1e9 / static_cast<double>(r.mem.fills) : 0;
      // Target: a virtualized MMU keeps at least half the native MIPS on a fill-bound loop.
      bool ok = m == 0 || mips >= 0.5 * native_mips;
      misses += !ok;
      char target[32];
      std::snprintf(target, sizeof target, m == 0 ? "" : ">=50%% %s", ok ? "ok" : "MISS");
      std::printf("%-34s %12.0f %12llu %10.1f %12.0f %8s\n", hvsim::paging_mode_name(modes[m]), mips,
                  static_cast<unsigned long long>(r.mem.fills), refs, ns, target);
    }
  }
  // The vtx engine: code that exits nowhere runs as fast as native (the same trap points,
  // nothing more); each exit has a host cost of its own.
  std::printf("\n%-34s %12s %12s %10s %8s\n", "vtx engine", "", "", "", "target");
  {
    auto code = image("regloop");
    HvsimRun native, vtx;
    native.seconds = vtx.seconds = 1e30;
    for (int i = 0; i < reps; ++i) {
      if (auto r = hvsim_run(code); r.seconds < native.seconds) native = r;
      if (auto r = hvsim_run(code, true, hvsim::PagingMode::Ept, "vtx-ept"); r.seconds < vtx.seconds) vtx = r;
    }
    double native_mips = native.instructions / native.seconds / 1e6, vtx_mips = vtx.instructions / vtx.seconds / 1e6;
    bool ok = vtx_mips >= 0.9 * native_mips;
    misses += !ok;
    std::printf("%-34s %12.0f %12.0f %9.0f%% %8s\n", "exit-free loop: native, vtx MIPS", native_mips, vtx_mips,
                100 * vtx_mips / native_mips, ok ? ">=90% ok" : ">=90% MISS");
  }
  struct ExitBench {
    const char* guest;
    const char* label;
    uint64_t (*count)(const HvsimRun&);
  };
  const ExitBench exit_benches[] = {
      {"cpuid", "CPUID exit (vtx-ept)", [](const HvsimRun& r) { return r.vm_exits; }},
      {"unbacked", "EPT-violation exit (vtx-ept)", [](const HvsimRun& r) { return r.mem.ept_violations; }},
  };
  for (const auto& e : exit_benches) {
    auto r = best_of(reps, [&] { return hvsim_run(image(e.guest), true, hvsim::PagingMode::Ept, "vtx-ept"); });
    uint64_t n = e.count(r);
    double ns = n ? r.seconds * 1e9 / static_cast<double>(n) : 0;
    bool ok = n > 0 && ns < 1000;
    misses += !ok;
    std::printf("%-34s %12llu %12.0f %10s %8s\n", e.label, static_cast<unsigned long long>(n), ns, "ns each",
                ok ? "<1us ok" : "<1us MISS");
  }
  misses += bt_benchmarks(reps);
  std::printf("\n%d target(s) missed\n", misses);
  return 0;
}
