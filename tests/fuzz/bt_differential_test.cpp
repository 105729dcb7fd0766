// Differential fuzzing of the bt engine (issue 6): random kernel-mode instruction sequences,
// encoded with Zydis' encoder as flat guests, run under `native` and under `bt`; the two runs
// must end the same way with the same registers, flags, system state, memory and console.
//
// Each case is one flat image (docs/flat-guests.md), derived from (seed, index) alone:
//   code     0x100000  prologue (LIDT of the image's own IDT, known register values, random
//                      flags), in a quarter of the cases a JMP over padding so that the body
//                      straddles 0x101000, the body (20-60 random snippets from the weighted
//                      menu kKinds), the epilogue (every GPR and RFLAGS stored, then OUT 0xf4
//                      ends the run), small local functions (RET, RET imm16), the exception
//                      stubs and their handler
//   IDT      0x104000  gates 0-31, 0x40-0x47, 0x80 (the others not present); #DE, #BP, #SS,
//                      #GP and #PF on IST1; 0x44-0x47 (the timer's) are interrupt gates
//   system   0x105000  IDTR images, the resume slot, exception records, saved registers
//   scratch  0x106000  8 KiB of random bytes; R14 points at its middle (never written)
// The handler records every exception and interrupt (vector, error code, frame, CR2) and, for
// a fault, resumes at the address the snippet put in the resume slot; an exception nobody
// expected ends the run with exit status 0x80 | vector. A saved image runs on its own:
// `hvsim run --flat X.bin [--engine bt]`, or HVSIM_FUZZ_IMAGE below.
//
// Compared: the run's end and exit status, instructions retired and virtual time, GPRs, RIP,
// RFLAGS, CR0/2/3/4/8, EFER, segment registers (selector, base, limit, attributes), FS/GS/
// KERNEL_GS base, TSC_AUX, GDTR/IDTR/LDTR/TR, the whole image (code, IDT, system page,
// scratch), the stack and IST1 pages, the page tables (accessed/dirty bits), console output,
// exceptions and interrupts delivered. bt runs with shadow paging (its default) in half the
// cases, with native paging or EPT in the others.
//
// What bt or the CPU substrate gets wrong is kept out of the default run, so that ctest stays
// green, and comes back on demand: the kinds in kKnownBrokenInBt (HVSIM_FUZZ_ONLY_KINDS) and
// the switches of Options (HVSIM_FUZZ_LOOPE, _CMPXCHG8B, _UNDEFINED_FLAGS, _FAST_TIMER,
// _FAST_TIMER); each says what goes wrong, with a reproducer. What was fixed is in the
// default run (its switches, _BT_NONCANONICAL, _IRQ_WINDOWS and _BT_FAR_CODE, = 0 turn it off).
//
// Environment (as guest_fuzz_test.cpp):
//   HVSIM_FUZZ_SEED=<n>     another seed (default 0xb7d1ff01)
//   HVSIM_FUZZ_COUNT=<n>    another number of cases (default 300; 10000 take about 2 minutes)
//   HVSIM_FUZZ_ONLY=<i>     run case <i> only
//   HVSIM_FUZZ_SAVE=1       write each case's image to bt-diff-case-<seed>-<index>.bin
//   HVSIM_FUZZ_PRINT=1      print each case's disassembly and exception records (with ONLY)
//   HVSIM_FUZZ_REDUCE=1     on a mismatch, drop snippets while its first difference stays the
//                           same kind, then print (and save) the smallest program found
//   HVSIM_FUZZ_SNIPPETS=<n> body length in snippets (default: 20-60 per case)
//   HVSIM_FUZZ_ONLY_KINDS=a,b   draw snippets from these kinds only (known-broken ones too)
//   HVSIM_FUZZ_EXCLUDE=a,b  never draw these kinds
//   HVSIM_FUZZ_WATCHDOG_MS=<n>  wall-clock limit of one run (default 5000)
//   HVSIM_FUZZ_MAX_FAILURES=<n> stop after this many failing cases (default 5)
//   HVSIM_FUZZ_IMAGE=<file> run one flat image (a saved case) under both engines instead,
//                           bt with HVSIM_FUZZ_PAGING=shadow|native|ept (default shadow)
// A failure prints the seed, the case index, the differences, both runs' exception records
// and the body's disassembly, and saves the image to bt-diff-failure-<seed>-<index>.bin.
//
// The parts, each in its own file here in tests/fuzz:
//   bt_diff_layout.hpp      the image's layout, register numbers, flags
//   bt_diff_program.*       Zydis requests, snippets and functions, the Case, the assembler
//   bt_diff_menu.*          the kinds with their weights, the kinds known broken, Options
//   bt_diff_generator.*     Gen: emitting, operands, safe instructions, functions; make_case
//   bt_diff_kinds_*.cpp     the kinds: general, system, faults
//   bt_diff_image.*         the flat image of a case (prologue, epilogue, handler, IDT), disassembly
//   bt_diff_run.*           one run under one engine and the State it leaves
//   bt_diff_compare.*       the comparison of two States and the report's pieces
//   bt_diff_case.*          a case under both engines, compared; the reducer
//   fuzz_support.*          what guest_fuzz_test.cpp shares: Rng, environment, watchdog, saving
// This file holds the test case itself.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "app/machine_builder.hpp"
#include "bt_diff_case.hpp"
#include "bt_diff_compare.hpp"
#include "bt_diff_generator.hpp"
#include "bt_diff_image.hpp"
#include "bt_diff_layout.hpp"
#include "bt_diff_menu.hpp"
#include "bt_diff_run.hpp"
#include "fuzz_support.hpp"

