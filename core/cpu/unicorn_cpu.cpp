// The Unicorn adapter. See unicorn_cpu.hpp for what it adds, docs/architecture.md for why.
#include "core/cpu/unicorn_cpu.hpp"

#include <unicorn/unicorn.h>

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/cpu/fault_address.hpp"
#include "core/cpu/unicorn_internals.hpp"
#include "core/isa/decoder.hpp"

namespace hvsim {
namespace {

constexpr uint64_t kNoAddress = ~0ull;
// uc_emu_start needs an `until` address, and after every run Unicorn invalidates the
// translation at until-1, which costs a TLB fill of that page (docs/unicorn-notes.md) unless
// until is 0. So until is 0, or 1 when starting at 0; reaching it is not a stop of ours.
uint64_t until_for(uint64_t start) { return start == 0 ? 1 : 0; }
constexpr size_t kTcgBufferBytes = 64u << 20;
constexpr size_t kFrontCacheSize = 4096;  // direct-mapped, power of two
constexpr uint64_t k2M = 1ull << 21, k1G = 1ull << 30;
// Large pages remembered between full TLB flushes (Impl::large_pages); past this many, every
// INVLPG flushes the whole TLB until the next full flush.
constexpr size_t kMaxLargePages = 4096;

constexpr int kGprIds[kGprCount] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};

// One translated block as we know it: its instruction boundaries (for precise retired counts
// when a block is left early) and the frames its bytes live in (for self-modifying code).
struct BlockInfo {
  uint64_t pc = 0;
  uint32_t size = 0;
  uint16_t icount = 0;
  uint16_t uncounted = 0;  // VMM instructions in the block, anywhere in it (UnicornCpu::set_uncounted)
  bool ends_with_branch = false;
  // REP string instructions (see Impl::rep_charge). QEMU ends a block after each of them and
  // runs every further iteration as a block of its own at the instruction's address: the
  // block `rep_head` is that single instruction, `ends_with_rep` a block whose last one it is.
  bool rep_head = false, ends_with_rep = false;
  uint64_t rep_count_mask = 0;  // RCX, or ECX with a 0x67 prefix
  std::vector<uint16_t> offsets;
  // Per entry of `offsets`, whether that instruction is the VMM's (set_uncounted); empty when
  // none is.
  std::vector<bool> vmm_instruction;
  uint64_t frames[2] = {kNoAddress, kNoAddress};
  // Blocks in frames that are also written as data are checked against their bytes on every
  // execution instead of write-protecting the frame (see on_tlb_fill).
  bool verify = false;
  std::vector<uint8_t> bytes;
  const uint8_t* host[2] = {nullptr, nullptr};
  uint32_t host_len[2] = {0, 0};

  bool unchanged() const {
    return std::memcmp(host[0], bytes.data(), host_len[0]) == 0 &&
           (host_len[1] == 0 || std::memcmp(host[1], bytes.data() + host_len[0], host_len[1]) == 0);
  }
};

// Hot path of instruction counting: everything on_block needs for a known block.
struct FrontEntry {
  uint64_t pc = kNoAddress;
  uint32_t size = 0;  // 0 for blocks that must be verified: the fast path never matches them
  uint32_t icount = 0;
  BlockInfo* block = nullptr;
};

struct RamRange {
  uint64_t begin, end;
  uint8_t* host;
};

// A decoded trap site, valid while its frame's code is unchanged.
struct SiteInfo {
  uint64_t frame = kNoAddress;
  std::optional<TrapKind> kind;
  Instruction insn;
  const uint8_t* host = nullptr;  // first byte, for content checks in mixed frames
  uint8_t bytes[16] = {};
  unsigned length = 0;            // bytes on the first page
};

enum class Cause : uint8_t {
  None, Budget, StopRequested, TrapPoint, Exception, Rescan, MemorySync, InterruptWindow,
  MmioStep,  // the instruction run alone for a precise MMIO write has run (Impl::mmio_stepping)
  MmioSync,  // request_stop_after_mmio_write outside a precise window: the next block boundary
};

// A device window whose writes are precise (UnicornCpu::map_mmio).
struct PreciseWindow {
  uint64_t begin, end;
  MmioHandler* handler;
};

}  // namespace

struct UnicornCpu::Impl {
  uc_engine* uc = nullptr;
  AddressTranslator& translator;
  UnicornInternals in;
  std::vector<uint8_t> ctx_buf;  // lazily loaded image for segment/CPL/latch patches
  bool ctx_loaded = false, ctx_dirty = false;

  // Run state.
  uint64_t retired = 0;
  // One comparison per block covers the budget, stop requests and the interrupt-window
  // watch: request_stop() drops the limit to zero from any thread, and so does the watch,
  // which sends every block to the slow path. budget_end is where the budget really ends.
  std::atomic<uint64_t> limit{0};
  uint64_t budget_end = 0;
  std::atomic<bool> stop_requested{false};
  bool window_stop = false;  // UnicornCpu::set_interrupt_window_stop
  bool sync_requested = false;  // a fill asked for a MemorySync stop
  // Precise MMIO writes. A device learns of a write while the instruction runs, and an
  // interrupt it lets through (an EOI, a lower TPR) is taken at the next instruction boundary;
  // Unicorn can be stopped only at a block boundary or before a hooked instruction, and a
  // stop requested inside the write lands in the middle of the instruction (QEMU checks for
  // exits after every memory access, with RIP and the lazy flags not written back). So stores
  // to such windows get no TLB entry: the refused fill stops the CPU before the instruction,
  // precisely, and run() performs it (MOV m, r/imm) or runs it alone, then stops after it
  // when the device asked (request_stop_after_mmio_write).
  std::vector<PreciseWindow> precise_windows;
  const PreciseWindow* precise_window_at(uint64_t pa) const {
    for (const auto& w : precise_windows)
      if (pa >= w.begin && pa < w.end) return &w;
    return nullptr;
  }
  bool mmio_write_blocked = false;  // the refused fill was a store to a precise window
  uint64_t blocked_mmio_pa = 0;     // the CPU-physical page it went to
  bool stop_after_mmio = false;     // request_stop_after_mmio_write
  // An instruction that writes a precise window but is no MOV runs alone: a block that starts
  // in an interrupt shadow is one instruction (docs/unicorn-notes.md), the budget ends after
  // it, and its stores get write access (the TLB is flushed afterwards).
  bool mmio_stepping = false;
  uint64_t step_saved_budget_end = 0;
  bool step_had_shadow = false;
  Cause cause = Cause::None;
  // Where a stop we asked for took effect. Unicorn does not write RIP back when a block-hook
  // stop exits a chained block while code hooks exist (cpu_tb_exec skips
  // synchronize_from_tb then), so RIP would be stale: we set it from here.
  uint64_t stop_pc = 0;
  uint8_t exception_vector = 0;
  TrapKind trap = TrapKind::Count;
  Instruction trap_insn;
  uint64_t pass_once = kNoAddress;
  bool fill_failed = false;
  bool code_write_blocked = false;  // the refused fill was a store to a watched code frame
  bool invalid_opcode = false;
  uint64_t fault_page = 0;
  Access fault_access = Access::Read;
  uint32_t fault_pfec = 0;
  bool fault_non_canonical = false;
  BlockInfo* current = nullptr;
  // REP iterations (rep_charge): the current block is a REP head entered for its final count
  // check, which retired nothing; and whether the block entry a stop interrupted continued a
  // REP instruction (carried to the first entry of the next run, which resumes it).
  bool current_retired_nothing = false;
  bool stop_continues_rep = false, resume_continues_rep = false;
  uint64_t rep_count = 0;  // the count register at the last REP head's entry
  uint8_t own_tpr = 0;
  uint8_t* tpr = &own_tpr;  // CR8: see UnicornCpu::set_tpr_home

