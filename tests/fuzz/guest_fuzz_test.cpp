// Guest-behaviour fuzzing: random flat images must never hurt the host.  Whatever a guest
// does, Vm::run() ends with a RunEnd the guest can cause (exit, triple fault, halt, budget),
// never RunEnd::HostError, never a crash (run under HVSIM_SANITIZE for memory errors).
//
// Reproducible: a fixed seed, and every image derives from (seed, index) alone.  Environment:
//   HVSIM_FUZZ_SEED=<n>    another seed (default 0x5eed0001)
//   HVSIM_FUZZ_COUNT=<n>   another number of images (default 500)
//   HVSIM_FUZZ_WATCHDOG_MS=<n>  wall-clock limit of one run (default 5000): a run still going
//                          then is stopped and counted as a hang
//   HVSIM_FUZZ_ONLY=<i>    run image <i> only
//   HVSIM_FUZZ_SAVE=1      write each image to fuzz-image-<seed>-<index>.bin before running it
//   HVSIM_FUZZ_LOG=<file>  write the event log of each run to <file> (use with HVSIM_FUZZ_ONLY)
// A failing image is written to fuzz-failure-<seed>-<index>.bin in the working directory;
// `hvsim run --flat` runs it (the VM of the images with devices is the same as hvsim's, but
// an image with idt=1 also had a random IDT installed by the test: rerun those here).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/log/event_log.hpp"
#include "core/vm/flat_loader.hpp"
#include "core/vm/vm.hpp"
#include "devices/debug_exit.hpp"
#include "devices/interval_timer.hpp"
#include "devices/port_bus.hpp"
#include "devices/uart16550.hpp"
#include "fuzz_support.hpp"

using namespace hvsim;
using namespace hvsim::fuzz;