using namespace hvsim;
using namespace hvsim::fuzz;
using namespace hvsim::fuzz::bt_diff;

namespace {

constexpr uint64_t kDefaultSeed = 0xb7d1ff01;
constexpr unsigned kDefaultCount = 300;

// Writes an image to bt-diff-<what>-<seed>-<index>.bin; returns its path.
std::string save(const char* what, const Bytes& bytes, uint64_t seed, unsigned index) {
  return save_image(std::string("bt-diff-") + what, bytes, seed, index);
}

std::string paging_text(const Case& c) { return paging_mode_name(c.paging); }

// HVSIM_FUZZ_IMAGE=<file.bin>: run that flat image (a saved case, or any guest) under native
// and bt (paging HVSIM_FUZZ_PAGING=shadow|native|ept, default shadow) and compare as above.
bool run_given_image() {
  const char* path = std::getenv("HVSIM_FUZZ_IMAGE");
  if (!path || !*path) return false;
  auto bytes = read_file(path, 64u << 20);
  REQUIRE_MESSAGE(bytes.ok(), (bytes.ok() ? "" : bytes.error().message));
  const char* paging = std::getenv("HVSIM_FUZZ_PAGING");
  const std::string mode = paging && *paging ? paging : "shadow";
  const PagingMode m = mode == "native" ? PagingMode::Native : mode == "ept" ? PagingMode::Ept : PagingMode::Shadow;
  Bytes image = *bytes;
  if (image.size() < kImageSize) image.resize(kImageSize, 0);  // the state compared covers kImageSize bytes
  const State n = run_image(image, "native", PagingMode::Native, false);
  const State b = run_image(image, "bt", m, true);
  const auto diffs = compare(n, b);
  MESSAGE(std::string(path), " (bt paging ", mode, "): native ", end_name(n.end), " status ", n.exit_status, ", ", n.retired,
          " instructions; bt ", end_name(b.end), " status ", b.exit_status, ", ", b.retired, " instructions; ",
          diffs.empty() ? std::string("no differences") : "differences:\n" + join(diffs));
  CHECK(diffs.empty());
  return true;
}

}  // namespace