  // Trap points and block knowledge.
  TrapSet policy;
  // Instructions that are the VMM's, not the guest's (a translator's chaining jumps): they
  // execute but do not retire as guest instructions.
  std::function<bool(uint64_t)> uncounted;
  std::vector<std::unique_ptr<UnicornCpu::MmioBinding>> mmio_bindings;
  std::unordered_set<uint64_t> watched_frames;  // UnicornCpu::watch_code_frame
  std::vector<uint64_t> written_watched;
  std::function<bool(uint64_t)> code_write_barrier;  // UnicornCpu::set_code_write_barrier
  bool store_stops_first(unsigned cpl) const {
    return cpl == 0 && current && code_write_barrier && code_write_barrier(current->pc);
  }
  // While a device handles an MMIO access: the instructions of the current block at and after
  // the accessing one, counted already but not retired yet.
  uint64_t unretired_in_block = 0;
  void begin_exact_count() {
    unretired_in_block = 0;
    if (!current) return;
    uint64_t rip = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    if (rip < current->pc || rip >= current->pc + current->size) return;
    unretired_in_block = charged_from(rip - current->pc);
  }
  // A range of VMM code (a translation cache) whose HLTs are callouts: they get no trap-site
  // hook (Unicorn checks every code hook at each hooked instruction, so thousands of sites
  // would cost at every one of them); executed, HLT ends the run and becomes the stop.
  uint64_t callout_begin = 0, callout_size = 0;
  bool in_callout_range(uint64_t va) const { return va - callout_begin < callout_size; }
  std::unordered_map<uint64_t, BlockInfo> blocks;
  std::vector<FrontEntry> front = std::vector<FrontEntry>(kFrontCacheSize);
  FrontEntry* front_table = front.data();  // saves a load on the hot path
  std::unordered_map<uint64_t, uc_hook> site_hooks;
  std::unordered_map<uint64_t, SiteInfo> sites;  // by linear address
  std::unordered_map<uint64_t, std::vector<uint64_t>> sites_by_frame;
  std::vector<uint64_t> pending_invalidate;
  bool pending_flush_tlb = false;
  std::unordered_map<uint64_t, std::vector<uint64_t>> blocks_by_frame;
  std::unordered_map<uint64_t, uint64_t> exec_frame_of_page;
  std::unordered_set<uint64_t> writable_frames;
  std::vector<RamRange> ram_ranges;
  std::unordered_set<uint64_t> mixed_frames;  // written after holding code: verified, not protected
  // Unicorn finds translated blocks by physical address, hvsim's records are by linear address.
  // When a linear page is remapped, the old frame's records are dropped but Unicorn keeps its
  // blocks: the frame is "orphaned". Orphaned blocks of a frame written since ("stale") must
  // be invalidated before the frame runs again, through the page it then runs at.
  std::unordered_set<uint64_t> orphaned_frames;
  std::unordered_set<uint64_t> stale_frames;
  std::vector<uint64_t> pending_invalidate_pages;
  // Large pages. The TLB-fill hook hands QEMU 4 KiB entries, and QEMU's INVLPG
  // (helper_invlpg) drops the entry of the operand's 4 KiB only, where the SDM (Vol. 3A
  // 4.10.4.1) drops every entry of the page that holds the address: a remapped 2 MiB page
  // would stay reachable through its other 4 KiB pieces. So the 2 MiB and 1 GiB pages filled
  // since the last full flush are kept here (the page's base; | 1 for 1 GiB), and INVLPG of
  // an address in one of them flushes the whole TLB, as QEMU does for the large pages it maps
  // itself (tlb_flush_page_locked). INVLPG of a 4 KiB page, the common case, costs a lookup.
  std::unordered_set<uint64_t> large_pages;
  uint64_t last_large_page = kNoAddress;  // the last one added: fills come in runs
  bool large_pages_overflow = false;
  void note_large_page(uint64_t page_va, uint64_t size) {
    const uint64_t key = size >= k1G ? (page_va & ~(k1G - 1)) | 1 : page_va & ~(k2M - 1);
    if (key == last_large_page) return;
    last_large_page = key;
    if (large_pages.size() >= kMaxLargePages) {
      large_pages_overflow = true;
      return;
    }
    large_pages.insert(key);
  }
  bool in_large_page(uint64_t va) const {
    return large_pages_overflow || large_pages.count(va & ~(k2M - 1)) || large_pages.count((va & ~(k1G - 1)) | 1);
  }
  void forget_large_pages() {
    large_pages.clear();
    last_large_page = kNoAddress;
    large_pages_overflow = false;
  }
  // The whole TLB goes; also called from inside a code hook, as QEMU's own helpers do
  // (MOV to CR3 flushes from a helper in the middle of a block).
  void drop_tlb() {
    uc_ctl_flush_tlb(uc);
    writable_frames.clear();
    forget_large_pages();
    ++counters.tlb_flushes;
  }
  // INVLPG is about to run in the CPU (from a watch hook, at CPL 0, or for the VMM).
  void before_invlpg(uint64_t va) {
    if (large_pages.empty() && !large_pages_overflow) return;
    if (!in_large_page(va)) return;
    ++counters.large_page_invlpgs;
    drop_tlb();
  }
  // Inside a hook: the linear address of a memory operand from the registers as they are.
  // (UnicornCpu::segment would load the context image in the middle of a run.)
  uint64_t operand_address_in_hook(const Instruction& insn, const ZydisDecodedOperand& op) {
    auto value = [&](ZydisRegister reg) -> uint64_t {
      if (reg == ZYDIS_REGISTER_NONE) return 0;
      if (reg == ZYDIS_REGISTER_RIP || reg == ZYDIS_REGISTER_EIP) return insn.next();
      const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
      if (full < ZYDIS_REGISTER_RAX || full > ZYDIS_REGISTER_R15) return 0;
      uint64_t v = 0;
      uc_reg_read(uc, kGprIds[full - ZYDIS_REGISTER_RAX], &v);
      switch (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
        case 16: return v & 0xffff;
        case 32: return v & 0xffffffff;
        default: return v;  // no 8-bit register addresses memory
      }
    };
    uint64_t ea = value(op.mem.base) + value(op.mem.index) * (op.mem.scale ? op.mem.scale : 1) +
                  static_cast<uint64_t>(op.mem.disp.value);
    if (insn.info.address_width == 32) ea &= 0xffffffff;
    uint64_t base = 0;
    if (op.mem.segment == ZYDIS_REGISTER_FS) uc_reg_read(uc, UC_X86_REG_FS_BASE, &base);
    if (op.mem.segment == ZYDIS_REGISTER_GS) uc_reg_read(uc, UC_X86_REG_GS_BASE, &base);
    return ea + base;
  }
  BlockInfo current_copy;  // keeps the current block's boundaries when its entry is dropped
  CpuCounters counters;

  uc_hook block_hook{}, intr_hook{}, fill_hook{}, invalid_hook{};

  Impl(AddressTranslator& t, const UnicornInternals& i) : translator(t), in(i) {}
  ~Impl() {
    if (uc) uc_close(uc);
  }

  // ---- context patching -------------------------------------------------------------
  uc_context* ctx() { return reinterpret_cast<uc_context*>(ctx_buf.data()); }
  void ctx_load() {
    if (!ctx_loaded) {
      uc_context_save(uc, ctx());
      ctx_loaded = true;
    }
  }
  // Before Unicorn reads state: push patches. The image stays valid for further patches.
  void sync() {
    if (ctx_dirty) uc_context_restore(uc, ctx());
    ctx_dirty = false;
  }
  // Before Unicorn changes state (register writes, running): pending patches go in, then
  // the image goes stale. The latch reset waits until here so that register reads between an
  // exception and its delivery need no restore.
  void sync_for_write() {
    if (latch_reset_pending) {
      ctx_put<int32_t>(in.old_exception, -1);  // Unicorn issue #1883
      latch_reset_pending = false;
    }
    sync();
    ctx_loaded = false;
  }
  bool latch_reset_pending = false;
  // EFER changes only through set_msr (guest WRMSR is a trap point), so reads are cached.
  std::optional<uint64_t> efer_cache;
  template <typename T>
  T ctx_get(size_t off) {
    ctx_load();
    T v;
    std::memcpy(&v, ctx_buf.data() + off, sizeof v);
    return v;
  }
  template <typename T>
  void ctx_put(size_t off, T v) {
    ctx_load();
    std::memcpy(ctx_buf.data() + off, &v, sizeof v);
    ctx_dirty = true;
  }

  uint64_t reg(int id) {
    sync();
    uint64_t v = 0;
    uc_reg_read(uc, id, &v);
    return v;
  }
  void set_reg(int id, uint64_t v) {
    sync_for_write();
    uc_reg_write(uc, id, &v);
  }

  // ---- block knowledge ---------------------------------------------------------------
  void forget_block(uint64_t pc) {
    auto it = blocks.find(pc);
    if (it == blocks.end()) return;
    if (current == &it->second) {
      current_copy = it->second;
      current = &current_copy;
    }
    auto& f = front[(pc >> 2) & (kFrontCacheSize - 1)];
    if (f.pc == pc) f = FrontEntry{};
    blocks.erase(it);
  }
  // Drops what hvsim knows about the code in `frame` (its blocks and trap sites). The frame
  // stays write-protected: Unicorn may still hold translated blocks of it.
  void forget_frame(uint64_t frame) {
    if (auto s = sites_by_frame.find(frame); s != sites_by_frame.end()) {
      for (uint64_t va : s->second) {
        auto it = sites.find(va);
        if (it != sites.end() && it->second.frame == frame) sites.erase(it);
      }
      sites_by_frame.erase(s);
    }
    auto it = blocks_by_frame.find(frame);
    if (it == blocks_by_frame.end()) return;
    for (uint64_t pc : it->second) forget_block(pc);
    it->second.clear();
    ++counters.code_invalidations;
  }