namespace {

constexpr uint64_t kDefaultSeed = 0x5eed0001;
constexpr unsigned kDefaultCount = 500;
constexpr uint64_t kBudget = 20000;
constexpr uint64_t kVmRam = 64ull << 20;

void put_le(Bytes& out, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Values worth having in registers and immediates: RAM edges, the machine's own structures
// (page tables, GDT, TSS, IDT, stacks), MSR numbers, ports, non-canonical and MMIO addresses.
const std::vector<uint64_t> kInteresting = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ull, ~0ull, 0x8000000000000000ull, 0x00007ffffffff000ull, 0xffff800000000000ull,
    0x0000800000000000ull, 0x1000, 0x2000, 0x3000, 0x3ff8, 0x6000, 0x7000, 0x7008, 0x7030, 0x7800,
    0x7804, 0x20000, 0x20ff0, 0x30000, 0x60000, 0x70000, 0x80000, 0x7fff8, 0x100000, 0x100040,
    0x101000, 0x3fffff8, 0x3fffffff, 0x4000000, 0x4001000, 0xfee00000, 0xfec00000, 0xfffff000,
    // MSRs: EFER, STAR, LSTAR, CSTAR, FMASK, FS/GS/KERNEL_GS base, TSC, APIC base, TSC_AUX
    0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
    0xc0000102, 0x10, 0x1b, 0xc0000103, 0x174, 0x175, 0x176,
    // ports: COM1, debug exit, timer period/vector
    0x3f8, 0x3fd, 0xf0, 0xf4, 0xf8,
    // selectors
    0x08, 0x10, 0x1b, 0x23, 0x2b, 0x30, 0x33, 0x1230,
    // CR0/CR4 bits
    0x80000011, 0x80010031, 0x60000010, 0x20, 0x620, 0x10000, 0x200, 0x3000, 0x202};

uint64_t interesting(Rng& r) {
  uint64_t v = r.pick(kInteresting);
  switch (r.below(4)) {
    case 0: return v;
    case 1: return v + r.range(0, 16) - 8;
    case 2: return r.next();
    default: return v ^ (1ull << r.below(64));
  }
}

// One "interesting" instruction (or a few), with random operands.
void emit_snippet(Rng& r, Bytes& out) {
  auto reg = [&] { return static_cast<uint8_t>(r.below(8)); };
  switch (r.below(40)) {
    case 0: {  // mov r64, imm64
      out.push_back(static_cast<uint8_t>(0x48 | (r.chance(30) ? 1 : 0)));
      out.push_back(static_cast<uint8_t>(0xb8 + reg()));
      put_le(out, interesting(r), 8);
      break;
    }
    case 1:  // mov rax/rcx/rdx, imm (the registers RDMSR/WRMSR/IN/OUT use)
      out.push_back(static_cast<uint8_t>(0xb8 + r.pick(std::vector<uint64_t>{0, 1, 2})));
      put_le(out, interesting(r), 4);
      break;
    case 2:  // mov cr0/2/3/4, r64 and mov cr8
      if (r.chance(20)) out.push_back(0x44);
      out.insert(out.end(), {0x0f, 0x22, static_cast<uint8_t>(0xc0 | (r.pick(std::vector<uint64_t>{0, 2, 3, 4}) << 3) | reg())});
      break;
    case 3:  // mov r64, crN
      if (r.chance(20)) out.push_back(0x44);
      out.insert(out.end(), {0x0f, 0x20, static_cast<uint8_t>(0xc0 | (r.below(8) << 3) | reg())});
      break;
    case 4:  // wrmsr / rdmsr
      out.insert(out.end(), {0x0f, static_cast<uint8_t>(r.chance(50) ? 0x30 : 0x32)});
      break;
    case 5:  // lgdt / lidt / sgdt / sidt [abs32]
      out.insert(out.end(), {0x0f, 0x01, static_cast<uint8_t>(0x04 | (r.pick(std::vector<uint64_t>{0, 1, 2, 3}) << 3)), 0x25});
      put_le(out, interesting(r) & 0xffffffff, 4);
      break;
    case 6:  // lgdt / lidt [rip + small]
      out.insert(out.end(), {0x0f, 0x01, static_cast<uint8_t>(r.chance(50) ? 0x15 : 0x1d)});
      put_le(out, r.range(0, 64) - 32, 4);
      break;
    case 7:  // ltr / lldt / verr / verw / str / sldt with a register
      out.insert(out.end(), {0x0f, 0x00, static_cast<uint8_t>(0xc0 | (r.below(6) << 3) | reg())});
      break;
    case 8:  // lar / lsl
      out.insert(out.end(), {0x0f, static_cast<uint8_t>(r.chance(50) ? 0x02 : 0x03), static_cast<uint8_t>(0xc0 | r.below(64))});
      break;
    case 9:  // syscall / sysret / sysenter / sysexit
      switch (r.below(5)) {
        case 0: out.insert(out.end(), {0x0f, 0x05}); break;
        case 1: out.insert(out.end(), {0x48, 0x0f, 0x07}); break;
        case 2: out.insert(out.end(), {0x0f, 0x07}); break;
        case 3: out.insert(out.end(), {0x0f, 0x34}); break;
        default: out.insert(out.end(), {0x48, 0x0f, 0x35}); break;
      }
      break;
    case 10:  // in / out with an immediate port
      out.push_back(static_cast<uint8_t>(0xe4 + r.below(4)));
      out.push_back(static_cast<uint8_t>(r.chance(60) ? r.pick(std::vector<uint64_t>{0xf0, 0xf4, 0xf8, 0xf8, 0xf0}) : r.below(256)));
      break;
    case 11:  // in / out through DX, maybe with a 16-bit operand prefix
      if (r.chance(30)) out.push_back(0x66);
      out.push_back(static_cast<uint8_t>(0xec + r.below(4)));
      break;
    case 12:  // ins / outs, maybe rep
      if (r.chance(50)) out.push_back(0xf3);
      if (r.chance(20)) out.push_back(0x66);
      out.push_back(static_cast<uint8_t>(0x6c + r.below(4)));
      break;
    case 13:  // int n
      out.insert(out.end(), {0xcd, static_cast<uint8_t>(r.chance(50) ? r.below(32) : r.below(256))});
      break;
    case 14:  // int3, int1, into (invalid in 64-bit)
      out.push_back(r.pick(std::vector<uint8_t>{0xcc, 0xf1, 0xce}));
      break;
    case 15:  // iretq / iret / retf / lretq
      if (r.chance(60)) out.push_back(0x48);
      out.push_back(r.pick(std::vector<uint8_t>{0xcf, 0xcb, 0xca}));
      if (out.back() == 0xca) put_le(out, r.below(64), 2);
      break;
    case 16: {  // a fake interrupt frame then iretq: ss, rsp, rflags, cs, rip
      for (int i = 0; i < 5; ++i) {
        out.push_back(0x68);  // push imm32 (sign-extended)
        put_le(out, interesting(r) & 0xffffffff, 4);
      }
      out.insert(out.end(), {0x48, 0xcf});
      break;
    }
    case 17:  // push / pop r64, pushf / popf
      out.push_back(static_cast<uint8_t>(r.chance(80) ? 0x50 + r.below(16) : 0x9c + r.below(2)));
      break;
    case 18:  // far jmp / far call through memory, or jmp/call to a random target
      switch (r.below(4)) {
        case 0: out.insert(out.end(), {0xff, 0x2c, 0x25}); put_le(out, interesting(r) & 0xffffffff, 4); break;
        case 1: out.insert(out.end(), {0x48, 0xff, 0x1c, 0x25}); put_le(out, interesting(r) & 0xffffffff, 4); break;
        case 2: out.push_back(0xe9); put_le(out, r.range(0, 512) - 256, 4); break;
        default: out.insert(out.end(), {0xff, static_cast<uint8_t>(0xd0 | reg())}); break;  // call r64
      }
      break;
    case 19:  // mov sreg, r16 / mov r16, sreg
      out.insert(out.end(), {static_cast<uint8_t>(r.chance(70) ? 0x8e : 0x8c), static_cast<uint8_t>(0xc0 | (r.below(6) << 3) | reg())});
      break;
    case 20:  // cli / sti / hlt / clts / invd / wbinvd
      out.push_back(r.pick(std::vector<uint8_t>{0xfa, 0xfb, 0xfb, 0xf4}));
      if (r.chance(20)) out.insert(out.end(), {0x0f, r.pick(std::vector<uint8_t>{0x06, 0x08, 0x09})});
      break;
    case 21:  // 0f 01 system group: swapgs, rdtscp, vmcall, monitor, mwait, xgetbv, xsetbv, invlpg
      out.insert(out.end(), {0x0f, 0x01, r.pick(std::vector<uint8_t>{0xf8, 0xf9, 0xc1, 0xc8, 0xc9, 0xd0, 0xd1, 0x38, 0x3b, 0xca, 0xcb})});
      break;
    case 22:  // rdtsc / cpuid / rdpmc / rdrand / rdseed
      switch (r.below(5)) {
        case 0: out.insert(out.end(), {0x0f, 0x31}); break;
        case 1: out.insert(out.end(), {0x0f, 0xa2}); break;
        case 2: out.insert(out.end(), {0x0f, 0x33}); break;
        case 3: out.insert(out.end(), {0x48, 0x0f, 0xc7, static_cast<uint8_t>(0xf0 | reg())}); break;
        default: out.insert(out.end(), {0x48, 0x0f, 0xc7, static_cast<uint8_t>(0xf8 | reg())}); break;
      }
      break;
    case 23:  // ud2 / ud0 / lock nop / bad lock
      switch (r.below(4)) {
        case 0: out.insert(out.end(), {0x0f, 0x0b}); break;
        case 1: out.insert(out.end(), {0x0f, 0xff, 0xc0}); break;
        case 2: out.insert(out.end(), {0xf0, 0x90}); break;
        default: out.insert(out.end(), {0xf0, 0x0f, 0x01, 0xf8}); break;
      }
      break;
    case 24:  // div / idiv r64 (#DE)
      out.insert(out.end(), {0x48, 0xf7, static_cast<uint8_t>(0xf0 | (r.chance(50) ? 0x08 : 0) | reg())});
      break;
    case 25: {  // store a register to an interesting absolute address (page tables, GDT, IDT, code)
      out.insert(out.end(), {0x48, 0x89, static_cast<uint8_t>(0x04 | (reg() << 3)), 0x25});
      put_le(out, interesting(r) & 0xffffffff, 4);
      break;
    }
    case 26: {  // load from an interesting absolute address
      out.insert(out.end(), {0x48, 0x8b, static_cast<uint8_t>(0x04 | (reg() << 3)), 0x25});
      put_le(out, interesting(r) & 0xffffffff, 4);
      break;
    }
    case 27:  // mov [reg], reg / mov reg, [reg]: through whatever the registers hold
      out.insert(out.end(), {0x48, static_cast<uint8_t>(r.chance(50) ? 0x89 : 0x8b), static_cast<uint8_t>((reg() << 3) | r.pick(std::vector<uint8_t>{0, 1, 2, 3, 6, 7}))});
      break;
    case 28:  // rep movs / stos with the count in rcx
      out.insert(out.end(), {0xf3, 0x48, r.pick(std::vector<uint8_t>{0xa5, 0xab, 0xa4, 0xaa})});
      break;
    case 29:  // mov rsp, imm (a bad stack: the next exception delivery uses it)
      out.insert(out.end(), {0x48, 0xbc});
      put_le(out, interesting(r), 8);
      break;
    case 30:  // arm the test timer: mov eax, period; out 0xf0, eax; mov al, vector; out 0xf8, al
      out.push_back(0xb8);
      put_le(out, r.range(1, 3000), 4);
      out.insert(out.end(), {0xe7, 0xf0, 0xb0, static_cast<uint8_t>(r.below(256)), 0xe6, 0xf8});
      break;
    case 31:  // enter / leave
      if (r.chance(50)) {
        out.push_back(0xc8);
        put_le(out, r.below(0x10000), 2);
        out.push_back(static_cast<uint8_t>(r.below(40)));
      } else {
        out.push_back(0xc9);
      }
      break;
    case 32:  // xsave/fxsave-ish and SSE/AVX/x87 opcodes (may be #UD or #NM)
      switch (r.below(4)) {
        case 0: out.insert(out.end(), {0x0f, 0xae, static_cast<uint8_t>(r.below(8) << 3 | 0x04), 0x25}); put_le(out, interesting(r) & 0xffffffff, 4); break;
        case 1: out.insert(out.end(), {0x66, 0x0f, 0xef, 0xc0}); break;
        case 2: out.insert(out.end(), {0xc5, 0xfc, 0x77}); break;
        default: out.insert(out.end(), {0xd9, 0xe8}); break;
      }
      break;
    case 33:  // prefixes piled up, then an instruction
      for (uint64_t i = r.range(1, 16); i > 0; --i) out.push_back(r.pick(std::vector<uint8_t>{0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0x48, 0x41}));
      out.push_back(static_cast<uint8_t>(r.below(256)));
      break;
    case 34:  // jmp to self or a short backwards jump: loops the budget must end
      out.insert(out.end(), {0xeb, static_cast<uint8_t>(r.chance(50) ? 0xfe : 0x100 - r.range(2, 40))});
      break;
    case 35:  // mov ss, then an instruction in its shadow
      out.insert(out.end(), {0x8e, static_cast<uint8_t>(0xd0 | reg())});
      out.push_back(r.pick(std::vector<uint8_t>{0xf4, 0xcc, 0xfb, 0x9d}));
      break;
    case 36:  // in/out at CPL3 is the classic: drop to user mode through a crafted iretq frame
      out.insert(out.end(), {0x6a, 0x23, 0x68});  // push 0x23 (ss); push imm32 (rsp)
      put_le(out, 0x60000, 4);
      out.push_back(0x68);  // rflags
      put_le(out, r.pick(std::vector<uint64_t>{0x2, 0x202, 0x3002, 0x3202, 0x102}), 4);
      out.insert(out.end(), {0x6a, 0x2b, 0xe8, 0, 0, 0, 0});  // push 0x2b (cs); call $+5 (pushes rip)
      out.insert(out.end(), {0x48, 0x83, 0x04, 0x24, 0x05});  // add qword [rsp], 5: skip to after iretq
      out.insert(out.end(), {0x48, 0xcf});
      break;
    case 37:  // random bytes
      for (uint64_t i = r.range(1, 8); i > 0; --i) out.push_back(static_cast<uint8_t>(r.next()));
      break;
    case 38:  // pause / nop / xchg
      out.push_back(r.pick(std::vector<uint8_t>{0x90, 0x87}));
      if (out.back() == 0x87) out.push_back(static_cast<uint8_t>(0xc0 | r.below(64)));
      break;
    default:  // debug exit with a random status
      out.insert(out.end(), {0xb0, static_cast<uint8_t>(r.below(256)), 0xe6, 0xf4});
      break;
  }
}

enum class Kind { Random, Snippets, SnippetsWithIdt, Mixed };
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Random: return "random";
    case Kind::Snippets: return "snippets";
    case Kind::SnippetsWithIdt: return "snippets+idt";
    case Kind::Mixed: return "mixed";
  }
  return "?";
}

