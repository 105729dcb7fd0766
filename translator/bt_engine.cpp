#include "translator/bt_engine.hpp"
#include "translator/red_pill.hpp"

#include <cstdio>
#include <cstring>
#include <tuple>
#include <utility>

#include "core/cpu/fault_address.hpp"
#include "core/mem/page_walker.hpp"
#include "core/mem/shadow_paging.hpp"
#include "core/vm/native_hardware.hpp"
#include "core/vm/vm.hpp"
#include "translator/chain.hpp"
#include "translator/emit.hpp"
#include "core/cpu/trap_points.hpp"

namespace hvsim::bt {

namespace {
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kRflagsIf = 1ull << 9;
constexpr uint8_t kVecUd = 6, kVecGp = 13, kVecPf = 14;

// An exception raised by an emulation: the VM ends the run itself if it becomes a triple
// fault (its loop checks), so the callout always lets the VM go on.
bool raise(Vm& vm, uint8_t vector, uint32_t error_code = 0) {
  vm.raise_exception(vector, error_code);
  return true;
}

// A fault of a VMM access on the guest's behalf: only #PF writes CR2.
bool raise_fault(Vm& vm, const GuestFault& fault) {
  if (fault.vector == 14) vm.cpu().set_cr(2, fault.cr2);
  return raise(vm, fault.vector, fault.error_code);
}

bool canonical(uint64_t va) { return is_canonical(va); }
}  // namespace

size_t read_guest_code(Vm& vm, uint64_t va, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t at = va + done;
    if (!canonical(at) || at < va) break;
    const size_t in_page = std::min<size_t>(out.size() - done, kPageSize - (at & (kPageSize - 1)));
    if (vm.linear().fetch(at, out.data() + done, in_page, 0)) break;
    done += in_page;
  }
  return done;
}

BtEngine::BtEngine(Vm&) {
  tc_storage_.assign(kTcWindowSize + kPageSize, 0);
  auto addr = reinterpret_cast<uintptr_t>(tc_storage_.data());
  tc_ = reinterpret_cast<uint8_t*>((addr + kPageSize - 1) & ~uintptr_t(kPageSize - 1));
  std::memset(tc_, 0xcc, kTcWindowSize);
  std::memset(tc_, 0, kVmmDataSize);
  tc_[vmm_data::kVirtualIf] = 1;  // no in-cache CLI pending
  lookup_ = std::make_unique<LookupTables>(tc_);
  for (unsigned b = 0; b < 256; ++b) {
    host(kLow4)[b] = static_cast<uint8_t>(b & 0xf);
    host(kUnmasks)[b] = (b & 0xf) > (b >> 4) ? 1 : 0;  // waiting class above the new TPR
  }
  next_free_ = kTcFragmentsBase;
}

BtCounters BtEngine::counters() const {
  BtCounters c = counters_;
  c.hash_hits = lookup_->hits(LookupTable::Hash);
  c.return_cache_hits = lookup_->hits(LookupTable::ReturnCache);
  c.indirect_lookups += c.hash_hits + c.return_cache_hits;
  std::memcpy(&c.in_cache_emulations, tc_ + vmm_data::kInCacheEmulations, sizeof c.in_cache_emulations);
  return c;
}

BtEngine::~BtEngine() = default;

Result<std::unique_ptr<BtEngine>> BtEngine::create(Vm& vm) {
  std::unique_ptr<BtEngine> e(new BtEngine(vm));
  if (auto r = vm.cpu().map_ram(kTcCpuPa, kTcWindowSize, e->tc_); !r) return r.error();
  vm.cpu().set_tpr_home(e->tc_ + vmm_data::kVirtualTpr);  // mapped above: lives as long
  VmmWindow w;
  w.va_begin = kTcWindowBase;
  w.size = kTcWindowSize;
  w.cpu_pa = kTcCpuPa;
  w.writable_bytes = kVmmDataSize;
  w.read_only_bytes = kReadOnlySize;
  w.guard_kernel_fetch = true;
  vm.vmm_window().set(w);
  BtEngine* self = e.get();
  vm.cpu().set_uncounted([self](uint64_t va) { return self->uncounted_.count(va) != 0; });
  vm.cpu().set_callout_range(kTcWindowBase, kTcWindowSize);
  vm.cpu().set_code_write_barrier([self](uint64_t pc) { return self->stops_before_store(pc); });
  // The VMMs of 2006 traced every write to a guest page table (no write-flooding release),
  // the policy vtx-2006 uses too: the two techniques are compared on the same MMU.
  if (auto* shadow = dynamic_cast<ShadowPaging*>(&vm.mmu())) shadow->set_flood_limit(0);
  // A kernel store to a traced page table is a page fault to the VMM, which emulates it and
  // learns from it (adaptive binary translation, adaptive.cpp).
  vm.mmu().set_trap_traced_writes(true);
  vm.cpu().flush_tlb();
  return e;
}

TrapSet BtEngine::trap_policy() const {
  TrapSet t = NativeHardware::trap_policy();
  // User-mode reads of the descriptor-table registers see the VMM's (red_pill.hpp).
  t.add(TrapKind::DescriptorTable);
  t.add(TrapKind::SystemSegment);
  return t;
}

const Fragment* BtEngine::fragment_at(uint64_t tc) const {
  auto it = fragments_.upper_bound(tc);
  if (it == fragments_.begin()) return nullptr;
  --it;
  const Fragment& f = it->second;
  return tc - f.tc_address < f.size ? &f : nullptr;
}

const Fragment* BtEngine::fragment_for(uint64_t guest_rip) const {
  auto it = by_guest_rip_.find(guest_rip);
  return it == by_guest_rip_.end() ? nullptr : fragment_at(it->second);
}