  // The guest is about to write `frame`, which holds code we translated. From now on its
  // blocks are checked against their bytes each time they run (captured now, before the
  // write), so a change is seen and the block retranslated, whatever linear address the
  // write went through.
  void code_frame_written(uint64_t frame) {
    mixed_frames.insert(frame);
    if (orphaned_frames.count(frame)) stale_frames.insert(frame);
    auto it = blocks_by_frame.find(frame);
    if (it == blocks_by_frame.end()) return;
    std::vector<uint64_t> pcs = it->second;
    for (uint64_t pc : pcs) {
      auto b = blocks.find(pc);
      if (b == blocks.end()) continue;
      BlockInfo& info = b->second;
      if (info.verify) continue;
      if (!info.host[0] || info.host_len[0] + info.host_len[1] != info.size) {
        // Cannot be checked by content: forget it and treat the frame's blocks as stale.
        forget_block(pc);
        orphaned_frames.insert(frame);
        stale_frames.insert(frame);
        continue;
      }
      info.bytes.assign(info.host[0], info.host[0] + info.host_len[0]);
      if (info.host_len[1]) info.bytes.insert(info.bytes.end(), info.host[1], info.host[1] + info.host_len[1]);
      info.verify = true;
      auto& f = front[(pc >> 2) & (kFrontCacheSize - 1)];
      if (f.pc == pc) f.size = 0;  // the fast path no longer matches it
    }
    ++counters.code_invalidations;
  }

  // An instruction fetch from linear `page_va` goes to `frame`.
  void code_page_mapped(uint64_t page_va, uint64_t frame) {
    uint64_t vpage = page_va >> 12;
    auto [it, inserted] = exec_frame_of_page.try_emplace(vpage, frame);
    if (!inserted && it->second != frame) {
      forget_frame(it->second);  // same linear page, new code: a remap or new process
      orphaned_frames.insert(it->second);
      it->second = frame;
    }
    if (stale_frames.count(frame) || (mixed_frames.count(frame) && orphaned_frames.count(frame))) {
      // Unicorn may hold blocks of this frame translated from bytes it no longer has, and
      // hvsim has no record to compare them with: drop them all before any runs, then
      // protect the frame afresh.
      pending_invalidate_pages.push_back(page_va & ~0xfffull);
      stale_frames.erase(frame);
      orphaned_frames.erase(frame);
      mixed_frames.erase(frame);
      forget_frame(frame);
      std::fill(front.begin(), front.end(), FrontEntry{});  // every block takes the slow path once
    }
  }

  // Decodes the instruction at a trap site once per (site, code version).
  const SiteInfo* site_at(uint64_t addr) {
    if (auto it = sites.find(addr); it != sites.end()) {
      const SiteInfo& s = it->second;
      if (!mixed_frames.count(s.frame) || std::memcmp(s.host, s.bytes, s.length) == 0) return &s;
      sites.erase(it);  // rewritten since it was decoded
    }
    uint8_t bytes[16];
    CodePage page;
    size_t n = read_code(addr, bytes, sizeof bytes, &page, 1);
    if (n == 0) return nullptr;
    auto insn = decode_instruction(bytes, n, addr);
    if (!insn) return nullptr;
    SiteInfo info;
    info.frame = page.frame;
    info.kind = classify_trap(*insn);
    info.insn = *insn;
    info.host = page.host;
    info.length = static_cast<unsigned>(std::min<size_t>(page.length, insn->length()));
    std::memcpy(info.bytes, bytes, sizeof info.bytes);
    sites_by_frame[info.frame].push_back(addr);
    // Make sure a write to this frame is noticed (see on_tlb_fill).
    blocks_by_frame.try_emplace(info.frame);
    return &sites.insert_or_assign(addr, std::move(info)).first->second;
  }
  bool hlt_before(uint64_t rip) {
    uint8_t byte = 0;
    CodePage page;
    return read_code(rip - 1, &byte, 1, &page, 1) == 1 && byte == 0xf4;
  }
  bool is_ram(uint64_t pa) const {
    return host_of(pa) != nullptr;
  }
  uint8_t* host_of(uint64_t pa) const {
    for (const auto& r : ram_ranges)
      if (pa >= r.begin && pa < r.end) return r.host + (pa - r.begin);
    return nullptr;
  }

  // One page of code bytes read by read_code: where it lives and how much of it was read.
  struct CodePage {
    uint64_t frame = kNoAddress;
    uint8_t* host = nullptr;
    size_t offset = 0, length = 0;  // within the bytes read
  };

  // Copies up to `want` bytes of code at linear `va` through the current address space, page
  // by page, stopping at the first page that is not RAM; records the first `max_pages` pages.
  size_t read_code(uint64_t va, uint8_t* out, size_t want, CodePage* pages, int max_pages) {
    size_t have = 0;
    for (int page = 0; have < want; ++page) {
      auto pa = translator.probe(va + have);
      uint8_t* host = pa ? host_of(*pa) : nullptr;
      if (!host) break;
      size_t chunk = std::min<size_t>(want - have, 0x1000 - ((va + have) & 0xfff));
      std::memcpy(out + have, host, chunk);
      if (page < max_pages) pages[page] = CodePage{*pa >> 12, host, have, chunk};
      have += chunk;
    }
    return have;
  }

  BlockInfo* scan(uint64_t pc, uint32_t size) {
    forget_block(pc);
    BlockInfo b;
    b.pc = pc;
    b.size = size;
    uint8_t bytes[4096 + 16];
    CodePage pages[2];
    size_t have = read_code(pc, bytes, std::min<size_t>(size + 15, sizeof bytes), pages, 2);
    for (int i = 0; i < 2; ++i) {
      if (pages[i].host && pages[i].offset < size) {
        b.frames[i] = pages[i].frame;
        b.host[i] = pages[i].host;
        b.host_len[i] = static_cast<uint32_t>(std::min<size_t>(pages[i].length, size - pages[i].offset));
      }
    }
    size_t off = 0;
    while (off < size && off < have) {
      auto insn = decode_instruction(bytes + off, have - off, pc + off);
      b.offsets.push_back(static_cast<uint16_t>(off));
      if (!insn) break;  // Unicorn will raise #UD here; count it as the block's last
      // INVLPG outside the policy runs in the CPU, but gets a hook all the same: a large
      // page's translation must go whole (see large_pages). Translated code (a callout
      // range) has none: its VMM calls UnicornCpu::prepare_invlpg.
      if (auto kind = classify_trap(*insn);
          kind && (policy.contains(*kind) || *kind == TrapKind::Invlpg) && !in_callout_range(pc + off)) {
        install_site(pc + off);
      }
      b.ends_with_branch = insn->info.meta.category == ZYDIS_CATEGORY_COND_BR ||
                           insn->info.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
                           insn->info.meta.category == ZYDIS_CATEGORY_CALL ||
                           insn->info.meta.category == ZYDIS_CATEGORY_RET;
      b.ends_with_rep = is_rep_string(*insn);
      if (b.ends_with_rep) b.rep_count_mask = insn->info.address_width == 64 ? ~0ull : 0xffff'ffffull;
      if (uncounted && uncounted(pc + off)) {
        ++b.uncounted;
        b.vmm_instruction.resize(b.offsets.size());
        b.vmm_instruction.back() = true;
      }
      off += insn->length();
    }
    if (b.offsets.empty()) b.offsets.push_back(0);
    if (!b.vmm_instruction.empty()) b.vmm_instruction.resize(b.offsets.size());
    b.icount = static_cast<uint16_t>(b.offsets.size() - b.uncounted);
    b.rep_head = b.ends_with_rep && b.offsets.size() == 1 && b.icount == 1;
    ++counters.blocks_scanned;
    for (uint64_t frame : b.frames) {
      if (frame == kNoAddress) continue;
      blocks_by_frame[frame].push_back(pc);
      if (mixed_frames.count(frame)) {
        b.verify = true;
      } else if (writable_frames.count(frame)) {
        // A writable TLB entry for a code frame would let the guest change code without our
        // noticing; drop all such entries once (the fill then withholds write permission).
        pending_flush_tlb = true;
      }
    }
    if (b.verify && b.host[0] && b.host_len[0] + b.host_len[1] == size) {
      b.bytes.assign(bytes, bytes + size);
    } else {
      b.verify = false;
    }
    auto [it, _] = blocks.emplace(pc, std::move(b));
    BlockInfo* info = &it->second;
    front[(pc >> 2) & (kFrontCacheSize - 1)] = FrontEntry{pc, fast_path_size(*info), info->icount, info};
    return info;
  }

  // The size the fast path of on_block matches: 0 for blocks it must not charge blindly
  // (checked by content, or a REP head whose charge depends on the count register).
  static uint32_t fast_path_size(const BlockInfo& b) { return b.verify || b.rep_head ? 0u : b.size; }

  static bool is_rep_string(const Instruction& insn) {
    return insn.has_rep() && (insn.info.meta.category == ZYDIS_CATEGORY_STRINGOP ||
                              insn.info.meta.category == ZYDIS_CATEGORY_IOSTRINGOP);
  }