struct Image {
  Kind kind;
  Bytes bytes;
  bool devices;  // the hvsim machine's port devices (COM1, debug exit, timer)
  bool idt;      // an IDT whose gates point into the image
  bool record_log;
};

Image make_image(uint64_t seed, unsigned index) {
  Rng r(seed ^ (0xd1b54a32d192ed03ull * (index + 1)));
  Image img;
  img.kind = static_cast<Kind>(index % 4);
  img.devices = r.chance(75);
  img.idt = img.kind == Kind::SnippetsWithIdt || r.chance(50);
  img.record_log = index % 8 == 0;
  size_t size = r.range(256, 8192);
  Bytes& b = img.bytes;
  b.reserve(size + 64);
  switch (img.kind) {
    case Kind::Random:
      while (b.size() < size) b.push_back(static_cast<uint8_t>(r.next()));
      break;
    case Kind::SnippetsWithIdt:
      // Arm the test timer and enable interrupts first, so interrupts reach the soup.
      b.push_back(0xb8);
      put_le(b, r.range(50, 2000), 4);  // mov eax, period
      b.insert(b.end(), {0xe7, 0xf0, 0xb0, static_cast<uint8_t>(r.range(0x20, 0xff)), 0xe6, 0xf8, 0xfb});
      [[fallthrough]];
    case Kind::Snippets:
      while (b.size() < size) emit_snippet(r, b);
      b.resize(size);
      break;
    case Kind::Mixed:
      while (b.size() < size) {
        if (r.chance(50)) {
          emit_snippet(r, b);
        } else {
          for (uint64_t i = r.range(1, 32); i > 0; --i) b.push_back(static_cast<uint8_t>(r.next()));
        }
      }
      b.resize(size);
      break;
  }
  return img;
}

