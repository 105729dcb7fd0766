#include "fuzz_support.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace hvsim::fuzz {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

std::set<std::string> env_list(const char* name) {
  std::set<std::string> out;
  const char* v = std::getenv(name);
  if (!v) return out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}

std::chrono::milliseconds watchdog_limit() {
  return std::chrono::milliseconds(env_u64("HVSIM_FUZZ_WATCHDOG_MS", 5000));
}

WatchedRun run_watched(Vm& vm, std::chrono::milliseconds limit) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> fired{false};
  std::thread dog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, limit, [&] { return done; })) {
      fired = true;
      vm.cpu().request_stop();
    }
  });
  WatchedRun w;
  w.out = vm.run();
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_one();
  dog.join();
  w.hung = fired && w.out.end == RunEnd::Stopped;
  return w;
}

std::string save_image(const std::string& name, const Bytes& bytes, uint64_t seed, unsigned index) {
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, "-%llx-%u.bin", static_cast<unsigned long long>(seed), index);
  const std::string file = name + suffix;
  std::ofstream f(file, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return (std::filesystem::current_path() / file).string();
}

}  // namespace hvsim::fuzz