  // A REP string instruction retires once per iteration, and once when it performs none (a
  // count of 0 on entry): `mov ecx, 3; rep movsb` is 4 instructions. QEMU runs the first
  // iteration inside the block that holds the instruction, then jumps back to it, so every
  // further iteration, and the final check that finds the count exhausted, is one more entry of
  // a block holding only the REP instruction. That final entry retires nothing. Whether an entry
  // continues the instruction (rather than starting it: a jump to it, a resumed run) is known
  // from the block before it, never from where blocks happen to end, which differs between
  // guest code and a translation cache.
  bool continues_rep(uint64_t pc) const {
    const BlockInfo* prev = current;
    if (!prev) return resume_continues_rep;
    return prev->ends_with_rep && prev->pc + prev->offsets.back() == pc;
  }
  // Called before `current` becomes b. Reading RCX costs about 10 ns; when the previous entry
  // was b's own (an iteration ran and jumped back), the count is one less than it was then.
  uint16_t rep_charge(const BlockInfo& b, bool continuation) {
    if (continuation && current == &b) {
      rep_count = (rep_count - 1) & b.rep_count_mask;
    } else {
      uc_reg_read(uc, UC_X86_REG_RCX, &rep_count);
      rep_count &= b.rep_count_mask;
    }
    current_retired_nothing = continuation && rep_count == 0;
    return current_retired_nothing ? 0 : b.icount;
  }
  // Instructions the current block was charged for from byte offset `off` on.
  uint64_t charged_from(uint64_t off) const {
    if (current->rep_head && current_retired_nothing) return 0;
    uint16_t done = 0;  // counted instructions before `off`
    const std::vector<bool>& vmm = current->vmm_instruction;
    for (size_t i = 0; i < current->offsets.size() && current->offsets[i] < off; ++i) {
      if (vmm.empty() || !vmm[i]) ++done;
    }
    return done < current->icount ? current->icount - done : 0;
  }

  void install_site(uint64_t addr);  // defined after the hook callbacks

  // ---- hooks ------------------------------------------------------------------------
  // Runs before every block: a leaf on the fast path (no spills), everything else out of line.
  static void on_block(uc_engine* uc, uint64_t pc, uint32_t size, void* user) {
    auto* s = static_cast<Impl*>(user);
    const FrontEntry& f = s->front_table[(pc >> 2) & (kFrontCacheSize - 1)];
    if (f.pc == pc && f.size == size && s->retired < s->limit.load(std::memory_order_relaxed)) [[likely]] {
      s->current = f.block;
      s->retired += f.icount;
      return;
    }
    block_slow_path(uc, pc, size, s);
  }

  [[gnu::noinline]] static void block_slow_path(uc_engine* uc, uint64_t pc, uint32_t size, Impl* s) {
    const bool continuation = s->continues_rep(pc);
    s->resume_continues_rep = false;  // only the first entry of a run resumes
    if (s->retired >= s->limit.load(std::memory_order_relaxed)) {
      if (!s->window_stop || s->retired >= s->budget_end || s->sync_requested || s->stop_after_mmio ||
          s->stop_requested.load()) {
        s->stop_before_block(uc, pc, s->mmio_stepping && s->retired >= s->budget_end ? Cause::MmioStep
                                     : s->sync_requested                            ? Cause::MemorySync
                                     : s->stop_after_mmio                           ? Cause::MmioSync
                                     : s->stop_requested.load()                     ? Cause::StopRequested
                                                                                    : Cause::Budget,
                             continuation);
        return;
      }
      // Only the interrupt-window watch sent this block here.
      uint64_t flags = 0;
      uc_reg_read(uc, UC_X86_REG_EFLAGS, &flags);
      if (flags & rflags::IF) {
        s->stop_before_block(uc, pc, Cause::InterruptWindow, continuation);
        return;
      }
      const FrontEntry& f = s->front_table[(pc >> 2) & (kFrontCacheSize - 1)];
      if (f.pc == pc && f.size == size) {  // what the fast path does (never a REP head)
        s->current = f.block;
        s->retired += f.icount;
        return;
      }
    }
    if (const BlockInfo* prev = s->current; prev && !continuation && restarts(*prev, pc, size)) {
      s->uncharge_unretired(pc);
    }
    if (!s->pending_invalidate_pages.empty()) {
      // Stale translations of a code page: drop them first.
      s->stop_before_block(uc, pc, Cause::Rescan, continuation);
      return;
    }
    auto& f = s->front[(pc >> 2) & (kFrontCacheSize - 1)];
    BlockInfo* b = nullptr;
    if (f.pc == pc && f.block && f.block->rep_head && !f.block->verify && f.block->size == size) {
      b = f.block;  // each iteration of a REP instruction comes here: no map lookup
    } else {
      auto it = s->blocks.find(pc);
      if (it != s->blocks.end() && it->second.size == size && (!it->second.verify || it->second.unchanged())) {
        b = &it->second;
        f = FrontEntry{pc, fast_path_size(*b), b->icount, b};
      } else {
        // A block whose bytes changed since it was translated: Unicorn does not notice every
        // such write (not those through another mapping of the frame), so drop its copy.
        bool rewritten = it != s->blocks.end() && it->second.verify && it->second.size == size;
        b = s->scan(pc, size);
        if (rewritten) s->pending_invalidate.push_back(pc);
        if (!s->pending_invalidate.empty() || s->pending_flush_tlb) {
          // New trap sites need retranslation; restart before this block runs.
          s->stop_before_block(uc, pc, Cause::Rescan, continuation);
          return;
        }
      }
    }
    const uint64_t charge = b->rep_head ? s->rep_charge(*b, continuation) : b->icount;
    s->current = b;
    s->retired += charge;
  }

  // Whether the block (pc, size) entered after `prev` restarts it at a store that rewrote it:
  // QEMU then abandons the block and runs the storing instruction again, alone, in a block of
  // its own (a precise self-modifying-code exit), so prev did not complete. A block that ends
  // without a branch cannot reach its own range any other way (a REP string instruction's next
  // iteration is told apart before). After a branch, a block inside prev's range is a loop,
  // unless it is one instruction of prev that is not its last: a loop's block would run on to
  // the branch.
  static bool restarts(const BlockInfo& prev, uint64_t pc, uint32_t size) {
    if (pc < prev.pc || pc >= prev.pc + prev.size) return false;
    if (!prev.ends_with_branch) return true;
    const uint64_t off = pc - prev.pc;
    for (size_t i = 0; i + 1 < prev.offsets.size(); ++i) {
      if (prev.offsets[i] == off) return size == static_cast<uint32_t>(prev.offsets[i + 1] - off);
    }
    return false;
  }

  // Stops before the block at `pc` runs; the next run resumes there (continuing a REP
  // instruction if this entry did).
  void stop_before_block(uc_engine* engine, uint64_t pc, Cause why, bool continuation) {
    cause = why;
    stop_pc = pc;
    stop_continues_rep = continuation;
    uc_emu_stop(engine);
  }

  static void on_trap_site(uc_engine* uc, uint64_t addr, uint32_t, void* user) {
    auto* s = static_cast<Impl*>(user);
    if (s->pass_once == addr) {
      s->pass_once = kNoAddress;
      // A MOV to CR3 executes now and flushes the CPU's whole TLB (QEMU's
      // cpu_x86_update_cr3, paging being on): no large page is left in it.
      if (s->trap == TrapKind::MovToCr && s->trap_insn.address == addr &&
          s->trap_insn.operands[0].reg.value == ZYDIS_REGISTER_CR3) {
        s->forget_large_pages();
      }
      return;
    }
    // The site may have been rewritten since the hook was added: decide from its bytes.
    const SiteInfo* site = s->site_at(addr);
    if (!site || !site->kind) return;
    if (!s->policy.contains(*site->kind)) {
      if (*site->kind == TrapKind::Invlpg) s->watch_invlpg(uc, site->insn);
      return;
    }
    s->cause = Cause::TrapPoint;
    s->stop_pc = addr;
    s->trap = *site->kind;
    s->trap_insn = site->insn;
    uc_emu_stop(uc);
  }