// 256 gates at 0x20000 pointing at random places in the image; assorted types, DPLs, IST,
// present bits, selectors.  Derived from (seed, index) like the image.  The test writes it
// into guest RAM before the run, so `hvsim run --flat` of a saved image runs without it.
void install_idt(Vm& vm, const Image& img, uint64_t seed, unsigned index) {
  Rng r(seed + 0x1d7 * (index + 1));
  constexpr uint64_t kIdt = 0x20000;
  for (unsigned v = 0; v < 256; ++v) {
    uint64_t handler = kFlatLoadAddress + r.below(img.bytes.size());
    unsigned type = r.chance(80) ? 0xe : (r.chance(80) ? 0xf : static_cast<unsigned>(r.below(16)));
    unsigned dpl = r.chance(70) ? 0 : 3;
    unsigned ist = r.chance(85) ? 0 : static_cast<unsigned>(r.below(8));
    bool present = r.chance(95);
    uint16_t cs = r.chance(95) ? 0x08 : static_cast<uint16_t>(r.pick(kInteresting));
    uint64_t lo = (handler & 0xffff) | (uint64_t(cs) << 16) | (uint64_t(ist) << 32) | (uint64_t(type) << 40) |
                  (uint64_t(dpl) << 45) | (uint64_t(present) << 47) | (((handler >> 16) & 0xffff) << 48);
    uint64_t hi = handler >> 32;
    vm.ram().write(kIdt + v * 16, &lo, 8);
    vm.ram().write(kIdt + v * 16 + 8, &hi, 8);
  }
  vm.cpu().set_idtr({kIdt, static_cast<uint16_t>(r.chance(90) ? 0xfff : r.below(0x1000))});
}