std::vector<const Fragment*> BtEngine::fragments_holding(uint64_t guest_rip) const {
  std::vector<const Fragment*> out;
  for (uint64_t back = 0; back <= kMaxUnitBytes && back <= guest_rip; ++back) {
    const Fragment* f = fragment_for(guest_rip - back);
    if (!f) continue;
    for (const InsnTranslation& t : f->insns) {
      if (t.guest_rip == guest_rip) {
        out.push_back(f);
        break;
      }
    }
  }
  return out;
}

const Fragment* BtEngine::fragment_containing(uint64_t guest_rip) const {
  const auto all = fragments_holding(guest_rip);
  return all.empty() ? nullptr : all.front();
}

std::span<const uint8_t> BtEngine::tc_bytes(uint64_t tc, size_t size) const {
  if (tc < kTcWindowBase || size > kTcWindowSize - (tc - kTcWindowBase)) return {};
  return {tc_ + (tc - kTcWindowBase), size};
}

Result<uint64_t> BtEngine::allocate(size_t size) {
  if (size > kTcWindowBase + kTcWindowSize - next_free_ || next_free_ < kTcFragmentsBase) {
    return make_error("translation cache full");
  }
  const uint64_t at = next_free_;
  next_free_ += (size + 15) & ~size_t(15);
  return at;
}

void BtEngine::flush(Vm& vm) {
  ++counters_.flushes;
  fragments_.clear();
  by_guest_rip_.clear();
  sources_.clear();
  fragments_by_frame_.clear();
  code_pages_.clear();
  chained_to_.clear();
  trampolines_.clear();
  trampoline_for_.clear();
  uncounted_.clear();
  pending_trampoline_.reset();
  pending_step_.reset();
  step_for_.clear();
  step_fragments_.clear();
  lookup_->clear();
  std::memset(host(kTcFragmentsBase), 0xcc, kTcWindowBase + kTcWindowSize - kTcFragmentsBase);
  vm.cpu().invalidate_code(kTcFragmentsBase, kTcWindowBase + kTcWindowSize - kTcFragmentsBase);
  next_free_ = kTcFragmentsBase;
}

Result<uint64_t> BtEngine::translate(Vm& vm, uint64_t guest_rip) {
  TranslationUnit unit = build_unit(
      [&vm](uint64_t va, std::span<uint8_t> out) { return read_guest_code(vm, va, out); }, guest_rip);
  prepare(vm, unit);
  auto tc = place(vm, std::move(unit));
  if (tc) {
    by_guest_rip_[guest_rip] = *tc;
    enter_return_points(*fragment_at(*tc));  // not a step fragment's: those never chain
  }
  return tc;
}

// What the translator cannot know from the bytes: stores the engine adapted, and port I/O
// that no device answers (the VMM knows its bus; such I/O is emulated in the cache, as
// VMware's was for port 0x80).
void BtEngine::prepare(Vm& vm, TranslationUnit& unit) const {
  mark_adapted(unit);
  for (GuestInsn& gi : unit.insns) {
    if (!gi.decoded() || gi.cls.cls != InsnClass::Sensitive || gi.cls.sensitive != SensitiveKind::PortIo) continue;
    const Instruction& insn = *gi.insn;
    const auto& port = insn.operands[insn.mnemonic() == ZYDIS_MNEMONIC_IN ? 1 : 0];
    if (port.type != ZYDIS_OPERAND_TYPE_IMMEDIATE) continue;  // the port is in DX
    gi.open_bus_io = !vm.port_io() || !vm.port_io()->claimed(static_cast<uint16_t>(port.imm.value.u));
  }
}

namespace {
// The unit cut after its first n instructions, the last of which then falls through to a
// limit stub (or ends the unit as before).
TranslationUnit first_instructions_of(TranslationUnit unit, size_t n) {
  if (n == 0 || unit.insns.size() <= n) return unit;
  unit.insns.resize(n);
  const GuestInsn& last = unit.insns.back();
  unit.end = last.cls.ends_unit ? UnitEnd::EndsUnit : UnitEnd::InstructionLimit;
  unit.guest_end = unit.next_guest_rip = last.next_rip();
  return unit;
}
}  // namespace

Result<uint64_t> BtEngine::place(Vm& vm, TranslationUnit unit) {
  auto at = allocate(kMaxFragmentSize);
  if (!at) {
    flush(vm);
    at = allocate(kMaxFragmentSize);
    if (!at) return at.error();
  }
  auto fragment = emit_fragment(unit, *at, {host(*at), kMaxFragmentSize});
  // In-cache emulations are longer than the instructions they stand for: a unit of many
  // (MOV to CR8, OUT to port 0x80) may not fit. Fewer instructions then, down to one, which
  // always fits (the longest rewrite is an indirect call's lookup).
  while (!fragment && unit.insns.size() > 1) {
    unit = first_instructions_of(std::move(unit), unit.insns.size() / 2);
    fragment = emit_fragment(unit, *at, {host(*at), kMaxFragmentSize});
  }
  if (!fragment) return fragment.error();
  next_free_ = *at + ((fragment->size + 15) & ~uint64_t(15));
  count_fragment(unit, *fragment, translated_);
  // Callout HLTs are the VMM's, and so are exit stubs, except a guest jmp's: its stub (the
  // HLT, then the chained jump) retires as the guest's jmp. The other stubs stand for no
  // guest instruction (the jcc, loop or call push before them was the guest's).
  for (const Callout& c : fragment->callouts) uncounted_.insert(c.tc_address);
  for (const ExitStub& stub : fragment->stubs) {
    if (stub.role == StubRole::Jump) uncounted_.erase(stub.tc_address);
  }
  uncounted_.insert(fragment->uncounted.begin(), fragment->uncounted.end());
  const uint64_t tc = fragment->tc_address;
  fragments_.emplace(tc, std::move(*fragment));
  watch_source(vm, tc, unit.guest_rip, unit.guest_end, unit.end == UnitEnd::Undecodable);
  return tc;
}