  // An INVLPG the CPU executes itself (not in the policy).
  void watch_invlpg(uc_engine* engine, const Instruction& insn) {
    if (large_pages.empty() && !large_pages_overflow) return;
    const ZydisDecodedOperand& op = insn.operands[0];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) return;  // #UD
    uint64_t cs = 0;
    uc_reg_read(engine, UC_X86_REG_CS, &cs);
    if (cs & 3) return;  // #GP: nothing is invalidated
    before_invlpg(operand_address_in_hook(insn, op));
  }

  // #UD: Unicorn may touch an unrelated page after it (a failing fetch fill at -4096 was seen),
  // so the error code uc_emu_start returns cannot be trusted; this flag can.
  static bool on_invalid_instruction(uc_engine*, void* user) {
    static_cast<Impl*>(user)->invalid_opcode = true;
    return false;  // not handled: Unicorn stops
  }

  static void on_interrupt(uc_engine* uc, uint32_t intno, void* user) {
    auto* s = static_cast<Impl*>(user);
    s->cause = Cause::Exception;
    s->exception_vector = static_cast<uint8_t>(intno);
    uc_emu_stop(uc);
  }

  static bool on_tlb_fill(uc_engine* uc, uint64_t page_va, uc_mem_type type, uc_tlb_entry* e,
                          void* user) {
    auto* s = static_cast<Impl*>(user);
    ++s->counters.tlb_fills;
    FillRequest req;
    req.page_va = page_va;
    req.access = type == UC_MEM_WRITE ? Access::Write
                 : type == UC_MEM_FETCH ? Access::Fetch
                                        : Access::Read;
    uint64_t cs = 0;
    uc_reg_read(uc, UC_X86_REG_CS, &cs);
    req.cpl = cs & 3;
    FillResult r = s->translator.fill(req);
    if (!r.ok) {
      ++s->counters.tlb_fill_faults;
      // The first refusal is the fault; Unicorn may probe more pages while unwinding.
      if (s->fill_failed) return false;
      s->fill_failed = true;
      s->fault_page = page_va;
      s->fault_access = req.access;
      s->fault_pfec = r.pf_error_code;
      s->fault_non_canonical = r.non_canonical;
      return false;
    }
    uint64_t frame = r.cpu_pa >> 12;
    if (r.write && s->watched_frames.count(frame)) {
      if (req.access == Access::Write && s->store_stops_first(req.cpl)) {
        // Refused, not a fault: RIP stays precise at the store and nothing is written.
        if (s->fill_failed) return false;
        s->fill_failed = s->code_write_blocked = true;
        s->fault_page = page_va;
        s->fault_access = Access::Write;
        return false;
      }
      if (req.access == Access::Write) {
        // A frame the VMM translated code from: it hears of the write at the next block
        // boundary, after the store, and drops what changed.
        s->watched_frames.erase(frame);
        s->written_watched.push_back(frame << 12);
        r.sync_after = true;
      } else {
        r.write = false;
      }
    }
    if (r.write && !s->mixed_frames.count(frame) && s->blocks_by_frame.count(frame)) {
      if (req.access == Access::Write) {
        // The guest writes a frame we scanned code in. From now on its blocks are checked by
        // content: protecting a frame that mixes code and data would bounce between faults
        // and flushes on every store.
        s->code_frame_written(frame);
      } else {
        r.write = false;  // keep code frames write-protected so a change is seen
      }
    }
    if (r.write && !s->precise_windows.empty()) [[unlikely]] {
      if (s->precise_window_at(r.cpu_pa)) {
        if (req.access != Access::Write) {
          r.write = false;  // a store comes back here
        } else if (!s->mmio_stepping) {
          // Refused, not a fault: RIP stays precise at the store and nothing is written;
          // run() performs the write. (The instruction run alone gets its entry.)
          if (s->fill_failed) return false;
          s->fill_failed = s->mmio_write_blocked = true;
          s->fault_page = page_va;
          s->fault_access = Access::Write;
          s->blocked_mmio_pa = r.cpu_pa;
          return false;
        }
      }
    }
    if (r.exec) s->code_page_mapped(page_va, frame);
    if (r.write) s->writable_frames.insert(frame);
    if (r.page_size > 0x1000) [[unlikely]] s->note_large_page(page_va, r.page_size);
    if (r.sync_after) {
      s->sync_requested = true;
      s->limit = 0;  // the next block takes the slow path and stops
    }
    e->paddr = r.cpu_pa;
    e->perms = static_cast<uc_prot>((r.read ? UC_PROT_READ : 0) | (r.write ? UC_PROT_WRITE : 0) |
                                    (r.exec ? UC_PROT_EXEC : 0));
    return true;
  }

  // Adjust the retired count when execution left the current block early: the block hook
  // charged the whole block on entry.
  void uncharge_unretired(uint64_t rip) {
    if (!current || rip < current->pc || rip >= current->pc + current->size) return;
    retired -= charged_from(rip - current->pc);
    current = nullptr;
  }

  void flush_tlb_now() {
    sync_for_write();
    drop_tlb();
  }
};

void UnicornCpu::Impl::install_site(uint64_t addr) {
  if (site_hooks.count(addr)) return;
  uc_hook h{};
  if (uc_hook_add(uc, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&Impl::on_trap_site), this, addr,
                  addr) != UC_ERR_OK) {
    return;
  }
  site_hooks.emplace(addr, h);
  pending_invalidate.push_back(addr);
  ++counters.trap_sites;
}

// ---------------------------------------------------------------------------------------

const char* stop_kind_name(StopKind k) {
  switch (k) {
    case StopKind::Exception: return "exception";
    case StopKind::MemoryFault: return "memory fault";
    case StopKind::TrapPoint: return "trap point";
    case StopKind::InvalidOpcode: return "invalid opcode";
    case StopKind::BudgetExhausted: return "budget exhausted";
    case StopKind::StopRequested: return "stop requested";
    case StopKind::MemorySync: return "memory sync";
    case StopKind::InterruptWindow: return "interrupt window";
    case StopKind::CodeWrite: return "code write";
    case StopKind::MmioSync: return "MMIO sync";
    case StopKind::TripleFault: return "triple fault";
    case StopKind::HostError: return "host error";
  }
  return "?";
}

UnicornCpu::UnicornCpu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UnicornCpu::~UnicornCpu() = default;

Result<std::unique_ptr<UnicornCpu>> UnicornCpu::create(AddressTranslator& translator) {
  const auto& internals = unicorn_internals();
  if (!internals) {
    return make_error(internals.error().message +
                      " (hvsim needs Unicorn 2.1.x internals it can verify; refusing to run)");
  }
  auto impl = std::make_unique<Impl>(translator, internals.value());
  auto fail = [](const char* what, uc_err e) {
    return make_error(std::string("Unicorn: ") + what + ": " + uc_strerror(e));
  };
  uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &impl->uc);
  if (e != UC_ERR_OK) return fail("uc_open", e);
  if ((e = uc_ctl_set_tcg_buffer_size(impl->uc, kTcgBufferBytes)) != UC_ERR_OK)
    return fail("set TCG buffer size", e);
  if ((e = uc_ctl_tlb_mode(impl->uc, UC_TLB_VIRTUAL)) != UC_ERR_OK) return fail("UC_TLB_VIRTUAL", e);
  Impl* p = impl.get();
  if ((e = uc_hook_add(p->uc, &p->block_hook, UC_HOOK_BLOCK, reinterpret_cast<void*>(&Impl::on_block),
                       p, 1, 0)) != UC_ERR_OK)
    return fail("block hook", e);
  if ((e = uc_hook_add(p->uc, &p->intr_hook, UC_HOOK_INTR, reinterpret_cast<void*>(&Impl::on_interrupt),
                       p, 1, 0)) != UC_ERR_OK)
    return fail("interrupt hook", e);
  if ((e = uc_hook_add(p->uc, &p->invalid_hook, UC_HOOK_INSN_INVALID,
                       reinterpret_cast<void*>(&Impl::on_invalid_instruction), p, 1, 0)) != UC_ERR_OK)
    return fail("invalid-instruction hook", e);
  if ((e = uc_hook_add(p->uc, &p->fill_hook, UC_HOOK_TLB_FILL,
                       reinterpret_cast<void*>(&Impl::on_tlb_fill), p, 1, 0)) != UC_ERR_OK)
    return fail("TLB fill hook", e);
  // Our context buffer needs the header uc_context_alloc writes (sizes, mode, arch).
  uc_context* allocated = nullptr;
  if (uc_context_alloc(p->uc, &allocated) != UC_ERR_OK) return make_error("uc_context_alloc failed");
  p->ctx_buf.resize(uc_context_size(p->uc));
  std::memcpy(p->ctx_buf.data(), allocated, p->ctx_buf.size());
  uc_context_free(allocated);
  if (p->ctx_buf.size() != p->in.context_size) return make_error("Unicorn: context size changed since the probe");
  // Keep paging on inside Unicorn so the guest's own MOV CR3 / INVLPG flush its TLB; the
  // tables themselves are walked by our translator, never by Unicorn.
  uint64_t cr4v = cr4::PAE, cr0v = cr0::PE | cr0::PG | cr0::ET;
  uc_reg_write(p->uc, UC_X86_REG_CR4, &cr4v);
  uc_reg_write(p->uc, UC_X86_REG_CR0, &cr0v);
  return std::unique_ptr<UnicornCpu>(new UnicornCpu(std::move(impl)));
}

