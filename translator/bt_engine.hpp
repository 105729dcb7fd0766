#pragma once
// The bt engine: software virtualization by binary translation, as VMware's VMM did (Adams &
// Agesen 2006). Guest user code runs directly; guest kernel code runs from a translation
// cache (TC) in the VMM's window of the address space, in which every sensitive instruction
// was rewritten into a callout or in-cache code (translator/, docs/binary-translation.md).
//
// How the pieces meet the CPU substrate:
// - Kernel entries. The VMM window translator refuses every kernel-mode fetch outside the
//   window; the engine takes that stop (an interrupt, an exception, SYSCALL, an IRETQ back
//   into the kernel) and the vCPU resumes at the fragment of that guest RIP.
// - Callouts are HLTs in the TC, trap points like any other: the engine emulates the guest
//   instruction (the hardware model for the kinds it emulates; the others run once,
//   unmodified, from a trampoline in the TC followed by a HLT that returns to the cache).
// - Precise state. At any other stop inside the TC (a fault, a timer, a budget), RIP is
//   mapped back to the guest instruction before the VM looks at it, so the guest sees its
//   own RIPs (in exception frames, in its exception tables) and never a TC address.
// - Time. Chaining jumps and exit stubs are the VMM's instructions, not the guest's: they do
//   not retire, so virtual time (and with it the guest's behaviour) matches native.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/util/result.hpp"
#include "core/vm/engine.hpp"
#include "translator/counters.hpp"
#include "translator/fragment.hpp"
#include "translator/lookup_tables.hpp"
#include "translator/unit.hpp"
#include "translator/vmm_layout.hpp"

namespace hvsim {
class UnicornCpu;
class Vm;
namespace bt {

// Guest code as the translator reads it: kernel-mode instruction fetches through the guest's
// paging, a page at a time, as many bytes as are readable (short at the end of mapped memory).
size_t read_guest_code(Vm& vm, uint64_t va, std::span<uint8_t> out);

// Where the translation cache lives in the CPU's physical address space (not guest RAM: the
// VMM's own memory, just below the open-bus pages).
constexpr uint64_t kTcCpuPa = 0xff'fe00'0000ull;

#define HVSIM_BT_COUNTERS(X)                                                              \
  X(kernel_entries, "entries into kernel code not from the cache (interrupts, exceptions, SYSCALL, IRETQ)") \
  X(resumes, "returns to the cache after a callout")                                          \
  X(callouts, "callouts executed (exit stubs before chaining, sensitive instructions, ...)")   \
  X(sensitive_emulated, "sensitive instructions emulated by the VMM after a callout")        \
  X(trampolines, "trampolines built (a sensitive instruction run once, unmodified)")         \
  X(chained, "exit stubs chained to their target's fragment")                                \
  X(indirect_lookups, "indirect branches and returns resolved, in the cache or by the VMM")  \
  X(indirect_misses, "indirect branches and returns resolved by the VMM (a callout)")        \
  X(hash_hits, "indirect jmp and call targets found in the cache's hash table")              \
  X(return_cache_hits, "returns whose target the cache's return-address cache held")         \
  X(in_cache_emulations, "sensitive instructions emulated inside the cache (CLI, port I/O nobody answers)") \
  X(detranslations, "stops inside the TC mapped back to the guest instruction")             \
  X(flushes, "translation-cache flushes (full)")                                             \
  X(code_writes, "guest stores to frames holding translated code")                           \
  X(store_steps, "stores by translated code to translated code, run alone from a step fragment") \
  X(invalidations, "fragments dropped because their guest code changed or was mapped elsewhere") \
  X(remap_checks, "checks of translated code pages after INVLPG or a MOV to CR0/CR3/CR4")     \
  X(pt_write_faults, "guest kernel stores to traced page tables taken as page faults and emulated") \
  X(adaptations, "stores retranslated into callouts after faulting on traced page tables (adaptive BT)") \
  X(adapted_writes, "adapted stores emulated by a callout that hit a traced page table")      \
  X(adapted_misses, "adapted stores emulated by a callout that hit an ordinary page")          \
  X(adaptations_undone, "adapted stores translated back to IDENT after missing page tables")

struct BtCounters {
#define HVSIM_BT_COUNTER_FIELD(name, what) uint64_t name = 0;
  HVSIM_BT_COUNTERS(HVSIM_BT_COUNTER_FIELD)
#undef HVSIM_BT_COUNTER_FIELD
  std::array<uint64_t, kCalloutKindCount> callouts_by_kind{};
};

class BtEngine : public Engine {
 public:
  // Maps the TC into the VM's CPU and reserves the window in its address spaces.
  static Result<std::unique_ptr<BtEngine>> create(Vm& vm);
  ~BtEngine() override;
  const char* name() const override { return "bt"; }
  TrapSet trap_policy() const override;
  bool trap(Vm& vm, const StopReason& stop, RunOutcome& out) override;
  bool stopped(Vm& vm, const StopReason& stop) override;
  std::string before_run(Vm& vm) override;
  void device_written(Vm& vm) override { publish_waiting_class(vm); }