Result<uint64_t> BtEngine::translate_step(Vm& vm, uint64_t guest_rip) {
  if (auto it = step_for_.find(guest_rip); it != step_for_.end()) return it->second;
  TranslationUnit unit = first_instructions_of(
      build_unit([&vm](uint64_t va, std::span<uint8_t> out) { return read_guest_code(vm, va, out); }, guest_rip), 1);
  prepare(vm, unit);
  auto tc = place(vm, std::move(unit));
  if (tc) {
    step_for_[guest_rip] = *tc;
    step_fragments_.insert(*tc);
  }
  return tc;
}

bool BtEngine::stops_before_store(uint64_t pc) const {
  const Fragment* f = fragment_at(pc);
  return f && !step_fragments_.count(f->tc_address);
}

// Translated code stored to a frame that holds translated code, and the rest of its block may
// be the translation of the very bytes it writes: a store to the next instruction must be
// seen (SDM Vol. 3, 11.6), and the copy in the cache would run the old bytes. The CPU stopped
// before the store (the code write barrier). The guest instruction runs alone from a step
// fragment, whose exit stub is a stop: there the written frame's changed fragments are
// dropped before the next guest instruction is looked up, and translated anew.
bool BtEngine::step_over_store(Vm& vm) {
  if (!detranslate(vm, vm.cpu().rip())) return false;
  ++counters_.store_steps;
  pending_step_ = vm.cpu().rip();
  return true;
}

// A call's return address is known when the call is translated: the return-address cache
// sends the return there, to the fragment's return-point stub (chained to the caller's next
// fragment once it ran), so that even the first return hits.
void BtEngine::enter_return_points(const Fragment& f) {
  for (const ExitStub& stub : f.stubs) {
    if (stub.role == StubRole::ReturnPoint) {
      lookup_->enter(LookupTable::ReturnCache, stub.guest_target, stub.tc_address, f.tc_address);
    }
  }
}

Result<uint64_t> BtEngine::enter(Vm& vm, uint64_t guest_rip) {
  auto it = by_guest_rip_.find(guest_rip);
  if (it != by_guest_rip_.end()) return it->second;
  return translate(vm, guest_rip);
}

namespace {
// A register the instruction does not use, explicitly or implicitly, through which a copy of
// it can address its RIP-relative operand: one of RAX, RCX, RDX, RBX, RSI, RDI, so that
// ModRM.rm names it without a REX.B or SIB byte. nullopt when the encoding cannot be
// rewritten so (VEX, EVEX, ...), all six are in use, or the instruction transfers control (a
// far CALL or JMP through memory would leave before the register is restored).
std::optional<Gpr> scratch_register(const Instruction& insn) {
  if (insn.info.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || insn.info.raw.modrm.offset == 0 ||
      insn.info.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE) {
    return std::nullopt;
  }
  bool used[kGprCount] = {};
  auto mark = [&](ZydisRegister r) {
    const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
    if (full >= ZYDIS_REGISTER_RAX && full <= ZYDIS_REGISTER_R15) used[full - ZYDIS_REGISTER_RAX] = true;
  };
  for (unsigned i = 0; i < insn.info.operand_count; ++i) {  // hidden operands included
    const ZydisDecodedOperand& op = insn.operands[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) mark(op.reg.value);
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      mark(op.mem.base);
      mark(op.mem.index);
    }
  }
  for (Gpr r : {Gpr::Rax, Gpr::Rcx, Gpr::Rdx, Gpr::Rbx, Gpr::Rsi, Gpr::Rdi}) {
    if (!used[static_cast<size_t>(r)]) return r;
  }
  return std::nullopt;
}

// STI, and loads of SS, hold interrupts until after the next instruction (SDM Vol. 3A 6.8.3).
bool sets_interrupt_shadow(const Instruction& insn) {
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_STI: return true;
    case ZYDIS_MNEMONIC_POP: return insn.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER && insn.operands[0].reg.value == ZYDIS_REGISTER_SS;
    case ZYDIS_MNEMONIC_MOV: return insn.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER && insn.operands[0].reg.value == ZYDIS_REGISTER_SS;
    default: return false;
  }
}

// MOV [rip + d], r64 (store = true) or MOV r64, [rip + d] at `at`, d reaching `target`.
void emit_rip_mov(uint8_t* out, uint64_t at, uint64_t target, Gpr r, bool store) {
  const int32_t d = static_cast<int32_t>(static_cast<int64_t>(target - (at + 7)));
  out[0] = 0x48;
  out[1] = store ? 0x89 : 0x8b;
  out[2] = static_cast<uint8_t>((static_cast<unsigned>(r) << 3) | 0x05);
  std::memcpy(out + 3, &d, 4);
}
}  // namespace

