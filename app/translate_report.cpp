#include "app/translate_report.hpp"

#include "core/mem/page_walker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "app/initrd.hpp"
#include "app/scenario.hpp"
#include "core/mem/paging_mode.hpp"
#include "core/vm/elf_loader.hpp"
#include "translator/explain.hpp"
#include "translator/unit.hpp"
#include "translator/vmm_layout.hpp"

namespace hvsim {
namespace {

constexpr int kExitBadInput = 2;
constexpr uint64_t kMaxFlatImage = 32ull << 20;  // as `hvsim run --flat`
constexpr uint64_t kFlatEntry = 0x100000;        // docs/flat-guests.md

bool canonical(uint64_t va) { return is_canonical(va); }
size_t read_code(Vm& vm, uint64_t va, std::span<uint8_t> out) { return bt::read_guest_code(vm, va, out); }

bt::TranslationUnit rebuild_unit(Vm& vm, uint64_t guest_rip) {
  return bt::build_unit([&vm](uint64_t va, std::span<uint8_t> out) { return read_code(vm, va, out); }, guest_rip);
}

// Where an address-order walk continues after this unit: past its last instruction, or one
// byte past an invalid encoding.
uint64_t walk_end(const bt::TranslationUnit& u) {
  const bt::GuestInsn& last = u.insns.back();
  return last.decoded() ? last.next_rip() : last.guest_rip + 1;
}

struct Shown {
  bt::TranslationUnit unit;  // rebuilt from guest memory now, for explain()
  bool from_run = false;     // translated during the run (else translated for this report)
};

// Guest bytes the fragment no longer matches: it was translated from other code (the guest
// wrote to it since). Ident copies must equal the guest's bytes, and the instructions must
// start where the fragment's did.
std::string staleness(const bt::TranslationUnit& unit, const bt::Fragment& f, std::span<const uint8_t> tc) {
  if (unit.insns.size() != f.insns.size()) {
    return fmt::format("the guest code now decodes into {} instructions here; the fragment has {}", unit.insns.size(),
                       f.insns.size());
  }
  for (size_t i = 0; i < f.insns.size(); ++i) {
    const bt::GuestInsn& gi = unit.insns[i];
    const bt::InsnTranslation& t = f.insns[i];
    if (gi.guest_rip != t.guest_rip) {
      return fmt::format("instruction {} now starts at {:#x}; the fragment's started at {:#x}", i + 1, gi.guest_rip,
                         t.guest_rip);
    }
    if (t.rewrite != bt::Rewrite::Ident || !gi.decoded()) continue;
    const uint64_t off = t.tc_begin - f.tc_address;
    if (t.tc_length != gi.length() || off + t.tc_length > tc.size() ||
        std::memcmp(tc.data() + off, gi.bytes.data(), gi.length()) != 0) {
      return fmt::format("the guest bytes at {:#x} differ from the IDENT copy in the cache", gi.guest_rip);
    }
  }
  return {};
}

std::string kinds_line(std::span<const uint64_t> counts, const char* (*name)(size_t)) {
  std::string s;
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k]) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", name(k), counts[k]);
  }
  return s.empty() ? "none" : s;
}

const char* callout_name(size_t k) { return bt::callout_kind_name(static_cast<bt::CalloutKind>(k)); }
const char* sensitive_label(size_t k) { return bt::sensitive_text(static_cast<bt::SensitiveKind>(k)); }

std::string counters_footer(const bt::TranslatorCounters& t, const bt::BtCounters& b) {
  std::string out = "\ntranslator, what the run translated (this report's own translations not included):\n";
#define HVSIM_TR_LINE(name, what) out += fmt::format("  {:<20} {:>10}  {}\n", #name, t.name, what);
  HVSIM_TRANSLATOR_COUNTERS(HVSIM_TR_LINE)
#undef HVSIM_TR_LINE
  out += "  callouts emitted by kind: " + kinds_line(t.callouts_by_kind, callout_name) + "\n";
  out += "  sensitive instructions translated: " + kinds_line(t.sensitive_by_kind, sensitive_label) + "\n";
  out += "engine, what the run executed:\n";
#define HVSIM_BT_LINE(name, what) out += fmt::format("  {:<20} {:>10}  {}\n", #name, b.name, what);
  HVSIM_BT_COUNTERS(HVSIM_BT_LINE)
#undef HVSIM_BT_LINE
  out += "  callouts executed by kind: " + kinds_line(b.callouts_by_kind, callout_name) + "\n";
  return out;
}

