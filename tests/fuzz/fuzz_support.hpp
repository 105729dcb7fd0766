#pragma once
// What the fuzzers in tests/fuzz share: reproducible random numbers, the environment variables
// that steer them, a run under a wall-clock watchdog, and saving an image to a file that
// `hvsim run --flat` runs again.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "core/vm/vm.hpp"

namespace hvsim::fuzz {

using Bytes = std::vector<uint8_t>;

std::string hex(uint64_t v);

// The environment variable `name` as a number (0x for hex), or `fallback` when unset or empty.
uint64_t env_u64(const char* name, uint64_t fallback);
// The comma-separated items of the environment variable `name`; none when it is unset.
std::set<std::string> env_list(const char* name);

// SplitMix64: small, and its output is the same on every platform and standard library (the
// <random> distributions are not), so that every case derives from (seed, index) alone.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1))); }  // [lo, hi]
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T>
  T pick(std::initializer_list<T> v) { return v.begin()[below(v.size())]; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
};

// HVSIM_FUZZ_WATCHDOG_MS: the wall-clock limit of one run (default 5000).
std::chrono::milliseconds watchdog_limit();

// Vm::run() under a wall-clock watchdog: a run still going after `limit` is stopped through
// UnicornCpu::request_stop() (thread-safe) and ends with RunEnd::Stopped; `hung` says so.
// The budget (max_instructions) should end every run long before; the watchdog turns a
// hang into a test failure instead of a test that never returns.
struct WatchedRun {
  RunOutcome out;
  bool hung = false;
};
WatchedRun run_watched(Vm& vm, std::chrono::milliseconds limit = watchdog_limit());

// Writes `bytes` to <name>-<seed in hex>-<index>.bin in the working directory and returns the
// file's full path.
std::string save_image(const std::string& name, const Bytes& bytes, uint64_t seed, unsigned index);

}  // namespace hvsim::fuzz