Result<void> UnicornCpu::map_ram(uint64_t cpu_pa, uint64_t size, uint8_t* host) {
  impl_->sync_for_write();
  uc_err e = uc_mem_map_ptr(impl_->uc, cpu_pa, size, UC_PROT_ALL, host);
  if (e != UC_ERR_OK) return make_error(std::string("map RAM: ") + uc_strerror(e));
  impl_->ram_ranges.push_back({cpu_pa, cpu_pa + size, host});
  return {};
}

// A device reads the time in the middle of a block, whose instructions were all counted when
// it began: while the device runs, the instructions from RIP on are taken back. RIP there is
// where QEMU last wrote it back, usually the block's start (docs/unicorn-notes.md), so a read
// sees the count at its block's start; writes to precise windows are performed at a stop
// before the instruction instead (or run as a block of their own), with the exact count.
struct UnicornCpu::MmioBinding {
  Impl* cpu;
  MmioHandler* handler;
};

namespace {
struct ExactTime {
  explicit ExactTime(UnicornCpu::Impl& s) : s_(s) { s_.begin_exact_count(); }
  ~ExactTime() { s_.unretired_in_block = 0; }
  UnicornCpu::Impl& s_;
};

uint64_t mmio_read_cb(uc_engine*, uint64_t offset, unsigned size, void* user) {
  auto* b = static_cast<UnicornCpu::MmioBinding*>(user);
  ExactTime exact(*b->cpu);
  return b->handler->mmio_read(offset, size);
}
void mmio_write_cb(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* user) {
  auto* b = static_cast<UnicornCpu::MmioBinding*>(user);
  ExactTime exact(*b->cpu);
  b->handler->mmio_write(offset, size, value);
}
}  // namespace

Result<void> UnicornCpu::map_mmio(uint64_t cpu_pa, uint64_t size, MmioHandler& handler, bool precise_writes) {
  impl_->sync_for_write();
  auto& binding = impl_->mmio_bindings.emplace_back(std::make_unique<MmioBinding>(MmioBinding{impl_.get(), &handler}));
  uc_err e = uc_mmio_map(impl_->uc, cpu_pa, size, mmio_read_cb, binding.get(), mmio_write_cb, binding.get());
  if (e != UC_ERR_OK) return make_error(std::string("map MMIO: ") + uc_strerror(e));
  if (precise_writes) impl_->precise_windows.push_back({cpu_pa, cpu_pa + size, &handler});
  return {};
}

namespace {
bool is_gpr(ZydisRegister r) {
  const ZydisRegisterClass c = ZydisRegisterGetClass(r);
  return c == ZYDIS_REGCLASS_GPR8 || c == ZYDIS_REGCLASS_GPR16 || c == ZYDIS_REGCLASS_GPR32 ||
         c == ZYDIS_REGCLASS_GPR64;
}

// The store to a precise MMIO window that the CPU stopped before (RIP at it, nothing done):
// a MOV m, r/imm has no effect but the write and RIP, so the adapter performs it, handing the
// device what Unicorn would (an 8-byte store as two 4-byte writes), with RIP still at the
// instruction and the count exact, as in an MMIO callback. false for anything else.
bool emulate_mmio_store(UnicornCpu& cpu, UnicornCpu::Impl& s) {
  auto insn = cpu.decode_at(cpu.rip());
  if (!insn || insn->mnemonic() != ZYDIS_MNEMONIC_MOV) return false;
  const ZydisDecodedOperand& dst = insn->operands[0];
  const ZydisDecodedOperand& src = insn->operands[1];
  if (dst.type != ZYDIS_OPERAND_TYPE_MEMORY || dst.mem.type != ZYDIS_MEMOP_TYPE_MEM) return false;
  const unsigned size = dst.size / 8;
  if (size != 1 && size != 2 && size != 4 && size != 8) return false;
  uint64_t value = 0;
  if (src.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
    value = src.imm.value.u;  // sign-extended by the decoder where the instruction does
  } else if (src.type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(src.reg.value)) {
    value = register_value(cpu, src.reg.value, insn->next());
  } else {
    return false;
  }
  if (size < 8) value &= (1ull << (8 * size)) - 1;
  const uint64_t va = memory_operand_address(cpu, *insn, dst);
  if ((va & ~0xfffull) != s.fault_page || ((va + size - 1) & ~0xfffull) != s.fault_page) return false;
  const uint64_t pa = s.blocked_mmio_pa + (va & 0xfff);
  const PreciseWindow* w = s.precise_window_at(pa);
  if (!w || pa + size > w->end) return false;
  const bool shadow = cpu.interrupt_shadow();
  if (size == 8) {
    w->handler->mmio_write(pa - w->begin, 4, value & 0xffffffff);
    w->handler->mmio_write(pa - w->begin + 4, 4, value >> 32);
  } else {
    w->handler->mmio_write(pa - w->begin, size, value);
  }
  cpu.set_rip(insn->next());
  cpu.add_retired(1);
  // The instruction after STI or MOV SS has run: the shadow is over (the CPU clears it when
  // it executes the instruction itself).
  if (shadow) cpu.end_interrupt_shadow();
  ++s.counters.mmio_writes_emulated;
  return true;
}
}  // namespace

StopReason UnicornCpu::run(uint64_t budget) {
  Impl& s = *impl_;
  if (budget == 0) budget = 1;  // always make progress
  s.budget_end = budget > UINT64_MAX - s.retired ? UINT64_MAX : s.retired + budget;
  s.limit = s.window_stop ? 0 : s.budget_end;
  if (s.stop_requested) s.limit = 0;
  s.sync_requested = false;  // the VMM synced memory at the stop before this run
  s.stop_after_mmio = false;  // a write the VMM made between runs: the VM has looked since
  StopReason r;
  for (;;) {
    s.sync_for_write();
    s.cause = Cause::None;
    s.fill_failed = s.code_write_blocked = s.mmio_write_blocked = false;
    s.invalid_opcode = false;
    s.current = nullptr;
    s.resume_continues_rep = s.stop_continues_rep;
    s.stop_continues_rep = false;
    uint64_t start = 0;
    uc_reg_read(s.uc, UC_X86_REG_RIP, &start);
    const uint64_t until = until_for(start);
    uc_err err = uc_emu_start(s.uc, start, until, 0, 0);
    if (s.cause == Cause::Budget || s.cause == Cause::StopRequested || s.cause == Cause::Rescan ||
        s.cause == Cause::TrapPoint || s.cause == Cause::MemorySync || s.cause == Cause::InterruptWindow ||
        s.cause == Cause::MmioStep || s.cause == Cause::MmioSync) {
      uc_reg_write(s.uc, UC_X86_REG_RIP, &s.stop_pc);
    }
    r.rip = s.reg(UC_X86_REG_RIP);
    if (err == UC_ERR_OK && s.cause == Cause::None && !s.invalid_opcode && r.rip == until) {
      continue;  // the guest reached our `until` address: go on from there
    }
    if (s.cause == Cause::Rescan) {
      for (uint64_t addr : s.pending_invalidate) uc_ctl_remove_cache(s.uc, addr, addr + 1);
      s.pending_invalidate.clear();
      for (uint64_t page : s.pending_invalidate_pages) uc_ctl_remove_cache(s.uc, page, page + 0x1000);
      s.pending_invalidate_pages.clear();
      if (s.pending_flush_tlb) {
        s.pending_flush_tlb = false;
        s.flush_tlb_now();
      }
      continue;
    }
    switch (s.cause) {
      case Cause::Budget: r.kind = StopKind::BudgetExhausted; break;
      case Cause::MemorySync:
        s.sync_requested = false;
        r.kind = StopKind::MemorySync;
        break;
      case Cause::StopRequested:
        s.stop_requested = false;
        r.kind = StopKind::StopRequested;
        break;
      case Cause::InterruptWindow: r.kind = StopKind::InterruptWindow; break;
      case Cause::MmioSync: r.kind = StopKind::MmioSync; break;
      case Cause::MmioStep:
        // The instruction that wrote a precise window has run alone (RIP after it).
        end_mmio_step();
        if (s.stop_after_mmio) {
          r.kind = StopKind::MmioSync;
          break;
        }
        continue;
      case Cause::TrapPoint:
        ++s.counters.trap_points_hit;
        s.uncharge_unretired(r.rip);
        r.kind = StopKind::TrapPoint;
        r.trap = s.trap;
        break;
      case Cause::Exception:
        ++s.counters.exceptions;
        s.uncharge_unretired(r.rip);
        r.kind = StopKind::Exception;
        r.vector = s.exception_vector;
        r.error_code = s.ctx_get<uint32_t>(s.in.error_code);
        s.latch_reset_pending = true;
        break;
      default:
        if (s.invalid_opcode || err == UC_ERR_INSN_INVALID) {
          s.uncharge_unretired(r.rip);
          r.kind = StopKind::InvalidOpcode;
        } else if (err == UC_ERR_EXCEPTION && s.fill_failed && s.mmio_write_blocked) {
          // A store to a precise MMIO window, not executed yet (Impl::precise_windows).
          s.uncharge_unretired(r.rip);
          if (emulate_mmio_store(*this, s)) {
            if (s.stop_after_mmio) {
              r.rip = rip();
              r.kind = StopKind::MmioSync;
              break;
            }
            continue;
          }
          begin_mmio_step();
          continue;
        } else if (err == UC_ERR_EXCEPTION && s.fill_failed && s.code_write_blocked) {
          s.uncharge_unretired(r.rip);
          r.kind = StopKind::CodeWrite;
          r.fault_page = s.fault_page;
          r.fault_access = Access::Write;
        } else if (err == UC_ERR_EXCEPTION && s.fill_failed) {
          s.uncharge_unretired(r.rip);
          r.kind = StopKind::MemoryFault;
          r.fault_page = s.fault_page;
          r.fault_access = s.fault_access;
          r.error_code = s.fault_pfec;
          r.fault_non_canonical = s.fault_non_canonical;
        } else if (err == UC_ERR_OK && s.in_callout_range(r.rip - 1) && s.hlt_before(r.rip)) {
          // A callout: report it as the trap point it stands for, before the HLT.
          r.rip -= 1;
          uc_reg_write(s.uc, UC_X86_REG_RIP, &r.rip);
          ++s.counters.trap_points_hit;
          r.kind = StopKind::TrapPoint;
          r.trap = TrapKind::Hlt;
          static const uint8_t kHlt = 0xf4;
          s.trap_insn = *decode_instruction(&kHlt, 1, r.rip);
        } else if (err == UC_ERR_OK) {
          // Unicorn stops silently on a fault it could not deliver (its own triple fault).
          r.kind = StopKind::TripleFault;
          r.detail = "the CPU stopped without a cause (Unicorn's silent triple fault)";
        } else {
          r.kind = StopKind::HostError;
          r.detail = std::string("Unicorn: ") + uc_strerror(err);
        }
    }
    s.pass_once = kNoAddress;
    // Every stop is the VMM's turn to look at the machine: what a device asked for is done.
    s.stop_after_mmio = false;
    if (s.mmio_stepping) end_mmio_step();  // the instruction run alone faulted, or a stop came first
    return r;
  }
}