  // The VMM's counts, with the lookups translated code counted (hits) added in.
  BtCounters counters() const;
  const TranslatorCounters& translator_counters() const { return translated_; }
  // The fragment holding TC address `tc` (for hvsim translate and the visualizer).
  const Fragment* fragment_at(uint64_t tc) const;
  const Fragment* fragment_for(uint64_t guest_rip) const;
  // The fragment that translated the guest instruction at guest_rip, whether it starts there
  // or earlier (the nearest start wins); nullptr when none did.
  const Fragment* fragment_containing(uint64_t guest_rip) const;
  // Every fragment that translated it, nearest start first.
  std::vector<const Fragment*> fragments_holding(uint64_t guest_rip) const;
  std::span<const uint8_t> tc_bytes(uint64_t tc, size_t size) const;
  // hvsim translate: guest_rip's fragment, translated now if the run has not reached it
  // (counted in translator_counters() like any other); nullptr if the cache cannot take it.
  const Fragment* translate_for_report(Vm& vm, uint64_t guest_rip) {
    auto tc = enter(vm, guest_rip);
    return tc ? fragment_at(*tc) : nullptr;
  }

 private:
  struct Trampoline {
    uint64_t tc = 0;          // its entry: the copied instruction, or the scratch prologue
    uint64_t return_tc = 0;   // its HLT, or its jump back into the fragment
    uint64_t guest_rip = 0, next_guest_rip = 0;
    // The instruction (STI, MOV SS, POP SS) holds interrupts for one more instruction, but
    // the return HLT ends that shadow on the CPU: the engine gives it back.
    bool shadow = false;
    // An operand out of rel32 reach: the copy at insn_tc addresses it through `scratch`,
    // loaded before it and restored (from vmm_data::kScratchSave) at restore_tc.
    uint64_t insn_tc = 0, restore_tc = 0;
    std::optional<Gpr> scratch;
  };
  explicit BtEngine(Vm& vm);
  // The TC address of guest_rip's translation, translating it first if needed.
  Result<uint64_t> enter(Vm& vm, uint64_t guest_rip);
  Result<uint64_t> translate(Vm& vm, uint64_t guest_rip);
  // Emits and registers a unit's fragment (not yet found by guest RIP).
  Result<uint64_t> place(Vm& vm, TranslationUnit unit);
  void publish_waiting_class(Vm& vm);
  void prepare(Vm& vm, TranslationUnit& unit) const;
  // A step fragment: the one guest instruction at guest_rip, then a stop (its exit stub is
  // never chained). Never found by guest RIP; kept per guest RIP until its bytes change.
  Result<uint64_t> translate_step(Vm& vm, uint64_t guest_rip);
  bool step_over_store(Vm& vm);
  // Whether a store from the block at TC address `pc` must stop before it (the code write
  // barrier, UnicornCpu::set_code_write_barrier): blocks of fragments, not of step fragments
  // or trampolines, which end in a stop anyway.
  bool stops_before_store(uint64_t pc) const;
  Result<uint64_t> trampoline(Vm& vm, const Instruction& insn, uint64_t resume_tc);
  uint8_t* host(uint64_t tc) { return tc_ + (tc - kTcWindowBase); }
  Result<uint64_t> allocate(size_t size);
  void flush(Vm& vm);
  bool callout(Vm& vm, const Callout& c, RunOutcome& out);
  bool sensitive(Vm& vm, const Callout& c, RunOutcome& out);
  bool run_in_trampoline(Vm& vm, const Callout& c, const Instruction& insn, uint64_t resume_tc, RunOutcome& out);
  bool far_operand(Vm& vm, const Callout& c, RunOutcome& out);
  bool indirect(Vm& vm, const Callout& c);
  bool undecodable(Vm& vm, const Callout& c);
  void chain(Vm& vm, const Callout& c, uint64_t target_tc);
  // The guest RIP (and RSP correction) a stop at TC address `tc` stands for.
  bool detranslate(Vm& vm, uint64_t tc);
  // A stop at a trampoline's return (its instruction ran): back to the cache after it.
  bool trampoline_returned(Vm& vm, uint64_t tc);
  void apply_virtual_if(Vm& vm);
  // Adaptive binary translation (translator/adaptive.cpp).
  static constexpr uint32_t kAdaptAfterFaults = 4;     // traced-write faults before retranslating
  static constexpr uint32_t kUndoAfterMisses = 64;     // adapted stores in a row that hit no page table
  bool traced_write_fault(Vm& vm);
  bool adapted_store(Vm& vm, const Callout& c, RunOutcome& out);
  // Emulates a simple store at guest_rip; false if it is none (nothing was changed).
  enum class StoreOutcome { Done, NotSimple, Faulted };
  StoreOutcome emulate_store(Vm& vm, const Instruction& insn, bool* hit_page_table);
  void adapt(Vm& vm, uint64_t guest_rip, bool on);
  void mark_adapted(TranslationUnit& unit) const;
  std::unordered_map<uint64_t, uint32_t> trace_faults_;     // guest RIP -> traced-write faults
  std::unordered_map<uint64_t, uint32_t> adapted_misses_;   // adapted guest RIP -> misses in a row
  std::unordered_set<uint64_t> adapted_;                    // guest RIPs translated as AdaptedStore