// A VM as `hvsim run --flat` builds it (app/flat_machine.cpp), from hvsim_core and
// hvsim_devices only: 64 MiB of RAM from its own MachineMemory (released with it), optionally
// the port devices (COM1, debug exit, test timer), the flat machine state loaded.
struct FuzzMachine {
  MachineMemory machine;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<Vm> vm;
  PortBus ports;
  std::unique_ptr<Uart16550> uart;
  std::unique_ptr<DebugExit> debug_exit;
  std::unique_ptr<IntervalTimer> timer;
  uint64_t console_bytes = 0;

  FuzzMachine(const VmConfig& cfg, bool devices, std::unique_ptr<EventLog> event_log)
      : machine(cfg.ram_bytes), log(std::move(event_log)) {
    if (!log) log = std::make_unique<EventLog>();
    auto created = Vm::create(machine, cfg, *log);
    REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
    vm = std::move(*created);
    if (devices) {
      uart = std::make_unique<Uart16550>(*vm);
      debug_exit = std::make_unique<DebugExit>(*vm);
      timer = std::make_unique<IntervalTimer>(*vm);
      ports.attach(0x3f8, 8, *uart);
      ports.attach(0xf4, 4, *debug_exit);
      ports.attach(0xf0, 4, *timer, 0);
      ports.attach(0xf8, 1, *timer, 8);
      vm->set_port_io(ports);
    }
    vm->set_console([this](char) { ++console_bytes; });
  }
};

VmConfig fuzz_config(uint64_t budget) {
  VmConfig cfg;
  cfg.ram_bytes = kVmRam;
  cfg.max_instructions = budget;
  return cfg;
}

// One of the declared RunEnd values (not a stray value from a corrupted outcome).
bool valid_end(RunEnd e) {
  switch (e) {
    case RunEnd::Exited:
    case RunEnd::TripleFault:
    case RunEnd::HaltedForever:
    case RunEnd::BudgetExhausted:
    case RunEnd::Stopped:
    case RunEnd::HostError:
    case RunEnd::ExceptionStorm:
      return true;
    case RunEnd::SliceEnded:  // only run(until_ns) ends a slice; the fuzzer runs to the end
      return false;
  }
  return false;
}

// What a run leaves behind, for comparing two runs of the same image.
struct Fingerprint {
  RunEnd end = RunEnd::Exited;
  int exit_status = 0;
  uint64_t retired = 0, rip = 0, rflags = 0, now_ns = 0;
  std::vector<uint64_t> gprs;
  uint64_t exceptions = 0, interrupts = 0, syscalls = 0, port_io = 0, console_bytes = 0, events = 0;

  bool operator==(const Fingerprint&) const = default;
  std::string describe() const {
    std::string s = std::string(run_end_name(end)) + " status " + std::to_string(exit_status) + ", retired " +
                    std::to_string(retired) + ", rip " + hex(rip) + ", rflags " + hex(rflags) + ", t " +
                    std::to_string(now_ns) + ", exc " + std::to_string(exceptions) + ", irq " +
                    std::to_string(interrupts) + ", sys " + std::to_string(syscalls) + ", pio " +
                    std::to_string(port_io) + ", console " + std::to_string(console_bytes) + ", events " +
                    std::to_string(events) + ", gprs";
    for (uint64_t g : gprs) s += " " + hex(g);
    return s;
  }
};

Fingerprint fingerprint(FuzzMachine& m, const RunOutcome& out) {
  Fingerprint f;
  f.end = out.end;
  f.exit_status = out.exit_status;
  UnicornCpu& cpu = m.vm->cpu();
  f.retired = cpu.instructions_retired();
  f.rip = cpu.rip();
  f.rflags = cpu.rflags();
  f.now_ns = m.vm->now_ns();
  for (int r = 0; r < kGprCount; ++r) f.gprs.push_back(cpu.gpr(static_cast<Gpr>(r)));
  const VmCounters& c = m.vm->counters();
  f.exceptions = c.exceptions_delivered;
  f.interrupts = c.interrupts_delivered;
  f.syscalls = c.syscalls;
  f.port_io = c.port_io;
  f.console_bytes = m.console_bytes;
  f.events = m.log->records();
  return f;
}

}  // namespace

