// Finds and verifies the uc_context offsets the adapter patches (see unicorn_internals.hpp).
// Method: run known faults on a scratch CPU, diff context images before and after, then check
// each candidate by behaviour (a patched CPL makes CLI fault; a reset latch keeps a second
// fault from turning into #DF). Any surprise is an error: hvsim refuses to run on a Unicorn
// whose internals it does not understand.
#include "core/cpu/unicorn_internals.hpp"

#include <unicorn/unicorn.h>

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace hvsim {
namespace {

constexpr uint64_t kCodeBase = 0x1000;
constexpr uint64_t kFaultSelectorCode = 0x1000;  // mov ax, 0x5a5b ; mov ds, ax  -> #GP(0x5a58)
constexpr uint64_t kCliCode = 0x1100;            // cli ; hlt
constexpr uint64_t kUntil = ~0ull;

struct Scratch {
  uc_engine* uc = nullptr;
  std::vector<uint8_t> ram = std::vector<uint8_t>(0x10000);
  int last_intno = -1;
  uc_hook intr_hook{};
  ~Scratch() {
    if (uc) uc_close(uc);
  }
};

void on_interrupt(uc_engine* uc, uint32_t intno, void* user) {
  static_cast<Scratch*>(user)->last_intno = static_cast<int>(intno);
  uc_emu_stop(uc);
}

struct Context {
  uc_context* ctx = nullptr;
  size_t size = 0;
  explicit Context(uc_engine* uc) {
    uc_context_alloc(uc, &ctx);
    size = uc_context_size(uc);
  }
  ~Context() {
    if (ctx) uc_context_free(ctx);
  }
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(ctx); }
  template <typename T>
  T get(size_t off) {
    T v;
    std::memcpy(&v, bytes() + off, sizeof v);
    return v;
  }
  template <typename T>
  void put(size_t off, T v) {
    std::memcpy(bytes() + off, &v, sizeof v);
  }
};

std::optional<std::string> open_scratch(Scratch& s) {
  if (uc_open(UC_ARCH_X86, UC_MODE_64, &s.uc) != UC_ERR_OK) return "uc_open failed";
  if (uc_mem_map_ptr(s.uc, 0, s.ram.size(), UC_PROT_ALL, s.ram.data()) != UC_ERR_OK) {
    return "uc_mem_map_ptr failed";
  }
  const uint8_t fault_selector[] = {0x66, 0xb8, 0x5b, 0x5a, 0x8e, 0xd8, 0xf4};
  const uint8_t cli_hlt[] = {0xfa, 0xf4};
  std::memcpy(&s.ram[kFaultSelectorCode], fault_selector, sizeof fault_selector);
  std::memcpy(&s.ram[kCliCode], cli_hlt, sizeof cli_hlt);
  if (uc_hook_add(s.uc, &s.intr_hook, UC_HOOK_INTR, reinterpret_cast<void*>(on_interrupt), &s, 1,
                  0) != UC_ERR_OK) {
    return "uc_hook_add(UC_HOOK_INTR) failed";
  }
  return std::nullopt;
}

int run_until_interrupt(Scratch& s, uint64_t start) {
  s.last_intno = -1;
  uc_emu_start(s.uc, start, kUntil, 0, 0);
  return s.last_intno;
}

std::vector<size_t> find_i32(Context& before, Context& after, int32_t was_not, int32_t now,
                             bool require_was = false, int32_t was = 0) {
  std::vector<size_t> found;
  for (size_t off = 0; off + 4 <= after.size; off += 4) {
    int32_t b = before.get<int32_t>(off), a = after.get<int32_t>(off);
    if (a != now) continue;
    if (require_was ? b == was : b != was_not) found.push_back(off);
  }
  return found;
}

Result<UnicornInternals> probe() {
  Scratch s;
  if (auto e = open_scratch(s)) return make_error("Unicorn probe: " + *e);
  UnicornInternals in;
  in.context_size = uc_context_size(s.uc);

  Context fresh(s.uc), faulted(s.uc), work(s.uc);
  uc_context_save(s.uc, fresh.ctx);
  if (run_until_interrupt(s, kFaultSelectorCode) != 13) {
    return make_error("Unicorn probe: loading a bad selector did not raise #GP");
  }
  uc_context_save(s.uc, faulted.ctx);

  auto latch = find_i32(fresh, faulted, 0, 13, true, -1);
  auto err = find_i32(fresh, faulted, 0x5a58, 0x5a58);
  if (latch.empty()) return make_error("Unicorn probe: exception latch (old_exception) not found");
  if (err.empty()) return make_error("Unicorn probe: exception error code not found");

  // CS selector: in 64-bit mode uc_reg_write(CS) sets the selector only.
  uint16_t cs = 0x5a5b;
  uc_context_restore(s.uc, fresh.ctx);
  uc_reg_write(s.uc, UC_X86_REG_CS, &cs);
  uc_context_save(s.uc, work.ctx);
  auto cs_sel = find_i32(fresh, work, 0x5a5b, 0x5a5b);
  if (cs_sel.size() != 1) return make_error("Unicorn probe: CS selector not found uniquely");
  in.segments = cs_sel[0] - 24;
  in.hflags = in.segments - 8;

  // Verify the segment layout with SS's selector and FS's base.
  uint16_t ss = 0x4b4b;
  uint64_t fs_base = 0x1122334455667788ull;
  uc_reg_write(s.uc, UC_X86_REG_SS, &ss);
  uc_reg_write(s.uc, UC_X86_REG_FS_BASE, &fs_base);
  uc_context_save(s.uc, work.ctx);
  if (work.get<uint32_t>(in.segments + 2 * 24) != 0x4b4b ||
      work.get<uint64_t>(in.segments + 4 * 24 + 8) != fs_base) {
    return make_error("Unicorn probe: segment cache layout is not {selector, base, limit, flags}");
  }
  uint32_t hf = fresh.get<uint32_t>(in.hflags);
  if ((hf & qemu_hflags::kCplMask) != 0 || !(hf & qemu_hflags::kLma) || !(hf & qemu_hflags::kCs64)) {
    return make_error("Unicorn probe: hflags not found where expected (before the segments)");
  }

  // Behaviour 1: a CPL patched to 3 makes CLI (IOPL 0) raise #GP; patched back to 0 it runs.
  work.put<uint32_t>(in.hflags, (hf & ~qemu_hflags::kCplMask) | 3);
  work.put<uint32_t>(in.segments + 24, 0x2b);
  uc_context_restore(s.uc, work.ctx);
  if (run_until_interrupt(s, kCliCode) != 13) {
    return make_error("Unicorn probe: patching hflags.CPL to 3 did not make CLI fault");
  }
  work.put<uint32_t>(in.hflags, hf);
  uc_context_restore(s.uc, work.ctx);
  if (run_until_interrupt(s, kCliCode) != -1) {
    return make_error("Unicorn probe: CLI faulted at a patched CPL 0");
  }

  // Behaviour 2: the error code field holds the #GP's error code; resetting the latch keeps
  // the next fault from escalating. Pick the candidates that behave.
  std::optional<size_t> latch_off, err_off;
  for (size_t cand : latch) {
    uc_context_restore(s.uc, fresh.ctx);
    bool good = true;
    for (int i = 0; i < 3 && good; ++i) {
      good = run_until_interrupt(s, kFaultSelectorCode) == 13;
      uc_context_save(s.uc, work.ctx);
      work.put<int32_t>(cand, -1);
      uc_context_restore(s.uc, work.ctx);
    }
    if (good) {
      latch_off = cand;
      break;
    }
  }
  if (!latch_off) return make_error("Unicorn probe: resetting the exception latch did not work");
  for (size_t cand : err) {
    if (faulted.get<int32_t>(cand) == 0x5a58) {
      err_off = cand;
      break;
    }
  }
  if (!err_off) return make_error("Unicorn probe: error code field not confirmed");
  in.old_exception = *latch_off;
  in.error_code = *err_off;

  // General registers and RIP: CPUX86State starts with regs[16] then eip; hflags is 176 bytes
  // in. Verified by writing distinctive values through the API.
  in.gprs = in.hflags - 176;
  in.rip = in.gprs + 16 * 8;
  {
    uc_context_restore(s.uc, fresh.ctx);
    uint64_t rax = 0x0123456789abcdefull, r15 = 0xfedcba9876543210ull, rip = 0x1234;
    uc_reg_write(s.uc, UC_X86_REG_RAX, &rax);
    uc_reg_write(s.uc, UC_X86_REG_R15, &r15);
    uc_reg_write(s.uc, UC_X86_REG_RIP, &rip);
    uc_context_save(s.uc, work.ctx);
    if (work.get<uint64_t>(in.gprs) != rax || work.get<uint64_t>(in.gprs + 15 * 8) != r15 ||
        work.get<uint64_t>(in.rip) != rip) {
      return make_error("Unicorn probe: general registers not found before hflags");
    }
  }

  // System segment and table registers follow the six segment caches: LDTR, TR, GDTR, IDTR.
  in.tables = in.segments + 6 * 24;
  {
    uc_context_restore(s.uc, fresh.ctx);
    uc_x86_mmr idt{0, 0x12345000, 0x0fff, 0}, tr{0x30, 0x7800, 0x67, 0x8b00};
    uc_reg_write(s.uc, UC_X86_REG_IDTR, &idt);
    uc_reg_write(s.uc, UC_X86_REG_TR, &tr);
    uc_context_save(s.uc, work.ctx);
    if (work.get<uint64_t>(in.tables + 3 * 24 + 8) != idt.base ||
        work.get<uint32_t>(in.tables + 3 * 24 + 16) != idt.limit ||
        work.get<uint32_t>(in.tables + 1 * 24) != tr.selector || work.get<uint64_t>(in.tables + 1 * 24 + 8) != tr.base) {
      return make_error("Unicorn probe: descriptor-table registers not found after the segments");
    }
  }

  // CR2: env->cr[] is an array of u64; find CR3 by writing it, CR2 is the slot before.
  uc_context_restore(s.uc, fresh.ctx);
  uint64_t cr3 = 0x5a5b6000;
  uc_reg_write(s.uc, UC_X86_REG_CR3, &cr3);
  uc_context_save(s.uc, work.ctx);
  std::optional<size_t> cr3_off;
  for (size_t off = 8; off + 8 <= work.size; off += 4) {
    if (work.get<uint64_t>(off) == cr3 && fresh.get<uint64_t>(off) != cr3) {
      cr3_off = off;
      break;
    }
  }
  if (!cr3_off) return make_error("Unicorn probe: CR3 not found in the context");
  in.cr2 = *cr3_off - 8;
  work.put<uint64_t>(in.cr2, 0x7e57c2);
  uc_context_restore(s.uc, work.ctx);
  uint64_t cr2 = 0, cr3_after = 0;
  uc_reg_read(s.uc, UC_X86_REG_CR2, &cr2);
  uc_reg_read(s.uc, UC_X86_REG_CR3, &cr3_after);
  if (cr2 != 0x7e57c2 || cr3_after != cr3) return make_error("Unicorn probe: CR2 slot not confirmed");
  return in;
}

}  // namespace

const Result<UnicornInternals>& unicorn_internals() {
  static const Result<UnicornInternals> result = probe();
  return result;
}

}  // namespace hvsim