// A sensitive instruction the hardware model does not emulate runs once, unmodified, on the
// virtual CPU: copied into the TC (a RIP-relative operand re-encoded) and followed by a HLT
// that brings the vCPU back to the engine. A RIP-relative operand beyond rel32 reach of the
// TC (code above 2 GiB, outside the kernel's top 2 GiB) is addressed through a scratch
// register instead: saved to the VMM data area, loaded with the operand's guest address, the
// copy's ModRM turned from [rip + disp32] into [scratch + 0] (same length), then restored.
Result<uint64_t> BtEngine::trampoline(Vm& vm, const Instruction& insn, uint64_t resume_tc) {
  if (auto it = trampoline_for_.find(insn.address); it != trampoline_for_.end()) return it->second;
  const unsigned len = insn.length();
  uint8_t bytes[kMaxInsnLength + 1] = {};
  if (read_guest_code(vm, insn.address, {bytes, len}) != len) return make_error("guest code unreadable");
  // When the callout did not end its unit (nothing but the instruction's own effect to wait
  // for), the copy jumps straight back into its fragment: one stop per callout, not two.
  const bool jump_back = resume_tc != 0;
  constexpr size_t kPrologue = 7 + 10 + 5, kEpilogue = 7;  // save, load, jmp; restore
  auto at = allocate(kPrologue + len + kEpilogue + (jump_back ? 5 : 1));
  if (!at) return at.error();
  Trampoline t;
  t.tc = t.insn_tc = *at;
  t.guest_rip = insn.address;
  t.next_guest_rip = insn.next();
  if (has_rip_relative_operand(insn)) {
    const auto& disp = insn.info.raw.disp;
    int64_t value = 0;
    std::memcpy(&value, bytes + disp.offset, 4);
    value = static_cast<int32_t>(value);
    const int64_t moved = value + static_cast<int64_t>(insn.next() - (*at + len));
    if (moved == static_cast<int32_t>(moved)) {
      const int32_t d = static_cast<int32_t>(moved);
      std::memcpy(bytes + disp.offset, &d, 4);
    } else {
      t.scratch = scratch_register(insn);
      if (!t.scratch || disp.size != 32) return make_error("RIP-relative operand out of reach of the TC");
      const uint64_t operand = insn.next() + static_cast<uint64_t>(value);
      const unsigned r = static_cast<unsigned>(*t.scratch);
      uint8_t* p = host(*at);
      emit_rip_mov(p, *at, kTcWindowBase + vmm_data::kScratchSave, *t.scratch, true);
      p[7] = 0x48;  // mov r64, imm64
      p[8] = static_cast<uint8_t>(0xb8 + r);
      std::memcpy(p + 9, &operand, 8);
      p[17] = 0xe9;  // jmp to the copy: the VMM's instructions end their block (set_uncounted)
      std::memset(p + 18, 0, 4);
      for (uint64_t vmm : {*at, *at + 7, *at + 17}) uncounted_.insert(vmm);
      t.insn_tc = *at + kPrologue;
      t.restore_tc = t.insn_tc + len;
      // ModRM: mod 10 (disp32), rm = the scratch register; disp32 0; REX.B (if any) off.
      uint8_t& modrm = bytes[insn.info.raw.modrm.offset];
      modrm = static_cast<uint8_t>(0x80 | (modrm & 0x38) | r);
      std::memset(bytes + disp.offset, 0, 4);
      if (insn.info.attributes & ZYDIS_ATTRIB_HAS_REX) bytes[insn.info.raw.rex.offset] &= 0xfe;
      emit_rip_mov(host(t.restore_tc), t.restore_tc, kTcWindowBase + vmm_data::kScratchSave, *t.scratch, false);
      uncounted_.insert(t.restore_tc);
    }
  }
  std::memcpy(host(t.insn_tc), bytes, len);
  t.return_tc = t.insn_tc + len + (t.scratch ? kEpilogue : 0);
  if (jump_back) {
    const int64_t rel = static_cast<int64_t>(resume_tc - (t.return_tc + 5));
    const int32_t rel32 = static_cast<int32_t>(rel);
    host(t.return_tc)[0] = 0xe9;
    std::memcpy(host(t.return_tc + 1), &rel32, 4);
  } else {
    host(t.return_tc)[0] = kCalloutOpcode;
  }
  t.shadow = sets_interrupt_shadow(insn);
  uncounted_.insert(t.return_tc);  // the VMM's jump or HLT, not the guest's
  trampolines_.emplace(*at, t);
  trampoline_for_[insn.address] = *at;
  ++counters_.trampolines;
  return *at;
}

void BtEngine::watch_source(Vm& vm, uint64_t tc, uint64_t guest_rip, uint64_t guest_end, bool through_end) {
  Source src;
  src.guest_rip = guest_rip;
  src.bytes.resize(guest_end > guest_rip ? std::min<uint64_t>(guest_end - guest_rip, 256) : 0);
  src.bytes.resize(read_guest_code(vm, guest_rip, src.bytes));
  uint64_t last = guest_rip;
  if (guest_end > guest_rip) last = through_end ? guest_end : guest_end - 1;
  for (uint64_t page = guest_rip & ~(kPageSize - 1);; page += kPageSize) {
    auto pa = vm.vmm_window().probe(page);
    const uint64_t frame = pa ? *pa & ~(kPageSize - 1) : kNoFrame;
    CodePage& cp = code_pages_[page];
    if (cp.frame != frame) {
      // Remapped without a flush the engine saw: the page's older fragments are stale now.
      for (uint64_t old : std::exchange(cp.fragments, {})) {
        if (sources_.count(old)) drop_fragment(vm, old);
      }
      cp.frame = frame;
    }
    cp.fragments.push_back(tc);
    if (pa) {
      fragments_by_frame_[frame].push_back(tc);
      vm.cpu().watch_code_frame(frame);
    }
    if (page >= (last & ~(kPageSize - 1))) break;
  }
  sources_[tc] = std::move(src);
}

void BtEngine::note_remap(VaRange r) {
  if (remapped_) r = {std::min(r.first, remapped_->first), std::max(r.last, remapped_->last)};
  remapped_ = r;
}

// The guest changed what its virtual addresses map (and flushed the TLB: INVLPG, MOV to CR3,
// ...). Native fetches through the new mapping (or faults); the cache would run what was there
// before. Fragments of a page that maps another frame, or none, are dropped (the stubs chained
// to them unchained); the others stay, so an address-space switch that keeps the kernel's code
// where it was costs one probe per page of translated code.
void BtEngine::check_code_pages(Vm& vm) {
  const VaRange r = *remapped_;
  remapped_.reset();
  ++counters_.remap_checks;
  std::vector<uint64_t> moved;
  for (const auto& [page, cp] : code_pages_) {
    if (page < r.first || page > r.last) continue;
    auto pa = vm.vmm_window().probe(page);
    if ((pa ? *pa & ~(kPageSize - 1) : kNoFrame) != cp.frame) moved.push_back(page);
  }
  if (moved.empty()) return;
  std::sort(moved.begin(), moved.end());  // the same drops in the same order on every run
  for (uint64_t page : moved) {
    auto node = code_pages_.extract(page);
    for (uint64_t tc : node.mapped().fragments) {
      if (sources_.count(tc)) drop_fragment(vm, tc);
    }
  }
  // Trampolines are copies of guest instructions found by guest RIP, too.
  trampolines_.clear();
  trampoline_for_.clear();
  pending_trampoline_.reset();
}