TEST_CASE("Fuzz: bt and native agree on random kernel code") {
  if (run_given_image()) return;
  const uint64_t seed = env_u64("HVSIM_FUZZ_SEED", kDefaultSeed);
  const uint64_t only = env_u64("HVSIM_FUZZ_ONLY", ~0ull);
  const auto count = only != ~0ull ? static_cast<unsigned>(only + 1)
                                   : static_cast<unsigned>(env_u64("HVSIM_FUZZ_COUNT", kDefaultCount));
  const bool save_all = env_u64("HVSIM_FUZZ_SAVE", 0) != 0;
  const bool print = env_u64("HVSIM_FUZZ_PRINT", 0) != 0;
  const bool reduce_failures = env_u64("HVSIM_FUZZ_REDUCE", 0) != 0;
  const auto max_failures = static_cast<unsigned>(env_u64("HVSIM_FUZZ_MAX_FAILURES", 5));
  const auto kinds = menu();
  const Options opt = Options::from_env();
  REQUIRE_MESSAGE(!kinds.empty(), "no snippet kinds left (HVSIM_FUZZ_ONLY_KINDS / HVSIM_FUZZ_EXCLUDE)");

  const auto started = std::chrono::steady_clock::now();
  unsigned cases = 0, failures = 0, budget_ends = 0;
  std::string unexpected;
  unsigned unexpected_n = 0;
  std::map<std::string, unsigned> ends, kind_counts;
  std::map<std::string, unsigned> paging_counts;
  uint64_t retired = 0, exceptions = 0, interrupts = 0, callouts = 0, emulated = 0, trampolines = 0, snippets = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (only != ~0ull && i != only) continue;
    const Case c = make_case(seed, i, kinds, opt);
    const std::vector<bool> all(c.body.size(), true);
    Image img;
    Outcome o = run_case(c, all, &img);
    CAPTURE(seed);
    CAPTURE(i);
    REQUIRE_MESSAGE(o.error.empty(), "case ", i, ": ", o.error);
    ++cases;
    snippets += c.body.size();
    for (const auto& b : c.body) ++kind_counts[b.kind];
    ++paging_counts[paging_text(c)];
    if (save_all) MESSAGE("case ", i, " saved to ", save("case", img.bytes, seed, i));
    if (print) {
      MESSAGE("case ", i, " (bt paging ", paging_text(c), "), native: ", end_name(o.native.end), " status ",
              o.native.exit_status, ", ", o.native.retired, " instructions, ", o.native.exceptions,
              " exceptions; bt: ", end_name(o.bt.end), " status ", o.bt.exit_status, ", ", o.bt.btc.callouts,
              " callouts\n  native: ", exception_records(o.native), "\n  bt:     ", exception_records(o.bt), "\n",
              disassemble(img, kBase, img.code_end));
    }
    ++ends[std::string(end_name(o.native.end)) + (o.native.end == RunEnd::Exited ? " " + std::to_string(o.native.exit_status) : "")];
    if (o.native.end == RunEnd::BudgetExhausted) ++budget_ends;
    // An exception the generator did not mean to cause (the handler's exit status 0x80 | vector)
    if (o.native.end == RunEnd::Exited && o.native.exit_status >= 0x80 && unexpected_n++ < 10) {
      unexpected += " " + std::to_string(i) + " (vector " + std::to_string(o.native.exit_status & 0x7f) + ")";
    }
    retired += o.native.retired;
    exceptions += o.native.exceptions;
    interrupts += o.native.interrupts;
    callouts += o.bt.btc.callouts;
    emulated += o.bt.btc.sensitive_emulated;
    trampolines += o.bt.btc.trampolines;
    if (o.diffs.empty()) continue;

    ++failures;
    const std::string saved = save("failure", img.bytes, seed, i);
    std::string reduced;
    if (reduce_failures) {
      const std::vector<bool> keep = reduce(c, signature(o.diffs));
      Image small;
      Outcome r = run_case(c, keep, &small);
      unsigned kept = 0;
      for (bool k : keep) kept += k;
      reduced = "\n  reduced to " + std::to_string(kept) + " of " + std::to_string(c.body.size()) +
                " snippets (saved to " + save("reduced", small.bytes, seed, i) + "), differences:\n" + join(r.diffs) +
                "  reduced body:\n" + disassemble(small, small.body_begin, small.body_end);
    }
    FAIL_CHECK("bt and native differ: seed ", hex(seed), ", case ", i, " (HVSIM_FUZZ_SEED=", hex(seed),
               " HVSIM_FUZZ_ONLY=", i, "), bt paging ", paging_text(c), ", image saved to ", saved,
               "\n  differences:\n", join(o.diffs), "  native: ", end_name(o.native.end), " status ",
               o.native.exit_status, ", ", o.native.retired, " instructions; bt: ", end_name(o.bt.end), " status ",
               o.bt.exit_status, ", ", o.bt.retired, " instructions\n  native: ", exception_records(o.native),
               "\n  bt:     ", exception_records(o.bt), "\n  body:\n",
               disassemble(img, img.body_begin, img.body_end), reduced);
    if (failures >= max_failures) break;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string end_summary, paging_summary, excluded, kind_summary;
  for (const auto& [name, n] : kind_counts) kind_summary += " " + name + "=" + std::to_string(n);
  for (const auto& [name, n] : ends) end_summary += " " + name + "=" + std::to_string(n);
  for (const auto& [name, n] : paging_counts) paging_summary += " " + name + "=" + std::to_string(n);
  for (const auto& name : kKnownBrokenInBt) excluded += " " + name;
  MESSAGE("bt differential, seed ", hex(seed), ": ", cases, " cases (", snippets, " snippets) in ", seconds,
          " s; native ends:", end_summary, "; bt paging:", paging_summary, "; snippets:", kind_summary, "; ", retired, " instructions, ",
          exceptions, " exceptions, ", interrupts, " interrupts; bt: ", callouts, " callouts, ", emulated, " emulated, ", trampolines,
          " trampolines; ", failures, " cases differ", (excluded.empty() ? "" : "; kinds excluded as broken in bt:" + excluded),
          std::string(opt.loope ? "" : "; LOOPE/LOOPNE replaced by LOOP"),
          std::string(opt.cmpxchg8b ? "" : "; CMPXCHG8B/16B replaced by CMPXCHG"),
          std::string(opt.undefined_flags ? "" : "; flags defined after BT*"),
          (unexpected.empty() ? "" : "; unexpected exceptions (exit status 0x80 | vector) in " + std::to_string(unexpected_n) +
                                         " cases:" + unexpected));
  CHECK(failures == 0);
  // The generator must make programs that end properly, not ones the budget stops.
  CHECK(budget_ends * 10 <= cases);
}