TEST_CASE("Fuzz: random flat images never hurt the host") {
  const uint64_t seed = env_u64("HVSIM_FUZZ_SEED", kDefaultSeed);
  const auto count = static_cast<unsigned>(env_u64("HVSIM_FUZZ_COUNT", kDefaultCount));
  const uint64_t only = env_u64("HVSIM_FUZZ_ONLY", ~0ull);
  const bool save = env_u64("HVSIM_FUZZ_SAVE", 0) != 0;
  const auto log_path = std::filesystem::temp_directory_path() /
                        ("hvsim-fuzz-" + std::to_string(static_cast<unsigned long long>(seed)) + "-" +
                         std::to_string(static_cast<unsigned long long>(::getpid())) + ".jsonl");

  std::map<std::string, unsigned> ends;
  uint64_t instructions = 0, max_retired = 0, exceptions = 0, interrupts = 0, port_io = 0, log_records = 0;
  unsigned failures = 0, runs = 0, reruns = 0;

  for (unsigned i = 0; i < count; ++i) {
    if (only != ~0ull && i != only) continue;
    Image img = make_image(seed, i);
    CAPTURE(seed);
    CAPTURE(i);
    INFO("image: ", std::string(kind_name(img.kind)), ", ", img.bytes.size(), " bytes, devices=", img.devices,
         " idt=", img.idt, " log=", img.record_log);

    std::unique_ptr<EventLog> opened_log;
    if (const char* keep = std::getenv("HVSIM_FUZZ_LOG"); keep && *keep) {
      auto opened = EventLog::open(keep);
      REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
      opened_log = std::move(*opened);
    } else if (img.record_log) {
      auto opened = EventLog::open(log_path.string());
      REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
      opened_log = std::move(*opened);
    }
    VmConfig cfg = fuzz_config(kBudget);
    cfg.name = "fuzz" + std::to_string(i);
    cfg.rdrand_seed = seed + i;
    // Most images get the port devices of `hvsim run --flat`; the rest no port I/O handler.
    FuzzMachine m(cfg, img.devices, std::move(opened_log));
    Vm* vm = m.vm.get();
    auto& log = m.log;

    auto loaded = load_flat_guest(*vm, img.bytes);
    REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
    if (img.idt) install_idt(*vm, img, seed, i);
    if (save) MESSAGE("image ", i, " saved to ", save_image("fuzz-image", img.bytes, seed, i));

    WatchedRun watched = run_watched(*vm);
    const RunOutcome& out = watched.out;
    const Fingerprint first = fingerprint(m, out);
    ++runs;
    const uint64_t retired = vm->cpu().instructions_retired();
    INFO("end: ", std::string(run_end_name(out.end)), " (", static_cast<int>(out.end), "), status ",
         out.exit_status, ", detail: ", out.detail, ", rip ", hex(vm->cpu().rip()), ", retired ", retired);

    INFO("hung (stopped by the watchdog): ", watched.hung, ", exceptions delivered ",
         vm->counters().exceptions_delivered);
    bool ok = valid_end(out.end) && out.end != RunEnd::HostError && !watched.hung;
    if (ok && img.record_log && !std::getenv("HVSIM_FUZZ_LOG")) {
      log.reset();  // flush and close
      auto verified = verify_log_chain(log_path.string());
      INFO("verify_log_chain: ", (verified.ok() ? std::string("ok") : verified.error().message));
      CHECK(verified.ok());
      ok = verified.ok();
      if (ok) log_records += *verified;
    }
    // Every tenth image runs a second time in a fresh VM (without a log file): same ending,
    // registers, virtual time and counters (determinism, and logging changes nothing).
    std::string second_run;
    if (ok && i % 10 == 5) {
      VmConfig cfg2 = cfg;
      FuzzMachine m2(cfg2, img.devices, nullptr);
      REQUIRE(load_flat_guest(*m2.vm, img.bytes).ok());
      if (img.idt) install_idt(*m2.vm, img, seed, i);
      WatchedRun again = run_watched(*m2.vm);
      Fingerprint second = fingerprint(m2, again.out);
      if (!(first == second)) {
        second_run = "; NOT DETERMINISTIC:\n  run 1: " + first.describe() + "\n  run 2: " + second.describe();
        ok = false;
      }
      ++reruns;
    }
    if (!ok) {
      ++failures;
      std::string saved = save_image("fuzz-failure", img.bytes, seed, i);
      FAIL_CHECK("guest image ", i, " of seed ", hex(seed), " ended with ", std::string(run_end_name(out.end)),
                 (watched.hung ? " (hung: stopped by the watchdog)" : ""), second_run,
                 "; image saved to ", saved,
                 (img.idt ? " (this image also had an IDT installed by the test)" : ""));
      if (failures >= 5) break;  // enough to go on; do not flood the output
      continue;
    }
    ++ends[run_end_name(out.end)];
    instructions += retired;
    max_retired = std::max(max_retired, retired);
    exceptions += vm->counters().exceptions_delivered;
    interrupts += vm->counters().interrupts_delivered;
    port_io += vm->counters().port_io;
  }
  std::filesystem::remove(log_path);

  std::string summary;
  for (const auto& [name, n] : ends) summary += " " + name + "=" + std::to_string(n);
  MESSAGE("fuzz seed ", hex(seed), ": ", runs, " images;", summary, "; ", instructions, " instructions (at most ",
          max_retired, " in one run), ", exceptions, " exceptions, ", interrupts, " interrupts, ", port_io,
          " port I/O, ", log_records, " log records verified, ", reruns, " images run twice");
  CHECK(failures == 0);
}