// The guest stored to a frame it had code translated from: drop the fragments whose bytes
// changed (unchaining the stubs that jump to them), keep watching for the others.
void BtEngine::code_written(Vm& vm, uint64_t frame) {
  ++counters_.code_writes;
  auto it = fragments_by_frame_.find(frame);
  if (it == fragments_by_frame_.end()) return;
  std::vector<uint64_t> live;
  for (uint64_t tc : it->second) {
    auto src = sources_.find(tc);
    if (src == sources_.end()) continue;
    std::vector<uint8_t> now(src->second.bytes.size());
    const bool same = read_guest_code(vm, src->second.guest_rip, now) == now.size() && now == src->second.bytes;
    if (same) {
      live.push_back(tc);
    } else {
      drop_fragment(vm, tc);
    }
  }
  // Trampolines are copies of single guest instructions: cheap to rebuild, so drop them all.
  trampolines_.clear();
  trampoline_for_.clear();
  pending_trampoline_.reset();
  if (live.empty()) {
    fragments_by_frame_.erase(it);
  } else {
    it->second = std::move(live);
    vm.cpu().watch_code_frame(frame);
  }
}

// The VMM stored on the guest's behalf (the return address of an indirect call): the CPU's
// watch on frames holding translated code does not see its stores.
void BtEngine::vmm_stored(Vm& vm, uint64_t va, size_t size) {
  const uint64_t last = (va + size - 1) & ~(kPageSize - 1);
  for (uint64_t page = va & ~(kPageSize - 1);; page += kPageSize) {
    auto pa = vm.vmm_window().probe(page);
    if (pa && fragments_by_frame_.count(*pa & ~(kPageSize - 1))) code_written(vm, *pa & ~(kPageSize - 1));
    if (page == last) break;
  }
}

void BtEngine::drop_fragment(Vm& vm, uint64_t tc, bool code_changed) {
  if (code_changed) ++counters_.invalidations;
  auto src = sources_.find(tc);
  if (src != sources_.end()) {
    auto g = by_guest_rip_.find(src->second.guest_rip);
    if (g != by_guest_rip_.end() && g->second == tc) by_guest_rip_.erase(g);
    auto step = step_for_.find(src->second.guest_rip);
    if (step != step_for_.end() && step->second == tc) step_for_.erase(step);
    sources_.erase(src);
  }
  if (auto chained = chained_to_.find(tc); chained != chained_to_.end()) {
    for (uint64_t stub_tc : chained->second) {
      const Fragment* from = fragment_at(stub_tc);
      if (!from) continue;
      for (const ExitStub& stub : from->stubs) {
        if (stub.tc_address != stub_tc) continue;
        const StubBytes bytes = unchain(stub);
        std::memcpy(host(stub_tc), bytes.data(), bytes.size());
        vm.cpu().invalidate_code(stub_tc, bytes.size());
      }
    }
    chained_to_.erase(chained);
  }
  // The fragment stays in fragments_ (a stop inside it still maps back to the guest), but
  // nothing reaches it any more; Unicorn forgets its translation.
  if (const Fragment* f = fragment_at(tc)) {
    for (LookupTable t : {LookupTable::Hash, LookupTable::ReturnCache}) lookup_->forget(t, f->guest_rip, tc);
    for (const ExitStub& stub : f->stubs) {
      if (stub.role == StubRole::ReturnPoint) lookup_->forget(LookupTable::ReturnCache, stub.guest_target, tc);
    }
    vm.cpu().invalidate_code(f->tc_address, f->size);
  }
}

void BtEngine::chain(Vm& vm, const Callout& c, uint64_t target_tc) {
  const Fragment* f = fragment_at(c.tc_address);
  if (!f) return;
  for (const ExitStub& stub : f->stubs) {
    if (stub.tc_address != c.tc_address) continue;
    auto bytes = patch_chain(stub, target_tc);
    if (!bytes) return;
    std::memcpy(host(stub.tc_address), bytes->data(), bytes->size());
    vm.cpu().invalidate_code(stub.tc_address, bytes->size());
    chained_to_[target_tc].push_back(stub.tc_address);
    ++counters_.chained;
    return;
  }
}

// In-cache CLI clears the byte at kVirtualIfAddress; the VMM applies it to the virtual CPU at
// the next stop, before anything reads RFLAGS.IF (nothing in the cache does: PUSHF, POPF and
// STI are callouts).
void BtEngine::apply_virtual_if(Vm& vm) {
  uint8_t& cleared_by_cli = tc_[vmm_data::kVirtualIf];
  if (cleared_by_cli == 0) {
    cleared_by_cli = 1;
    vm.cpu().set_rflags(vm.cpu().rflags() & ~kRflagsIf);
  }
}