Result<void> check_range(const TranslateRange& r) {
  if (!canonical(r.from)) return make_error(fmt::format("--from {:#x} is not a canonical address", r.from));
  if (bt::kTcWindowBase <= r.from) {
    return make_error(fmt::format("--from {:#x} lies in the VMM's translation-cache window (from {:#x}), not in guest code",
                                  r.from, bt::kTcWindowBase));
  }
  if (r.to) {
    if (r.from >= *r.to) return make_error(fmt::format("--from {:#x} must be below --to {:#x}", r.from, *r.to));
    if (*r.to > bt::kTcWindowBase) {
      return make_error(fmt::format("--to {:#x} reaches into the VMM's translation-cache window (from {:#x})", *r.to,
                                    bt::kTcWindowBase));
    }
    if (*r.to - r.from > kTranslateMaxRange) {
      return make_error(fmt::format("the range [{:#x}, {:#x}) is {} bytes; the limit is {} (64 KiB)", r.from, *r.to,
                                    *r.to - r.from, kTranslateMaxRange));
    }
  } else if (r.count == 0 || r.count > kTranslateMaxCount) {
    return make_error(fmt::format("--count must be 1 to {} guest instructions", kTranslateMaxCount));
  }
  return {};
}

}  // namespace

Result<std::string> translate_report(Vm& vm, bt::BtEngine& engine, const TranslateRange& range) {
  if (auto ok = check_range(range); !ok) return ok.error();
  vm.linear().invalidate_control();  // the run may have changed CR3 since the VMM last looked
  const uint64_t from = range.from;
  uint8_t probe = 0;
  if (read_code(vm, from, {&probe, 1}) == 0) {
    return make_error(fmt::format("guest address {:#x} cannot be fetched in kernel mode (not mapped, or not executable) "
                                  "in the guest's current address space",
                                  from));
  }
  const bt::TranslatorCounters run_translated = engine.translator_counters();
  const bt::BtCounters run_counters = engine.counters();
  // How far the walk may go: the range, or 64 KiB for --count, never into the VMM's window.
  const uint64_t limit = range.to ? *range.to : std::min(from + kTranslateMaxRange, bt::kTcWindowBase);

  // Fragments the run left that start in the range, or below it and reach into it.
  std::map<uint64_t, Shown> units;
  for (uint64_t a = from > bt::kMaxUnitBytes ? from - bt::kMaxUnitBytes : 0; a < limit; ++a) {
    if (!engine.fragment_for(a)) continue;
    Shown s;
    s.unit = rebuild_unit(vm, a);
    s.from_run = true;
    if (a < from && walk_end(s.unit) <= from) continue;
    units.emplace(a, std::move(s));
  }

  // The walk in address order: each address reached is the start of a fragment (the run's,
  // else one translated now) or an instruction boundary inside one of the run's.
  uint64_t at = from, counted = 0;
  std::string walk_note;
  auto done = [&] { return range.to ? at >= *range.to : counted >= range.count; };
  while (!done()) {
    if (at >= limit || at < from) {
      walk_note = fmt::format("the walk stopped at {:#x}: {} guest instructions, the 64 KiB limit", at, counted);
      break;
    }
    Shown* unit = nullptr;
    if (auto it = units.find(at); it != units.end()) {
      unit = &it->second;
    } else {
      for (auto it = units.upper_bound(at); !unit && it != units.begin();) {
        --it;
        if (at - it->first > bt::kMaxUnitBytes) break;
        for (const auto& gi : it->second.unit.insns) {
          if (gi.guest_rip == at && gi.decoded()) unit = &it->second;
        }
      }
    }
    if (!unit) {
      if (!engine.translate_for_report(vm, at)) {
        return make_error(fmt::format("the bt engine could not translate guest address {:#x}", at));
      }
      Shown s;
      s.unit = rebuild_unit(vm, at);
      unit = &units.emplace(at, std::move(s)).first->second;
    }
    bool unreadable = false;
    for (const auto& gi : unit->unit.insns) {
      if (gi.guest_rip < at) continue;
      if (done()) break;
      // Another fragment starts here or inside this instruction (a run's fragment at a
      // function's entry, after padding decoded from elsewhere): the walk follows it.
      auto next = units.lower_bound(gi.guest_rip);
      if (next != units.end() && &next->second == unit) ++next;
      if (next != units.end() && next->first < gi.guest_rip + std::max(gi.length(), 1u)) {
        at = next->first;
        break;
      }
      if (!gi.decoded() && gi.bytes_read < bt::kMaxInsnLength) {
        walk_note = fmt::format("the walk stopped at {:#x}: guest memory from {:#x} cannot be fetched in kernel mode",
                                gi.guest_rip, gi.guest_rip + gi.bytes_read);
        unreadable = true;
        break;
      }
      ++counted;
      at = gi.decoded() ? gi.next_rip() : gi.guest_rip + 1;
    }
    if (unreadable) break;
  }
  const uint64_t end = walk_note.empty() && range.to ? *range.to : at;

  // What to show: every fragment that overlaps [from, end).
  std::vector<std::pair<uint64_t, const Shown*>> shown;
  size_t from_run = 0;
  for (const auto& [rip, s] : units) {
    if (rip >= end || walk_end(s.unit) <= from) continue;
    shown.emplace_back(rip, &s);
    from_run += s.from_run;
  }
  const bt::TranslatorCounters& now = engine.translator_counters();
  const bool flushed = engine.counters().flushes != run_counters.flushes;

  UnicornCpu& cpu = vm.cpu();
  std::string out = fmt::format(
      "hvsim translate: {}, engine bt, {} paging, after {} guest instructions (CPL {}, RIP {:#x})\n", vm.config().name,
      paging_mode_name(vm.config().paging), cpu.instructions_retired(), cpu.cpl(), cpu.rip());
  out += fmt::format("guest range [{:#x}, {:#x}): {} instructions in {} fragments ({} translated during the run, {} "
                     "for this report)\n",
                     from, end, counted, shown.size(), from_run, shown.size() - from_run);
  if (cpu.cpl() == 3 && from == cpu.rip()) {
    out += "note: RIP is in guest user code, which the bt engine runs directly; shown as the translator would translate it\n";
  }
  if (!walk_note.empty()) out += "note: " + walk_note + "\n";
  if (flushed) out += "note: translating for this report filled the translation cache, which was flushed\n";
  out += "Each guest instruction (address, bytes, Intel syntax), the rewrite and why, then '->' the\n"
         "translation-cache code it became (chained exit stubs show as their jumps).\n";

  // The fragment reaching furthest so far: a later one starting below its end enters its code.
  uint64_t prev_start = 0, prev_end = 0;
  for (const auto& [rip, s] : shown) {
    const bt::TranslationUnit& u = s->unit;
    out += "\n";
    const bt::Fragment* f = engine.fragment_for(rip);
    if (!f) {
      out += fmt::format("guest {:#x}: its fragment was flushed from the cache while this report translated more\n", rip);
      continue;
    }
    std::string origin = s->from_run ? "translated during the run" : "translated for this report (the run did not reach it)";
    if (rip < prev_end) {
      origin += fmt::format("; it starts inside the guest code of the fragment at {:#x} (another entry into the same code)",
                            prev_start);
    }
    out += fmt::format("fragment at TC {:#x}, {} bytes: guest [{:#x}, {:#x}), {} instruction{}, unit ends: {}; {}\n",
                       f->tc_address, f->size, rip, u.guest_end, u.insns.size(), u.insns.size() == 1 ? "" : "s",
                       bt::unit_end_name(u.end), origin);
    const std::span<const uint8_t> tc = engine.tc_bytes(f->tc_address, f->size);
    if (std::string stale = staleness(u, *f, tc); !stale.empty()) {
      out += "warning: the fragment no longer matches the guest's code (" + stale +
             "); the lines below pair today's guest bytes with the old translation\n";
    }
    out += bt::format_explanation(bt::explain(u, *f, tc));
    if (walk_end(u) > prev_end) {
      prev_start = rip;
      prev_end = walk_end(u);
    }
  }

  out += counters_footer(run_translated, run_counters);
  const uint64_t more_fragments = now.fragments - run_translated.fragments;
  if (more_fragments) {
    out += fmt::format("this report translated {} more fragment{} ({} guest instructions) that the run had not reached\n",
                       more_fragments, more_fragments == 1 ? "" : "s",
                       now.guest_instructions - run_translated.guest_instructions);
  }
  return out;
}