void UnicornCpu::begin_mmio_step() {
  Impl& s = *impl_;
  s.mmio_stepping = true;
  s.step_had_shadow = interrupt_shadow();
  begin_interrupt_shadow();  // QEMU translates a block that starts in a shadow as one instruction
  s.step_saved_budget_end = s.budget_end;
  s.budget_end = s.retired + 1;
  s.limit = s.budget_end;
  ++s.counters.mmio_writes_stepped;
}

void UnicornCpu::end_mmio_step() {
  Impl& s = *impl_;
  s.mmio_stepping = false;
  s.budget_end = s.step_saved_budget_end;
  s.limit = s.window_stop || s.stop_after_mmio || s.sync_requested || s.stop_requested ? 0 : s.budget_end;
  if (!s.step_had_shadow) end_interrupt_shadow();  // ours, if the instruction did not run
  s.flush_tlb_now();  // the entry that let the write through must not stay
}

void UnicornCpu::request_stop() {
  impl_->stop_requested = true;
  impl_->limit = 0;
}
void UnicornCpu::request_stop_after_mmio_write() {
  // In a precise window run() sees the flag right after the write; elsewhere the next block
  // boundary stops (Cause::MmioSync).
  impl_->stop_after_mmio = true;
  impl_->limit = 0;
}
bool UnicornCpu::take_stop_request() { return impl_->stop_requested.exchange(false); }
void UnicornCpu::set_interrupt_window_stop(bool on) { impl_->window_stop = on; }

void UnicornCpu::set_trap_policy(const TrapSet& kinds) {
  if (kinds == impl_->policy) return;
  impl_->policy = kinds;
  // Every block is rescanned against the new policy on its next execution.
  impl_->blocks.clear();
  impl_->blocks_by_frame.clear();
  impl_->sites.clear();
  impl_->sites_by_frame.clear();
  std::fill(impl_->front.begin(), impl_->front.end(), FrontEntry{});
  impl_->current = nullptr;
}
const TrapSet& UnicornCpu::trap_policy() const { return impl_->policy; }
const Instruction& UnicornCpu::trap_instruction() const { return impl_->trap_insn; }

std::optional<Instruction> UnicornCpu::decode_at(uint64_t va) const {
  uint8_t bytes[16];
  size_t n = impl_->read_code(va, bytes, sizeof bytes, nullptr, 0);
  if (n == 0) return std::nullopt;
  return decode_instruction(bytes, n, va);
}
void UnicornCpu::pass_trap_once() { impl_->pass_once = rip(); }

void UnicornCpu::invalidate_code(uint64_t va, uint64_t size) {
  Impl& s = *impl_;
  // Blocks that may contain the bytes (Unicorn's blocks are shorter than a page) and trap
  // sites decoded from them (a site keeps its decoding until its frame is known to change).
  constexpr uint64_t kLookback = 4096;
  const uint64_t first = va > kLookback ? va - kLookback : 0;
  const uint64_t end = va + size < va ? ~0ull : va + size;
  if (end - first > 4 * kLookback) {
    std::vector<uint64_t> drop;
    for (const auto& [pc, b] : s.blocks) {
      if (pc < end && pc + b.size > va) drop.push_back(pc);
    }
    for (uint64_t pc : drop) s.forget_block(pc);
    std::erase_if(s.sites, [&](const auto& site) { return site.first >= va && site.first < end; });
  } else {
    for (uint64_t pc = first; pc < end; ++pc) {
      auto it = s.blocks.find(pc);
      if (it != s.blocks.end() && pc + it->second.size > va) s.forget_block(pc);
      if (pc >= va) s.sites.erase(pc);
    }
  }
  uc_ctl_remove_cache(s.uc, va, end);
}

void UnicornCpu::watch_code_frame(uint64_t cpu_pa) {
  const uint64_t frame = cpu_pa >> 12;
  if (!impl_->watched_frames.insert(frame).second) return;
  // A writable TLB entry for the frame would let the next store through unseen.
  if (impl_->writable_frames.count(frame)) impl_->flush_tlb_now();
}

std::vector<uint64_t> UnicornCpu::take_written_code_frames() {
  std::vector<uint64_t> out;
  out.swap(impl_->written_watched);
  return out;
}

void UnicornCpu::set_tpr_home(uint8_t* byte) {
  uint8_t* home = byte ? byte : &impl_->own_tpr;
  *home = *impl_->tpr;
  impl_->tpr = home;
}

void UnicornCpu::set_code_write_barrier(std::function<bool(uint64_t)> stops_before_store) {
  impl_->code_write_barrier = std::move(stops_before_store);
}

void UnicornCpu::set_callout_range(uint64_t va, uint64_t size) {
  impl_->callout_begin = va;
  impl_->callout_size = size;
}

void UnicornCpu::set_uncounted(std::function<bool(uint64_t)> is_vmm_instruction) {
  impl_->uncounted = std::move(is_vmm_instruction);
}

uint64_t UnicornCpu::instructions_retired() const { return impl_->retired - impl_->unretired_in_block; }
void UnicornCpu::add_retired(uint64_t n) { impl_->retired += n; }

// GPRs and RIP go through the context image when it is loaded anyway (delivery patches CS
// and SS there), saving a uc_context_restore per event.
uint64_t UnicornCpu::gpr(Gpr r) const {
  if (impl_->ctx_loaded) return impl_->ctx_get<uint64_t>(impl_->in.gprs + 8 * static_cast<size_t>(r));
  return impl_->reg(kGprIds[static_cast<int>(r)]);
}
void UnicornCpu::set_gpr(Gpr r, uint64_t v) {
  if (impl_->ctx_loaded) return impl_->ctx_put<uint64_t>(impl_->in.gprs + 8 * static_cast<size_t>(r), v);
  impl_->set_reg(kGprIds[static_cast<int>(r)], v);
}
uint64_t UnicornCpu::rip() const {
  if (impl_->ctx_loaded) return impl_->ctx_get<uint64_t>(impl_->in.rip);
  return impl_->reg(UC_X86_REG_RIP);
}
void UnicornCpu::set_rip(uint64_t v) {
  if (impl_->ctx_loaded) return impl_->ctx_put<uint64_t>(impl_->in.rip, v);
  impl_->set_reg(UC_X86_REG_RIP, v);
}
uint64_t UnicornCpu::rflags() const { return impl_->reg(UC_X86_REG_RFLAGS); }
void UnicornCpu::set_rflags(uint64_t v) { impl_->set_reg(UC_X86_REG_RFLAGS, v | rflags::kFixed1); }