bool BtEngine::detranslate(Vm& vm, uint64_t tc) {
  UnicornCpu& cpu = vm.cpu();
  if (auto it = trampolines_.upper_bound(tc); it != trampolines_.begin()) {
    --it;
    if (tc >= it->second.tc && tc <= it->second.return_tc) {
      const Trampoline& t = it->second;
      if (t.scratch && tc >= t.insn_tc && tc <= t.restore_tc) {  // loaded with the operand
        uint64_t saved = 0;
        std::memcpy(&saved, tc_ + vmm_data::kScratchSave, sizeof saved);
        cpu.set_gpr(*t.scratch, saved);
      }
      cpu.set_rip(tc == t.return_tc ? t.next_guest_rip : t.guest_rip);
      return true;
    }
  }
  const Fragment* f = fragment_at(tc);
  if (!f) return false;
  const FaultRange* r = f->fault_range_at(tc);
  if (!r) return false;
  if (r->kind == FaultRange::Kind::ExitStub) {
    for (const ExitStub& stub : f->stubs) {
      if (stub.tc_address == r->tc_begin) cpu.set_rip(stub.guest_target);
    }
  } else {
    cpu.set_rip(r->guest_rip);
  }
  // Whatever the rewrite changed before the stop, from RSP to the registers it works in.
  if (r->undo_rsp) cpu.set_gpr(Gpr::Rsp, cpu.gpr(Gpr::Rsp) + static_cast<uint64_t>(static_cast<int64_t>(r->undo_rsp)));
  for (auto [flag, reg, slot] : {std::tuple{FaultRange::kRestoreRax, Gpr::Rax, vmm_data::kLookupSaveRax},
                                 std::tuple{FaultRange::kRestoreRcx, Gpr::Rcx, vmm_data::kLookupSaveRcx}}) {
    if (!(r->restore & flag)) continue;
    uint64_t saved = 0;
    std::memcpy(&saved, tc_ + slot, sizeof saved);
    cpu.set_gpr(reg, saved);
  }
  ++counters_.detranslations;
  return true;
}

bool BtEngine::stopped(Vm& vm, const StopReason& stop) {
  UnicornCpu& cpu = vm.cpu();
  apply_virtual_if(vm);
  if (far_call_) fix_far_call_return(vm);
  for (uint64_t frame : cpu.take_written_code_frames()) code_written(vm, frame);
  if (stop.kind == StopKind::CodeWrite) return step_over_store(vm);
  const VmmWindow& w = vm.vmm_window().window();
  if (stop.kind == StopKind::MemoryFault && stop.fault_access == Access::Fetch && cpu.cpl() == 0 &&
      !w.contains(stop.fault_page) && !stop.fault_non_canonical) {
    return true;  // a kernel entry: before_run sends it to the translation
  }
  if (stop.kind == StopKind::MemoryFault && stop.fault_access == Access::Write && w.contains(cpu.rip())) {
    if (vm.mmu().take_trapped_write()) return traced_write_fault(vm);
  }
  if (stop.kind == StopKind::TrapPoint && w.contains(cpu.rip())) return false;  // a callout
  // IF became 1 in a trampoline (STI, POPF): the VM delivers what waited, then the guest
  // goes on after the instruction, as after the return HLT.
  if (stop.kind == StopKind::InterruptWindow && trampoline_returned(vm, cpu.rip())) return false;
  if (w.contains(cpu.rip())) detranslate(vm, cpu.rip());
  return false;
}

bool BtEngine::trampoline_returned(Vm& vm, uint64_t tc) {
  if (trampolines_.empty()) return false;
  auto t = trampolines_.upper_bound(tc);
  if (t == trampolines_.begin() || (--t)->second.return_tc != tc) return false;
  UnicornCpu& cpu = vm.cpu();
  cpu.set_rip(t->second.next_guest_rip);
  // After STI the next guest instruction still runs first; the return HLT, if it ran, ended
  // the CPU's shadow.
  vm.keep_interrupt_shadow();
  if (t->second.shadow) cpu.begin_interrupt_shadow();
  after_callout_ = true;
  resume_hint_ = trampoline_resume_;
  return true;
}

// For in-cache MOV to CR8: the class of the interrupt a lower TPR would let through. It
// changes where the CPU stops (an interrupt raised or delivered) and at device writes (an
// EOI ends a vector in service while the CPU runs on).
void BtEngine::publish_waiting_class(Vm& vm) {
  const int waiting = vm.interrupt_controller().deliverable(0);
  tc_[vmm_data::kWaitingClass] = waiting < 0 ? 0 : static_cast<uint8_t>(waiting >> 4);
}

std::string BtEngine::before_run(Vm& vm) {
  UnicornCpu& cpu = vm.cpu();
  const uint64_t rip = cpu.rip();
  publish_waiting_class(vm);
  // A remapping instruction has run (its trampoline, if it has one, is not what runs next).
  if (remapped_ && !(pending_trampoline_ && *pending_trampoline_ == rip)) check_code_pages(vm);
  const bool after_callout = after_callout_;
  after_callout_ = false;
  std::optional<Resume> hint;
  hint.swap(resume_hint_);
  if (cpu.cpl() != 0 || vm.vmm_window().window().contains(rip)) return {};
  ++(after_callout ? counters_.resumes : counters_.kernel_entries);
  if (pending_trampoline_ && *pending_trampoline_ == rip) {
    pending_trampoline_.reset();
    cpu.set_rip(trampoline_for_.at(rip));
    return {};
  }
  pending_trampoline_.reset();
  far_call_.reset();  // its trampoline is not what runs next (an event came first)
  if (std::optional<uint64_t> step = std::exchange(pending_step_, std::nullopt); step && *step == rip) {
    if (auto tc = translate_step(vm, rip)) {
      cpu.set_rip(*tc);
      return {};
    }
  }
  if (hint && hint->guest_rip == rip && fragment_at(hint->tc) && sources_.count(fragment_at(hint->tc)->tc_address)) {
    cpu.set_rip(hint->tc);
    return {};
  }
  if (!canonical(rip)) return {};  // the CPU raises #GP at the fetch
  auto tc = enter(vm, rip);
  if (!tc) {
    // The guard would stop the fetch again, forever: a translator bug, never the guest's
    // doing (a full cache is flushed, a unit too long for its fragment is cut).
    char at[24];
    std::snprintf(at, sizeof at, "%#llx", static_cast<unsigned long long>(rip));
    return std::string("bt: cannot translate the guest code at ") + at + ": " + tc.error().message;
  }
  cpu.set_rip(*tc);
  return {};
}