int translate_command(const TranslateRequest& req) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "hvsim: translate: %s\n", message.c_str());
    return kExitBadInput;
  };
  MachineOptions opt = req.machine;
  std::vector<uint8_t> initrd;
  if (!req.scenario_path.empty()) {
    auto scenario = load_scenario(req.scenario_path, req.build_dir);
    if (!scenario) return fail(scenario.error().message);
    if (scenario->guests.size() != 1) {
      return fail(fmt::format("translate takes a scenario with one guest ('{}' has {})", req.scenario_path,
                              scenario->guests.size()));
    }
    const GuestSpec& g = scenario->guests[0];
    opt.name = g.name;
    opt.kernel_path = g.kernel;
    opt.image_path = g.flat;
    opt.cmdline = g.cmdline;
    opt.ram_bytes = g.memory_mib << 20;
    if (!scenario->paging.empty()) {
      opt.paging = *parse_paging_mode(scenario->paging);
      opt.paging_given = true;
    }
    if (!g.programs.empty()) {
      auto files = initrd_files_from_paths(g.programs);
      if (!files) return fail(files.error().message);
      auto packed = pack_initrd(*files);
      if (!packed) return fail(packed.error().message);
      initrd = std::move(*packed);
    }
  } else if (opt.image_path.empty() && opt.kernel_path.empty()) {
    return fail("give a scenario, --flat or --kernel");
  }
  if (!req.paging.empty()) {
    auto mode = parse_paging_mode(req.paging);
    if (!mode || *mode == PagingMode::Ept) return fail("--paging must be native or shadow");
    opt.paging = *mode;
    opt.paging_given = true;
  }
  TranslateRange range;
  range.to = req.to;
  if (req.count) range.count = *req.count;
  if (req.from) {  // refuse a bad range before a long run
    range.from = *req.from;
    if (auto ok = check_range(range); !ok) return fail(ok.error().message);
  } else if (req.count) {
    if (auto ok = check_range(TranslateRange{0, std::nullopt, *req.count}); !ok) return fail(ok.error().message);
  }
  opt.engine = "bt";
  opt.preset.clear();
  opt.log_path.clear();
  opt.max_instructions = req.at;
  const bool kernel = !opt.kernel_path.empty();
  auto image = kernel ? read_file(opt.kernel_path, kMaxKernelBytes) : read_file(opt.image_path, kMaxFlatImage);
  if (!image) return fail(image.error().message);
  if (!opt.initrd_path.empty()) {
    auto bytes = read_file(opt.initrd_path, kMaxInitrdBytes);
    if (!bytes) return fail(bytes.error().message);
    initrd = std::move(*bytes);
  }
  auto machine = build_machine(opt, *image, initrd);
  if (!machine) return fail(machine.error().message);
  Vm& vm = *(*machine)->vm;
  auto* engine = dynamic_cast<bt::BtEngine*>(&vm.engine());
  if (!engine) return fail("the machine was not built with the bt engine");
  vm.set_console([](char) {});
  const RunOutcome out = req.at ? vm.run() : RunOutcome{RunEnd::BudgetExhausted, 0, ""};
  if (out.end != RunEnd::BudgetExhausted) {
    std::fprintf(stderr, "hvsim: translate: the guest ended (%s%s%s) after %llu instructions, before --at %llu\n",
                 run_end_name(out.end), out.detail.empty() ? "" : ": ", out.detail.c_str(),
                 static_cast<unsigned long long>(vm.cpu().instructions_retired()),
                 static_cast<unsigned long long>(req.at));
  }
  if (!req.from) range.from = kernel ? vm.cpu().rip() : kFlatEntry;
  auto report = translate_report(vm, *engine, range);
  if (!report) return fail(report.error().message);
  std::fputs(report->c_str(), stdout);
  return 0;
}

}  // namespace hvsim