TEST_CASE("Fuzz: the flat loader at the RAM boundaries") {
  // RAM sizes around the load address; GuestRam rounds RAM up to whole pages.
  const std::vector<uint64_t> ram_sizes = {64ull << 10,      kFlatLoadAddress,      kFlatLoadAddress + 1,
                                           2ull << 20,       (3ull << 20) + 12345,  kVmRam};
  Rng r(env_u64("HVSIM_FUZZ_SEED", kDefaultSeed) ^ 0x10ad);

  for (uint64_t ram_bytes : ram_sizes) {
    CAPTURE(ram_bytes);
    const uint64_t ram = (ram_bytes + kPageSize - 1) & ~(kPageSize - 1);
    const uint64_t fits = ram > kFlatLoadAddress ? ram - kFlatLoadAddress : 0;  // largest image that fits
    CAPTURE(fits);

    // Sizes: 0, 1, exactly what fits, one byte more, and random ones either side.
    std::vector<uint64_t> sizes = {0, 1, fits, fits + 1, fits + 4096};
    for (int k = 0; k < 4; ++k) {
      if (fits > 1) sizes.push_back(r.range(1, fits - 1));
      sizes.push_back(fits + r.range(2, 1 << 16));
    }
    for (uint64_t size : sizes) {
      CAPTURE(size);
      MachineMemory machine(ram_bytes);
      EventLog log;
      VmConfig cfg;
      cfg.ram_bytes = ram_bytes;
      cfg.max_instructions = 100;
      auto created = Vm::create(machine, cfg, log);
      REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
      Vm& vm = **created;

      Bytes image(size);
      for (auto& b : image) b = static_cast<uint8_t>(r.next());
      auto loaded = load_flat_guest(vm, image);
      if (size == 0) {
        REQUIRE_FALSE(loaded.ok());
        CHECK(loaded.error().message == "flat guest image is empty");
      } else if (size > fits) {
        REQUIRE_FALSE(loaded.ok());
        const std::string& m = loaded.error().message;
        CHECK(m.find("flat guest image of " + std::to_string(size) + " bytes does not fit") != std::string::npos);
        CHECK(m.find("at 0x100000") != std::string::npos);
        // Nothing was written: no page tables, no image.
        uint64_t pml4 = 1;
        if (vm.ram().read(kFlatPml4, &pml4, 8)) CHECK(pml4 == 0);
      } else {
        REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error().message));
        CHECK(vm.cpu().rip() == kFlatLoadAddress);
        CHECK(vm.cpu().gpr(Gpr::Rsp) == kFlatStackTop);
        CHECK(vm.ram().host(kFlatLoadAddress, size) != nullptr);
        CHECK(std::memcmp(vm.ram().host(kFlatLoadAddress, size), image.data(), size) == 0);
        CHECK(*vm.ram().load<uint64_t>(kFlatPml4) == (kFlatPdpt | 0x7));
        // A loaded image runs to a proper end (random bytes: anything but a host error).
        WatchedRun w = run_watched(vm);
        const RunOutcome& out = w.out;
        INFO("end: ", std::string(run_end_name(out.end)), ", detail: ", out.detail);
        CHECK(out.end != RunEnd::HostError);
        CHECK_FALSE(w.hung);
      }
    }
  }
}

// ---- regressions: minimal guests for the bugs the fuzzer found -------------------------------

// Found by the fuzzer (images that jump, or run, past the end of RAM): an instruction fetch
// from guest-physical memory outside RAM ends the run with RunEnd::HostError ("Unicorn: Fetch
// from non-executable memory (UC_ERR_FETCH_PROT)", hvsim exit status 123) after logging an
// isolation fetch.  A data read from the same address works (unbacked read).
// `hvsim run --flat` of this image exits 123.
TEST_CASE("Fuzz regression: an instruction fetch outside RAM is not a host error") {
  for (uint64_t target : {uint64_t{0x50000000}, kVmRam, kVmRam - 2}) {
    CAPTURE(hex(target));
    // mov rax, target; jmp rax   (at kVmRam - 2: ADD [RAX],AL, then the fetch at kVmRam)
    Bytes code = {0x48, 0xb8};
    put_le(code, target, 8);
    code.insert(code.end(), {0xff, 0xe0});
    FuzzMachine m(fuzz_config(1000), true, nullptr);
    REQUIRE(load_flat_guest(*m.vm, code).ok());
    WatchedRun w = run_watched(*m.vm);
    INFO("end: ", std::string(run_end_name(w.out.end)), ", detail: ", w.out.detail);
    CHECK(w.out.end != RunEnd::HostError);
    CHECK_FALSE(w.hung);
  }
}