uint64_t UnicornCpu::cr(int n) const {
  // env->cr[] holds CR0..CR4 as u64; read the image when it is loaded anyway.
  if (impl_->ctx_loaded && n != 8 && n >= 0 && n <= 4) {
    return impl_->ctx_get<uint64_t>(impl_->in.cr2 + 8 * (static_cast<size_t>(n) - 2));
  }
  switch (n) {
    case 0: return impl_->reg(UC_X86_REG_CR0);
    case 2: return impl_->reg(UC_X86_REG_CR2);
    case 3: return impl_->reg(UC_X86_REG_CR3);
    case 4: return impl_->reg(UC_X86_REG_CR4);
    case 8: return *impl_->tpr & 0xf;  // its home may be guest-writable memory
    default: return 0;
  }
}
void UnicornCpu::set_cr(int n, uint64_t v) {
  switch (n) {
    case 0: impl_->set_reg(UC_X86_REG_CR0, v); break;
    case 2: impl_->ctx_put<uint64_t>(impl_->in.cr2, v); break;  // see UnicornInternals::cr2
    case 3:  // Unicorn loads CR3 with a full TLB flush (paging stays on)
      impl_->set_reg(UC_X86_REG_CR3, v);
      impl_->forget_large_pages();
      break;
    case 4: impl_->set_reg(UC_X86_REG_CR4, v); break;
    case 8: *impl_->tpr = static_cast<uint8_t>(v & 0xf); break;
    default: break;
  }
}

uint64_t UnicornCpu::msr(uint32_t index) const {
  if (index == msr::IA32_EFER && impl_->efer_cache) return *impl_->efer_cache;
  impl_->sync();
  uc_x86_msr m{index, 0};
  uc_reg_read(impl_->uc, UC_X86_REG_MSR, &m);
  if (index == msr::IA32_EFER) impl_->efer_cache = m.value;
  return m.value;
}
void UnicornCpu::set_msr(uint32_t index, uint64_t v) {
  impl_->sync_for_write();
  if (index == msr::IA32_EFER) impl_->efer_cache.reset();
  uc_x86_msr m{index, v};
  uc_reg_write(impl_->uc, UC_X86_REG_MSR, &m);
}

unsigned UnicornCpu::cpl() const {
  // CS.RPL is the CPL: every path that changes CPL (event delivery, SYSCALL here; IRETQ,
  // SYSRET in Unicorn) loads CS with RPL = new CPL. Cheaper than reading hflags.
  return impl_->reg(UC_X86_REG_CS) & 3;
}

bool UnicornCpu::interrupt_shadow() const {
  return impl_->ctx_get<uint32_t>(impl_->in.hflags) & qemu_hflags::kInhibitIrq;
}

void UnicornCpu::end_interrupt_shadow() {
  uint32_t hf = impl_->ctx_get<uint32_t>(impl_->in.hflags);
  if (hf & qemu_hflags::kInhibitIrq) impl_->ctx_put<uint32_t>(impl_->in.hflags, hf & ~qemu_hflags::kInhibitIrq);
}

void UnicornCpu::begin_interrupt_shadow() {
  // QEMU translates a block that starts with this flag set as that one instruction, then
  // clears the flag: the shadow lasts exactly one instruction, as STI's does.
  uint32_t hf = impl_->ctx_get<uint32_t>(impl_->in.hflags);
  if (!(hf & qemu_hflags::kInhibitIrq)) impl_->ctx_put<uint32_t>(impl_->in.hflags, hf | qemu_hflags::kInhibitIrq);
}

SegmentState UnicornCpu::segment(Seg s) const {
  size_t base = impl_->in.segments + static_cast<size_t>(s) * 24;
  SegmentState st;
  st.selector = static_cast<uint16_t>(impl_->ctx_get<uint32_t>(base));
  st.base = impl_->ctx_get<uint64_t>(base + 8);
  st.limit = impl_->ctx_get<uint32_t>(base + 16);
  st.attributes = impl_->ctx_get<uint32_t>(base + 20);
  return st;
}

void UnicornCpu::set_segment(Seg s, const SegmentState& st) {
  Impl& p = *impl_;
  size_t base = p.in.segments + static_cast<size_t>(s) * 24;
  p.ctx_put<uint32_t>(base, st.selector);
  p.ctx_put<uint64_t>(base + 8, st.base);
  p.ctx_put<uint32_t>(base + 16, st.limit);
  p.ctx_put<uint32_t>(base + 20, st.attributes);
  if (s == Seg::Cs) {
    using namespace qemu_hflags;
    uint32_t hf = p.ctx_get<uint32_t>(p.in.hflags);
    hf = (hf & ~(kCplMask | kCs64 | kCs32)) | st.dpl();
    if ((hf & kLma) && st.long_mode()) {
      hf |= kCs64 | kCs32 | kSs32;
    } else if (st.attributes & (1u << 22)) {
      hf |= kCs32;
    }
    p.ctx_put<uint32_t>(p.in.hflags, hf);
  }
}

namespace {
// LDTR, TR, GDTR, IDTR: read from the context image when it is loaded (no restore needed).
enum TableSlot { kLdtr = 0, kTr = 1, kGdtr = 2, kIdtr = 3 };
constexpr int kTableIds[] = {UC_X86_REG_LDTR, UC_X86_REG_TR, UC_X86_REG_GDTR, UC_X86_REG_IDTR};
SystemSegment read_system(UnicornCpu::Impl& p, TableSlot slot) {
  if (p.ctx_loaded) {
    size_t base = p.in.tables + 24 * static_cast<size_t>(slot);
    return {static_cast<uint16_t>(p.ctx_get<uint32_t>(base)), p.ctx_get<uint64_t>(base + 8),
            p.ctx_get<uint32_t>(base + 16), p.ctx_get<uint32_t>(base + 20)};
  }
  uc_x86_mmr m{};
  uc_reg_read(p.uc, kTableIds[slot], &m);
  return {m.selector, m.base, m.limit, m.flags};
}
DescriptorTableRegister read_table(UnicornCpu::Impl& p, TableSlot slot) {
  auto s = read_system(p, slot);
  return {s.base, static_cast<uint16_t>(s.limit)};
}
}  // namespace

DescriptorTableRegister UnicornCpu::gdtr() const { return read_table(*impl_, kGdtr); }
DescriptorTableRegister UnicornCpu::idtr() const { return read_table(*impl_, kIdtr); }
void UnicornCpu::set_gdtr(const DescriptorTableRegister& d) {
  impl_->sync_for_write();
  uc_x86_mmr m{0, d.base, d.limit, 0};
  uc_reg_write(impl_->uc, UC_X86_REG_GDTR, &m);
}
void UnicornCpu::set_idtr(const DescriptorTableRegister& d) {
  impl_->sync_for_write();
  uc_x86_mmr m{0, d.base, d.limit, 0};
  uc_reg_write(impl_->uc, UC_X86_REG_IDTR, &m);
}
SystemSegment UnicornCpu::ldtr() const { return read_system(*impl_, kLdtr); }
SystemSegment UnicornCpu::tr() const { return read_system(*impl_, kTr); }
void UnicornCpu::set_ldtr(const SystemSegment& s) {
  impl_->sync_for_write();
  uc_x86_mmr m{s.selector, s.base, s.limit, s.attributes};
  uc_reg_write(impl_->uc, UC_X86_REG_LDTR, &m);
}
void UnicornCpu::set_tr(const SystemSegment& s) {
  impl_->sync_for_write();
  uc_x86_mmr m{s.selector, s.base, s.limit, s.attributes};
  uc_reg_write(impl_->uc, UC_X86_REG_TR, &m);
}

CpuSnapshot UnicornCpu::save() const {
  impl_->sync_for_write();
  CpuSnapshot snap;
  snap.substrate = impl_->ctx_buf;  // carries the header uc_context_save relies on
  uc_context_save(impl_->uc, reinterpret_cast<uc_context*>(snap.substrate.data()));
  snap.tpr = *impl_->tpr;
  snap.instructions_retired = impl_->retired;
  return snap;
}

void UnicornCpu::restore(const CpuSnapshot& snap) {
  Impl& p = *impl_;
  p.sync_for_write();
  if (snap.substrate.size() != p.ctx_buf.size()) return;
  std::memcpy(p.ctx_buf.data(), snap.substrate.data(), p.ctx_buf.size());
  uc_context_restore(p.uc, p.ctx());
  *p.tpr = static_cast<uint8_t>(snap.tpr & 0xf);
  p.retired = snap.instructions_retired;
  p.latch_reset_pending = false;
  p.efer_cache.reset();
  p.exec_frame_of_page.clear();
  p.flush_tlb_now();  // uc_context_restore keeps stale TLB entries
}

void UnicornCpu::flush_tlb() { impl_->flush_tlb_now(); }

void UnicornCpu::prepare_invlpg(uint64_t va) { impl_->before_invlpg(va); }

const CpuCounters& UnicornCpu::counters() const { return impl_->counters; }

}  // namespace hvsim