  std::vector<uint8_t> tc_storage_;  // the TC's host memory (page-aligned inside)
  uint8_t* tc_ = nullptr;
  uint64_t next_free_ = 0;
  std::map<uint64_t, Fragment> fragments_;                 // by TC address
  std::unordered_map<uint64_t, uint64_t> by_guest_rip_;    // guest RIP -> fragment TC
  std::map<uint64_t, Trampoline> trampolines_;             // by TC address
  std::unordered_map<uint64_t, uint64_t> trampoline_for_;  // guest RIP -> trampoline TC
  std::unordered_set<uint64_t> uncounted_;                 // TC addresses of VMM instructions
  std::optional<uint64_t> pending_trampoline_;  // guest RIP whose trampoline runs next
  std::optional<uint64_t> pending_step_;        // guest RIP whose step fragment runs next
  std::unordered_map<uint64_t, uint64_t> step_for_;  // guest RIP -> step fragment TC
  std::unordered_set<uint64_t> step_fragments_;      // their TC addresses
  // Where a callout that did not end its unit resumes: {guest RIP, TC in the same fragment}.
  // The VM may deliver an event first (RIP then differs), so the hint is checked, not trusted.
  struct Resume {
    uint64_t guest_rip = 0, tc = 0;
  };
  std::optional<Resume> resume_hint_, trampoline_resume_;
  // A far CALL runs from a trampoline, so it pushes the trampoline's address as its return
  // RIP; the first stop after it completed (the fetch at its target, a guest address) puts
  // the guest's next RIP in that slot, truncated as the CALL's operand size truncated it.
  struct FarCallReturn {
    uint64_t trampoline_tc = 0, return_tc = 0;  // a stop in between: the CALL did not complete
    uint64_t rsp_before = 0;                    // RSP before its pushes
    uint64_t guest_return = 0;                  // the guest's next RIP
  };
  std::optional<FarCallReturn> far_call_;
  void fix_far_call_return(Vm& vm);
  bool after_callout_ = false;  // before_run: back to the cache, not a kernel entry
  // Coherence: the guest bytes each fragment was translated from, the frames they live in,
  // and which stubs jump to a fragment (to unchain them when it goes).
  struct Source {
    uint64_t guest_rip = 0;
    std::vector<uint8_t> bytes;
  };
  std::unordered_map<uint64_t, Source> sources_;                          // by fragment TC
  std::unordered_map<uint64_t, std::vector<uint64_t>> fragments_by_frame_;  // frame -> TCs
  std::unordered_map<uint64_t, std::vector<uint64_t>> chained_to_;          // target TC -> stubs
  // guest_end: one past the bytes the translation depends on; `through_end`: the byte at
  // guest_end too (an undecodable end: the page that was unreadable).
  void watch_source(Vm& vm, uint64_t tc, uint64_t guest_rip, uint64_t guest_end, bool through_end);
  // Address-space identity. The cache is found by guest virtual address, so each fragment's
  // pages keep the frame they mapped when it was translated (kNoFrame: none); after the guest
  // changed mappings, fragments of a page that now maps elsewhere (or nothing) are dropped.
  static constexpr uint64_t kNoFrame = ~0ull;
  struct CodePage {
    uint64_t frame = kNoFrame;
    std::vector<uint64_t> fragments;  // TCs
  };
  std::unordered_map<uint64_t, CodePage> code_pages_;  // by guest virtual page
  // Guest virtual addresses [first, last] whose mapping an instruction may have changed, to
  // be checked before translated code runs again.
  struct VaRange {
    uint64_t first = 0, last = 0;
  };
  std::optional<VaRange> remapped_;
  void note_remap(VaRange r);
  static std::optional<VaRange> remapped_by(UnicornCpu& cpu, const Instruction& insn);
  void check_code_pages(Vm& vm);
  void code_written(Vm& vm, uint64_t frame);
  void vmm_stored(Vm& vm, uint64_t va, size_t size);
  // code_changed: the guest wrote to its code or remapped it (counted as an invalidation);
  // else the engine retranslates it (adaptive BT).
  void drop_fragment(Vm& vm, uint64_t tc, bool code_changed = true);
  // The in-cache indirect-branch lookup's tables (lookup_tables.hpp).
  std::unique_ptr<LookupTables> lookup_;
  void enter_return_points(const Fragment& f);
  BtCounters counters_;
  TranslatorCounters translated_;
};

}  // namespace bt
}  // namespace hvsim