// A store into the 4 KiB page of the code block being executed, later in the same block an
// emulated instruction (RDTSC, OUT): the block is charged again and again while RIP stays put,
// so virtual time and the retired-instruction count jump by ~340,000 (RDTSC reads ~0x533dd
// instead of 2; the run reports ~341,000 instructions for 6; --max-instructions ends it early
// with 122).  Guest:
//   lea rbx, [rel data]; mov byte [rbx], 0; rdtsc; mov ebx, eax; mov al, 0; out 0xf4, al
//   data: db 0
TEST_CASE("Fuzz regression: a store into the running code page keeps the instruction count exact") {
  const Bytes code = {0x48, 0x8d, 0x1d, 0x0b, 0x00, 0x00, 0x00,  // lea rbx, [rel data]
                      0xc6, 0x03, 0x00,                          // mov byte [rbx], 0
                      0x0f, 0x31,                                // rdtsc
                      0x89, 0xc3,                                // mov ebx, eax
                      0xb0, 0x00,                                // mov al, 0
                      0xe6, 0xf4,                                // out 0xf4, al
                      0x00};                                     // data
  FuzzMachine m(fuzz_config(0), true, nullptr);
  REQUIRE(load_flat_guest(*m.vm, code).ok());
  WatchedRun w = run_watched(*m.vm);
  const RunOutcome& out = w.out;
  INFO("end: ", std::string(run_end_name(out.end)), ", detail: ", out.detail);
  CHECK(out.end == RunEnd::Exited);
  CHECK(out.exit_status == 0);
  CHECK(m.vm->cpu().gpr(Gpr::Rbx) == 2);  // RDTSC after two retired instructions
  CHECK(m.vm->cpu().instructions_retired() == 6);
}

// The same guest with the store going to another page is exact (the control for the above).
TEST_CASE("Fuzz regression control: a store into another page keeps the instruction count exact") {
  const Bytes code = {0xbb, 0x00, 0x00, 0x20, 0x00,  // mov ebx, 0x200000
                      0xc6, 0x03, 0x00,              // mov byte [rbx], 0
                      0x0f, 0x31,                    // rdtsc
                      0x89, 0xc3,                    // mov ebx, eax
                      0xb0, 0x00,                    // mov al, 0
                      0xe6, 0xf4};                   // out 0xf4, al
  FuzzMachine m(fuzz_config(0), true, nullptr);
  REQUIRE(load_flat_guest(*m.vm, code).ok());
  WatchedRun w = run_watched(*m.vm);
  const RunOutcome& out = w.out;
  INFO("end: ", std::string(run_end_name(out.end)), ", detail: ", out.detail);
  CHECK(out.end == RunEnd::Exited);
  CHECK(out.exit_status == 0);
  CHECK(m.vm->cpu().gpr(Gpr::Rbx) == 2);
  CHECK(m.vm->cpu().instructions_retired() == 6);
}

// Found by the fuzzer (seed 0x5eed0001, image 247): the #PF gate uses IST1 and points at an
// instruction that page-faults again (a read outside the 4 GiB identity map).  Every delivery
// reloads RSP from IST1, so #PF is delivered forever and no instruction retires, as on real
// hardware; but then max_instructions (`--max-instructions`) never ends the run, virtual time
// stands still (no timer can fire), and with --log every delivery appends a record: hvsim
// hangs and fills the disk.  tests/cli/guests/cli_exception_storm.asm is the same guest for
// `hvsim run --flat ... --max-instructions 1000`.
TEST_CASE("Fuzz regression: an endless exception storm ends the run as a storm") {
  const Bytes code = {0x48, 0x8b, 0x04, 0x25, 0xc0, 0xff, 0xff, 0xff,  // mov rax, [0xffffffffffffffc0]
                      0xeb, 0xf6};                                      // jmp back
  FuzzMachine m(fuzz_config(1000), true, nullptr);
  REQUIRE(load_flat_guest(*m.vm, code).ok());
  // Gate 14: 64-bit interrupt gate, DPL0, IST1, handler = the faulting instruction.
  constexpr uint64_t kIdt = 0x20000;
  const uint64_t handler = kFlatLoadAddress;
  uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (1ull << 32) | (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
  uint64_t hi = handler >> 32;
  m.vm->ram().write(kIdt + 14 * 16, &lo, 8);
  m.vm->ram().write(kIdt + 14 * 16 + 8, &hi, 8);
  m.vm->cpu().set_idtr({kIdt, 0xfff});

  WatchedRun w = run_watched(*m.vm, std::chrono::milliseconds(3000));
  INFO("end: ", std::string(run_end_name(w.out.end)), ", exceptions delivered ",
       m.vm->counters().exceptions_delivered, ", retired ", m.vm->cpu().instructions_retired());
  CHECK_FALSE(w.hung);
  CHECK(w.out.end == RunEnd::ExceptionStorm);
}