bool BtEngine::undecodable(Vm& vm, const Callout& c) {
  UnicornCpu& cpu = vm.cpu();
  cpu.set_rip(c.guest_rip);
  uint8_t bytes[kMaxInsnLength];
  const size_t have = read_guest_code(vm, c.guest_rip, bytes);
  if (have == kMaxInsnLength || decode_instruction(bytes, have, c.guest_rip)) return raise(vm, kVecUd);
  // The instruction runs into memory the kernel cannot fetch from: the #PF the CPU raises.
  const uint64_t cr2 = c.guest_rip + have;
  uint8_t probe = 0;
  auto fault = vm.linear().fetch(cr2, &probe, 1, 0);
  if (!canonical(cr2) || !fault) return raise(vm, kVecGp, 0);
  return raise_fault(vm, *fault);
}

bool BtEngine::indirect(Vm& vm, const Callout& c) {
  UnicornCpu& cpu = vm.cpu();
  uint8_t bytes[kMaxInsnLength];
  const size_t have = read_guest_code(vm, c.guest_rip, bytes);
  auto insn = decode_instruction(bytes, have, c.guest_rip);
  cpu.set_rip(c.guest_rip);
  if (!insn) return raise(vm, kVecUd);
  uint64_t target = 0, rsp = cpu.gpr(Gpr::Rsp);
  if (c.kind == CalloutKind::Return) {
    if (auto fault = vm.linear().read(rsp, &target, 8, 0)) {
      return raise_fault(vm, *fault);
    }
    const uint64_t extra = insn->operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? insn->operands[0].imm.value.u : 0;
    rsp += 8 + extra;
  } else {
    const auto& op = insn->operands[0];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
      target = register_value(cpu, op.reg.value, insn->next());
    } else {
      const uint64_t address = memory_operand_address(cpu, *insn, op);
      if (auto fault = vm.linear().read(address, &target, 8, 0)) {
        return raise_fault(vm, *fault);
      }
    }
    if (c.kind == CalloutKind::IndirectCall) {
      const uint64_t ret = insn->next();
      if (auto fault = vm.linear().write(rsp - 8, &ret, 8, 0)) {
        return raise_fault(vm, *fault);
      }
      rsp -= 8;
      vmm_stored(vm, rsp, 8);
    }
  }
  ++counters_.indirect_lookups;
  ++counters_.indirect_misses;
  // Translated code finds the target in the cache from now on.
  if (canonical(target)) {
    if (auto tc = enter(vm, target)) {
      lookup_->enter(c.kind == CalloutKind::Return ? LookupTable::ReturnCache : LookupTable::Hash, target, *tc, *tc);
    }
  }
  cpu.set_gpr(Gpr::Rsp, rsp);
  cpu.set_rip(target);  // before_run enters its translation (or the CPU faults on it)
  cpu.add_retired(1);
  return true;
}

