// hvsim command line. Exceptions stop here; the core reports errors as values.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/machine_builder.hpp"
#include "core/vm/elf_loader.hpp"
#include "app/state_dump.hpp"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitTripleFault = 120;
constexpr int kExitHaltedForever = 121;
constexpr int kExitBudget = 122;
constexpr int kExitHostError = 123;
constexpr int kExitExceptionStorm = 124;
constexpr uint64_t kMaxFlatImage = 32ull << 20;

int exit_status_for(hvsim::RunEnd end) {
  switch (end) {
    case hvsim::RunEnd::Exited: return 0;
    case hvsim::RunEnd::TripleFault: return kExitTripleFault;
    case hvsim::RunEnd::HaltedForever: return kExitHaltedForever;
    case hvsim::RunEnd::BudgetExhausted: return kExitBudget;
    case hvsim::RunEnd::Stopped: return 0;
    case hvsim::RunEnd::HostError: return kExitHostError;
    case hvsim::RunEnd::ExceptionStorm: return kExitExceptionStorm;
  }
  return kExitHostError;
}

int run_flat(const hvsim::MachineOptions& opt, const std::string& engine, const std::string& dump_path, bool quiet) {
  using namespace hvsim;
  if (engine != "native") {
    std::fprintf(stderr, "hvsim: engine '%s' is not available yet (only 'native')\n", engine.c_str());
    return kExitBadInput;
  }
  const bool kernel = !opt.kernel_path.empty();
  auto image = kernel ? read_file(opt.kernel_path, kMaxKernelBytes) : read_file(opt.image_path, kMaxFlatImage);
  if (!image) {
    std::fprintf(stderr, "hvsim: %s\n", image.error().message.c_str());
    return kExitBadInput;
  }
  Result<std::vector<uint8_t>> initrd = std::vector<uint8_t>{};
  if (!opt.initrd_path.empty()) initrd = read_file(opt.initrd_path, kMaxInitrdBytes);
  if (!initrd) {
    std::fprintf(stderr, "hvsim: %s\n", initrd.error().message.c_str());
    return kExitBadInput;
  }
  auto machine = build_machine(opt, *image, *initrd);
  if (!machine) {
    std::fprintf(stderr, "hvsim: %s\n", machine.error().message.c_str());
    return kExitBadInput;
  }
  Vm& vm = *(*machine)->vm;
  // Line-buffered: a guest that hangs or is killed still shows what it printed.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  vm.set_console([](char c) { std::fputc(c, stdout); });
  RunOutcome out = vm.run();
  std::fflush(stdout);
  if (!dump_path.empty()) {
    std::ofstream f(dump_path);
    f << dump_state_json(vm.cpu());
    if (!f) {
      std::fprintf(stderr, "hvsim: cannot write '%s'\n", dump_path.c_str());
      return kExitBadInput;
    }
  }
  const auto& c = vm.counters();
  int status = out.end == RunEnd::Exited ? out.exit_status : static_cast<int>(exit_status_for(out.end));
  if (!quiet || out.end != RunEnd::Exited) {
    std::fprintf(stderr,
                 "hvsim: %s %s (exit status %d) after %llu instructions, %llu ns virtual; "
                 "%llu exceptions, %llu interrupts, %llu syscalls, %llu port I/O, %llu trap points\n",
                 vm.config().name.c_str(), run_end_name(out.end), status,
                 static_cast<unsigned long long>(vm.cpu().instructions_retired()),
                 static_cast<unsigned long long>(vm.now_ns()),
                 static_cast<unsigned long long>(c.exceptions_delivered),
                 static_cast<unsigned long long>(c.interrupts_delivered),
                 static_cast<unsigned long long>(c.syscalls), static_cast<unsigned long long>(c.port_io),
                 static_cast<unsigned long long>(vm.cpu().counters().trap_points_hit));
  }
  if (out.end == RunEnd::TripleFault) {
    std::printf("hvsim: triple fault: the guest could not deliver a double fault\n");
  } else if (out.end == RunEnd::HostError) {
    std::fprintf(stderr, "hvsim: host error: %s\n", out.detail.c_str());
  } else if (out.end == RunEnd::ExceptionStorm) {
    std::fprintf(stderr, "hvsim: exception storm: %s (a handler that faults on its own first instruction?)\n",
                 out.detail.c_str());
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hvsim: an educational hypervisor simulator"};
  app.require_subcommand(1);

  hvsim::MachineOptions opt;
  std::string engine = "native", dump_path;
  bool quiet = false;
  auto* run = app.add_subcommand("run", "run a guest");
  auto* flat = run->add_option("--flat", opt.image_path, "flat 64-bit binary loaded at 0x100000 (docs/flat-guests.md)");
  auto* kernel = run->add_option("--kernel", opt.kernel_path, "64-bit ELF kernel (docs/boot-protocol.md)");
  flat->excludes(kernel);
  kernel->excludes(flat);
  run->add_option("--initrd", opt.initrd_path, "initial RAM disk handed to the kernel")->needs(kernel);
  run->add_option("--cmdline", opt.cmdline, "kernel command line")->needs(kernel);
  run->add_option("--engine", engine, "execution engine: native")->default_val("native");
  run->add_option("--log", opt.log_path, "write the event log (JSON Lines) to this file");
  run->add_option("--dump-state", dump_path, "write the final registers as JSON to this file");
  run->add_option("--max-instructions", opt.max_instructions,
                  "stop at the first block boundary at or after this many guest instructions")
      ->check(CLI::Validator(
          [](std::string& s) { return s.find('-') == std::string::npos ? std::string() : "must not be negative"; },
          "NON-NEGATIVE"));
  run->add_flag("--quiet,-q", quiet, "no summary line on a normal exit");

  std::string log_file;
  auto* verify = app.add_subcommand("verify-log", "check an event log's hash chain");
  verify->add_option("file", log_file)->required();

  try {
    app.parse(argc, argv);
    if (*run && opt.image_path.empty() && opt.kernel_path.empty()) {
      throw CLI::RequiredError("--flat or --kernel");
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitBadInput;
  }
  try {
    if (*run) return run_flat(opt, engine, dump_path, quiet);
    if (*verify) {
      auto r = hvsim::verify_log_chain(log_file);
      if (!r) {
        std::fprintf(stderr, "hvsim: %s\n", r.error().message.c_str());
        return 1;
      }
      std::printf("%llu records, chain intact\n", static_cast<unsigned long long>(*r));
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hvsim: internal error: %s\n", e.what());
    return kExitHostError;
  }
  return 0;
}