// The guest virtual addresses whose translation the instruction may change: INVLPG's operand
// and whatever shares its TLB entry (a page of up to 1 GiB), everything for MOV to CR0, CR3
// or CR4 and for INVPCID; nullopt for any other instruction.
std::optional<BtEngine::VaRange> BtEngine::remapped_by(UnicornCpu& cpu, const Instruction& insn) {
  constexpr uint64_t kLargestPage = 1ull << 30;
  switch (insn.mnemonic()) {
    case ZYDIS_MNEMONIC_INVLPG: {
      const uint64_t va = memory_operand_address(cpu, insn, insn.operands[0]) & ~(kLargestPage - 1);
      return VaRange{va, va + (kLargestPage - 1)};
    }
    case ZYDIS_MNEMONIC_INVPCID: return VaRange{0, ~0ull};
    case ZYDIS_MNEMONIC_MOV: {
      const ZydisRegister r = insn.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? insn.operands[0].reg.value
                                                                                   : ZYDIS_REGISTER_NONE;
      if (r == ZYDIS_REGISTER_CR0 || r == ZYDIS_REGISTER_CR3 || r == ZYDIS_REGISTER_CR4) return VaRange{0, ~0ull};
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

bool BtEngine::sensitive(Vm& vm, const Callout& c, RunOutcome& out) {
  UnicornCpu& cpu = vm.cpu();
  uint8_t bytes[kMaxInsnLength];
  const size_t have = read_guest_code(vm, c.guest_rip, bytes);
  auto insn = decode_instruction(bytes, have, c.guest_rip);
  cpu.set_rip(c.guest_rip);
  if (!insn) return undecodable(vm, c);
  ++counters_.sensitive_emulated;
  const std::optional<VaRange> remaps = remapped_by(cpu, *insn);
  if (remaps) note_remap(*remaps);  // checked once the instruction has run (before_run)
  const auto kind = classify_trap(*insn);
  if (kind && NativeHardware::emulates(*kind) && cpu.trap_policy().contains(*kind)) {
    return NativeHardware::execute_instruction(vm, *kind, *insn, out);
  }
  // The trampoline runs it on the CPU, which checks less than a processor (reserved CR bits).
  if (kind && NativeHardware::fault_before_cpu(vm, *kind, *insn)) return true;
  // After a remapping instruction the trampoline returns through a stop, not straight into
  // the fragment, which may be one of those to drop.
  return run_in_trampoline(vm, c, *insn, remaps ? 0 : c.resume_tc, out);
}

// The guest instruction runs next, once, from its trampoline (RIP is at its guest address).
bool BtEngine::run_in_trampoline(Vm& vm, const Callout& c, const Instruction& insn, uint64_t resume_tc,
                                 RunOutcome& out) {
  auto t = trampoline(vm, insn, resume_tc);
  if (!t) {
    out.end = RunEnd::HostError;
    out.detail = "bt: cannot run the instruction at " + std::to_string(c.guest_rip) + ": " + t.error().message;
    return false;
  }
  pending_trampoline_ = c.guest_rip;
  trampoline_resume_ = resume_hint_;  // the hint applies after the trampoline's return
  if (insn.mnemonic() == ZYDIS_MNEMONIC_CALL && insn.info.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
    const Trampoline& tr = trampolines_.at(*t);
    far_call_ = FarCallReturn{tr.tc, tr.return_tc, vm.cpu().gpr(Gpr::Rsp), insn.next()};
  }
  return true;
}

// An instruction whose RIP-relative operand its fragment cannot reach with rel32 (kernel
// code above 2 GiB but outside the top 2 GiB): it runs from a trampoline that addresses the
// operand through a scratch register (trampoline()).
bool BtEngine::far_operand(Vm& vm, const Callout& c, RunOutcome& out) {
  uint8_t bytes[kMaxInsnLength];
  const size_t have = read_guest_code(vm, c.guest_rip, bytes);
  auto insn = decode_instruction(bytes, have, c.guest_rip);
  vm.cpu().set_rip(c.guest_rip);
  if (!insn) return undecodable(vm, c);
  return run_in_trampoline(vm, c, *insn, c.resume_tc, out);
}

// The far CALL pushed CS and the trampoline's return address, 2, 4 or 8 bytes each (a 64-bit
// call gate pushes 8 whatever the operand size): RSP tells which. Only a slot that still holds
// the trampoline's address is rewritten.
void BtEngine::fix_far_call_return(Vm& vm) {
  const FarCallReturn f = *far_call_;
  far_call_.reset();
  UnicornCpu& cpu = vm.cpu();
  if (cpu.rip() >= f.trampoline_tc && cpu.rip() <= f.return_tc) return;  // it faulted, or has not run
  const uint64_t rsp = cpu.gpr(Gpr::Rsp);
  const uint64_t pushed = f.rsp_before - rsp;
  if (pushed != 4 && pushed != 8 && pushed != 16) return;
  const size_t size = pushed / 2;
  const uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
  uint64_t slot = 0;
  if (vm.linear().read(rsp, &slot, size, 0) || slot != (f.return_tc & mask)) return;
  const uint64_t guest = f.guest_return & mask;
  vm.linear().write(rsp, &guest, size, 0);
}

bool BtEngine::callout(Vm& vm, const Callout& c, RunOutcome& out) {
  after_callout_ = true;
  if (c.resume_tc) resume_hint_ = Resume{c.next_guest_rip, c.resume_tc};
  ++counters_.callouts;
  ++counters_.callouts_by_kind[static_cast<size_t>(c.kind)];
  vm.log_at("callout", c.guest_rip, [&](LogRecord& r) {
    r.str("kind", callout_kind_name(c.kind)).hex("tc", c.tc_address);
    if (c.kind == CalloutKind::Sensitive) r.str("instruction", sensitive_text(c.sensitive));
  });
  UnicornCpu& cpu = vm.cpu();
  switch (c.kind) {
    case CalloutKind::ExitToGuest: {
      const Fragment* from = fragment_at(c.tc_address);
      const uint64_t flushes = counters_.flushes;
      cpu.set_rip(c.next_guest_rip);
      auto target = enter(vm, c.next_guest_rip);
      // Translating may have flushed the cache, the stub with it (`from` then dangles). A step
      // fragment's stub stays a stop (step_over_store).
      if (target && from && counters_.flushes == flushes && !step_fragments_.count(from->tc_address)) {
        chain(vm, c, *target);
        // A return point: the return-address cache now leads returns straight to the caller's
        // next fragment (one jump less), an entry that goes when that fragment goes.
        for (const ExitStub& stub : from->stubs) {
          if (stub.tc_address == c.tc_address && stub.role == StubRole::ReturnPoint) {
            lookup_->enter(LookupTable::ReturnCache, c.next_guest_rip, *target, *target);
          }
        }
      }
      return true;
    }
    case CalloutKind::Sensitive: return sensitive(vm, c, out);
    case CalloutKind::IndirectJump:
    case CalloutKind::IndirectCall:
    case CalloutKind::Return: return indirect(vm, c);
    case CalloutKind::Undecodable: return undecodable(vm, c);
    case CalloutKind::AdaptedStore: return adapted_store(vm, c, out);
    case CalloutKind::RipRelativeOutOfReach: return far_operand(vm, c, out);
    case CalloutKind::Count: break;
  }
  out.end = RunEnd::HostError;
  out.detail = std::string("bt: callout ") + callout_kind_name(c.kind) + " at guest RIP " + std::to_string(c.guest_rip) +
               " is not supported";
  return false;
}

bool BtEngine::trap(Vm& vm, const StopReason& stop, RunOutcome& out) {
  UnicornCpu& cpu = vm.cpu();
  const uint64_t rip = cpu.rip();
  if (!vm.vmm_window().window().contains(rip)) {  // guest user code, untranslated
    const Instruction& insn = cpu.trap_instruction();
    if (cpu.cpl() == 3 && !(cpu.cr(4) & cr4::UMIP) && reads_descriptor_register(insn)) {
      store_host_register(vm, insn);
      return true;
    }
    return NativeHardware::execute(vm, stop, out);
  }
  if (auto it = trampolines_.find(rip); it == trampolines_.end()) {
    if (trampoline_returned(vm, rip)) return true;  // the instruction ran: back to the cache
  } else {
    // A trap point inside the trampoline (INVLPG under shadow paging): the hardware model.
    return NativeHardware::execute(vm, stop, out);
  }
  const Fragment* f = fragment_at(rip);
  const Callout* c = f ? f->callout_at(rip) : nullptr;
  if (!c) {
    out.end = RunEnd::HostError;
    out.detail = "bt: a trap point in the translation cache that is no callout";
    return false;
  }
  // A copy: translating on the callout's behalf may flush the cache, its fragment with it.
  const Callout copy = *c;
  return callout(vm, copy, out);
}

}  // namespace hvsim::bt
