#include "core/vm/vm.hpp"

#include "core/cpu/fault_address.hpp"
#include "core/mem/ept_paging.hpp"
#include "core/mem/native_paging.hpp"
#include "core/mem/shadow_paging.hpp"
#include "core/vm/native_hardware.hpp"

namespace hvsim {

const char* run_end_name(RunEnd e) {
  switch (e) {
    case RunEnd::Exited: return "exited";
    case RunEnd::TripleFault: return "triple fault";
    case RunEnd::HaltedForever: return "halted forever";
    case RunEnd::BudgetExhausted: return "instruction budget exhausted";
    case RunEnd::Stopped: return "stopped";
    case RunEnd::HostError: return "host error";
    case RunEnd::ExceptionStorm: return "exception storm";
    case RunEnd::SliceEnded: return "slice ended";
  }
  return "?";
}

Vm::Vm(const VmConfig& config, EventLog& log) : config_(config), log_(log), rng_state_(config.rdrand_seed | 1) {}
Vm::~Vm() = default;

Result<std::unique_ptr<Vm>> Vm::create(MachineMemory& machine, const VmConfig& config, EventLog& log) {
  std::unique_ptr<Vm> vm(new Vm(config, log));
  if (config.paging != PagingMode::Native) {
    // The VMM's frames first: guest RAM then sits at a machine address other than 0, so a
    // guest-physical address used as a machine address cannot go unnoticed.
    auto frames = VmmFrames::create(machine, config.vmm_bytes, "vmm/" + config.name);
    if (!frames) return frames.error();
    vm->vmm_frames_.emplace(std::move(*frames));
  }
  // 2 MiB aligned, so the VMM can map guest RAM with large EPT pages.
  auto range = machine.allocate(config.ram_bytes, config.name, 2ull << 20);
  if (!range) return range.error();
  vm->ram_ = std::make_unique<GuestRam>(*range);
  P2m p2m;
  p2m.add({0, range->machine_address, range->size});
  switch (config.paging) {
    case PagingMode::Native: vm->paging_ = std::make_unique<NativePaging>(*vm->ram_, p2m); break;
    case PagingMode::Ept: {
      auto tables = EptTables::build(*vm->vmm_frames_, p2m, config.ept_page, true);
      if (!tables) return tables.error();
      vm->ept_.emplace(std::move(*tables));
      vm->paging_ = std::make_unique<EptPaging>(*vm->ram_, p2m, machine, *vm->ept_);
      break;
    }
    case PagingMode::Shadow:
      vm->paging_ = std::make_unique<ShadowPaging>(*vm->ram_, p2m, *vm->vmm_frames_);
      break;
  }
  vm->window_ = std::make_unique<VmmWindowTranslator>(*vm->paging_);
  auto cpu = UnicornCpu::create(*vm->window_);
  if (!cpu) return cpu.error();
  vm->cpu_ = std::move(*cpu);
  vm->paging_->attach(*vm->cpu_);
  Vm* self = vm.get();
  vm->paging_->on_unbacked([self](const UnbackedAccess& a) {
    // An isolation event: the guest reached for a guest-physical address its p2m does not
    // back (and no device window claims).
    self->log("isolation", [&](LogRecord& r) {
      r.hex("gpa", a.gpa).hex("va", a.va).str("access", access_name(a.access));
      if (a.paging_structure) r.str("in", "paging structure");
    });
  });
  vm->linear_ = std::make_unique<LinearMemory>(*vm->ram_, [self] { return self->paging_->control(); });
  vm->linear_->on_write([self](uint64_t gpa, size_t size) { self->paging_->vmm_will_write(gpa, size); });
  if (auto r = vm->cpu_->map_ram(range->machine_address, vm->ram_->size(), vm->ram_->host_base()); !r) return r.error();
  static struct OpenBus : MmioHandler {
    uint64_t mmio_read(uint64_t, unsigned size) override { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }
    void mmio_write(uint64_t, unsigned, uint64_t) override {}
  } open_bus;
  if (auto r = vm->cpu_->map_mmio(kOpenBusPage, kPageSize, open_bus); !r) return r.error();
  static std::vector<uint8_t> open_bus_code = [] {
    std::vector<uint8_t> page(kPageSize + kPageSize, 0xff);  // over-allocated to align
    return page;
  }();
  uint8_t* aligned = reinterpret_cast<uint8_t*>(
      (reinterpret_cast<uintptr_t>(open_bus_code.data()) + kPageSize - 1) & ~uintptr_t(kPageSize - 1));
  if (auto r = vm->cpu_->map_ram(kOpenBusCodePage, kPageSize, aligned); !r) return r.error();
  static NativeEngine native;
  vm->set_engine(native);
  return vm;
}

void Vm::set_engine(Engine& engine) {
  engine_ = &engine;
  TrapSet policy = engine.trap_policy();
  if (config_.paging == PagingMode::Shadow) policy.add(TrapKind::Invlpg);  // the VMM keeps the shadow in step
  cpu_->set_trap_policy(policy);
}

// Device windows see every access; the engine hears of it first (an exit under vtx). A write
// that lets an interrupt through (an EOI to the local APIC, a lower TPR) has the CPU stop right
// after the writing instruction, where a processor recognizes the interrupt.
class Vm::CountingMmio : public MmioHandler {
 public:
  CountingMmio(Vm& vm, uint64_t gpa, MmioHandler& inner) : vm_(vm), gpa_(gpa), inner_(inner) {}
  uint64_t mmio_read(uint64_t offset, unsigned size) override {
    ++vm_.counters_.mmio_accesses;
    vm_.engine_->mmio_accessed(vm_, gpa_ + offset, false);
    return inner_.mmio_read(offset, size);
  }
  void mmio_write(uint64_t offset, unsigned size, uint64_t value) override {
    ++vm_.counters_.mmio_accesses;
    vm_.engine_->mmio_accessed(vm_, gpa_ + offset, true);
    const int before = vm_.irq_->deliverable(static_cast<uint8_t>(vm_.cpu_->cr(8)));
    inner_.mmio_write(offset, size, value);
    vm_.engine_->device_written(vm_);
    const int after = vm_.irq_->deliverable(static_cast<uint8_t>(vm_.cpu_->cr(8)));
    if (after >= 0 && after != before) vm_.cpu_->request_stop_after_mmio_write();
  }

 private:
  Vm& vm_;
  uint64_t gpa_;
  MmioHandler& inner_;
};

Result<void> Vm::map_mmio(uint64_t gpa, uint64_t size, MmioHandler& handler) {
  // Device windows sit at their guest-physical address in the CPU's physical space, beside
  // guest RAM at its machine address: neither may overlap.
  const uint64_t ram_cpu = ram_->machine_address(), ram_end = ram_cpu + ram_->size();
  if (gpa < ram_->size() || (gpa < ram_end && gpa + size > ram_cpu)) return make_error("MMIO window overlaps RAM");
  mmio_windows_.push_back(std::make_unique<CountingMmio>(*this, gpa, handler));
  // Precise writes: the CPU can then stop right after a write that lets an interrupt through.
  auto r = cpu_->map_mmio(gpa, size, *mmio_windows_.back(), /*precise_writes=*/true);
  if (r) paging_->add_mmio_window(gpa, size);
  return r;
}

uint64_t Vm::now_ns() const { return cpu_->instructions_retired() + idle_ns_; }
uint64_t Vm::arm_timer(uint64_t deadline_ns, std::function<void()> cb, std::function<int()> raises) {
  return timers_.arm(deadline_ns, std::move(cb), std::move(raises));
}
void Vm::cancel_timer(uint64_t id) { timers_.cancel(id); }
void Vm::raise_interrupt(uint8_t vector) {
  if (vector < 32) return;  // vectors 0-31 are exceptions; an interrupt controller never sends them
  irq_->raise(vector);
}
void Vm::request_exit(int status) {
  exit_requested_ = true;
  exit_status_ = status;
  cpu_->request_stop();
}
void Vm::console_output(char c) {
  if (console_) console_(c);
}

void Vm::append_log(const char* kind, LogRecord r, std::optional<uint64_t> rip) {
  r.time_ns = now_ns();
  r.guest = config_.name;
  r.vcpu = 0;
  r.rip = rip.value_or(cpu_->rip());
  r.kind = kind;
  log_.append(r);
}

bool Vm::deliver(const Event& ev) {
  auto out = deliver_event(*cpu_, *linear_, ev);
  if (out.result == DeliveryResult::TripleFault) {
    triple_faulted_ = true;
    engine_->triple_fault(*this);
    log("triple_fault", [&](LogRecord& r) { r.num("vector", ev.vector); });
    return false;
  }
  return true;
}

bool Vm::raise_exception(uint8_t vector, uint32_t error_code) {
  ++counters_.exceptions_delivered;
  engine_->exception_raised(*this, vector, error_code);
  uint64_t rip = cpu_->rip();
  if (cpu_->instructions_retired() != storm_retired_) {
    storm_retired_ = cpu_->instructions_retired();
    storm_count_ = 0;
  } else if (++storm_count_ >= kExceptionStormLimit) {
    storm_ = true;
    log("exception_storm", [&](LogRecord& r) { r.num("vector", vector).num("exceptions", storm_count_); });
    return false;
  }
  log("exception", [&](LogRecord& r) {
    r.str("name", vec::mnemonic(vector)).num("vector", vector).num("cpl", cpu_->cpl());
    if (vec::has_error_code(vector)) r.hex("error_code", error_code);
    if (vector == vec::PF) r.hex("cr2", cpu_->cr(2));
  });
  return deliver(hardware_exception(vector, rip, error_code));
}

uint64_t Vm::next_random() {
  uint64_t& s = rng_state_;  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545f4914f6cdd1dull;
}

Vm::Held Vm::try_inject_interrupt() {
  if (irq_->accepted() != interrupts_seen_) {  // new interrupts arrived while the guest ran
    int pending = irq_->deliverable(0);
    for (; interrupts_seen_ < irq_->accepted(); ++interrupts_seen_) {
      engine_->interrupt_raised(*this, static_cast<uint8_t>(pending < 0 ? 0 : pending));
    }
  }
  // Delivery ends at the handler's first instruction, a boundary at which the next waiting
  // interrupt is recognized too: at once through a trap gate (IF stays 1), when the handler
  // sets IF through an interrupt gate.
  for (;;) {
    int v = irq_->deliverable(static_cast<uint8_t>(cpu_->cr(8)));
    linear_->invalidate_control();
    if (v < 0) return Held::Nothing;
    if (!(cpu_->rflags() & rflags::IF)) return Held::ByIf;
    if (cpu_->interrupt_shadow()) {
      // Unicorn clears the shadow when it executes the next instruction; when the VMM emulated
      // that instruction (STI; HLT), or the CPU is halted, it is over.
      if (!emulated_since_run_ && !halted_) return Held::ByShadow;
      cpu_->end_interrupt_shadow();
    }
    irq_->acknowledge(static_cast<uint8_t>(v));
    halted_ = false;
    ++counters_.interrupts_delivered;
    engine_->interrupt_delivered(*this, static_cast<uint8_t>(v));
    log("interrupt", [&](LogRecord& r) { r.num("vector", static_cast<uint64_t>(v)); });
    Event ev;
    ev.vector = static_cast<uint8_t>(v);
    ev.type = EventType::External;
    ev.return_rip = ev.instruction_rip = cpu_->rip();
    if (!deliver(ev)) return Held::Nothing;
  }
}

// Only an interrupt can end this HLT (hvsim has no NMI, SMI or INIT), and not one pending
// now: try_inject_interrupt would have taken it. While the CPU is halted nothing the guest
// controls changes (IF, the TPR, the vectors in service), so a timer whose vector they hold
// back now holds it back at every later expiry too.
bool Vm::halt_can_end() const {
  if (!(cpu_->rflags() & rflags::IF)) return false;
  const auto tpr = static_cast<uint8_t>(cpu_->cr(8));
  return timers_.any_may_raise([&](int v) {
    return v >= 32 && v < 256 && irq_->would_deliver(static_cast<uint8_t>(v), tpr);  // as raise_interrupt
  });
}

RunOutcome Vm::run(uint64_t until_ns) {
  RunOutcome out;
  for (;;) {
    if (exit_requested_) {
      out.end = RunEnd::Exited;
      out.exit_status = exit_status_;
      return out;
    }
    if (triple_faulted_) {
      out.end = RunEnd::TripleFault;
      out.detail = "triple fault at RIP " + std::to_string(cpu_->rip());
      return out;
    }
    if (storm_) {
      out.end = RunEnd::ExceptionStorm;
      out.detail = std::to_string(kExceptionStormLimit) + " exceptions in a row without an instruction retiring";
      return out;
    }
    if (now_ns() >= until_ns) {
      out.end = RunEnd::SliceEnded;
      return out;
    }
    timers_.fire_due(now_ns());
    const Held held = try_inject_interrupt();
    if (triple_faulted_) continue;
    // The CPU sees a stop request only when it runs a block: not while halted, nor when an
    // engine takes every stop before the guest runs anything.
    if (cpu_->take_stop_request()) {
      out.end = RunEnd::Stopped;
      return out;
    }
    if (halted_) {
      if (!halt_can_end()) {
        out.end = RunEnd::HaltedForever;
        if (cpu_->rflags() & rflags::IF) {
          out.detail = "HLT with IF = 1, but no interrupt that can still arrive gets past the TPR (class " +
                       std::to_string(cpu_->cr(8)) + ")";
          log("halt_forever", [&](LogRecord& r) { r.num("tpr", cpu_->cr(8)); });
        } else {
          out.detail = "HLT with interrupts disabled (IF = 0)";
          log("halt_forever");
        }
        return out;
      }
      // Nothing runs until the next timer (or the end of the slice).
      idle_ns_ += std::min(timers_.next_deadline(), until_ns) - now_ns();
      continue;
    }
    // An interrupt that IF holds back is taken as soon as the guest sets IF (STI, POPF,
    // IRETQ, SYSRET), not at the next stop: the CPU stops there. One the shadow of STI or MOV
    // SS holds back is taken after one more instruction.
    cpu_->set_interrupt_window_stop(held == Held::ByIf);
    uint64_t budget = until_ns - now_ns();
    if (!timers_.empty()) budget = std::min(budget, timers_.next_deadline() - now_ns());
    if (held == Held::ByShadow) budget = 1;
    if (config_.max_instructions) {
      uint64_t retired = cpu_->instructions_retired();
      if (retired >= config_.max_instructions) {
        out.end = RunEnd::BudgetExhausted;
        return out;
      }
      budget = std::min(budget, config_.max_instructions - retired);
    }
    if (budget == 0) budget = 1;
    if (std::string failure = engine_->before_run(*this); !failure.empty()) {
      out.end = RunEnd::HostError;
      out.detail = std::move(failure);
      return out;
    }
    const uint64_t retired_at_start = cpu_->instructions_retired();
    StopReason stop = cpu_->run(budget);
    const uint64_t retired_at_stop = cpu_->instructions_retired(), exceptions = counters_.exceptions_delivered;
    emulated_since_run_ = stop.kind == StopKind::TrapPoint;
    if (!handle_stop(stop, out)) return out;
    if (retired_at_stop == cpu_->instructions_retired() && exceptions == counters_.exceptions_delivered) {
      // A trapped instruction the VMM let the CPU execute (pass_trap_once) has not run yet:
      // the boundary it stands at is still in a shadow, unlike one emulated or faulted.
      emulated_since_run_ = false;
      // The same holds for the one instruction a shadow covers when nothing ran before the
      // stop, though the CPU may have ended its shadow (a bt callout is a HLT it executes).
      if (held == Held::ByShadow && stop.kind == StopKind::TrapPoint && retired_at_stop == retired_at_start) {
        cpu_->begin_interrupt_shadow();
      }
    }
  }
}

bool Vm::handle_stop(const StopReason& stop, RunOutcome& out) {
  linear_->invalidate_control();
  paging_->sync();
  if (engine_->stopped(*this, stop)) return true;
  switch (stop.kind) {
    case StopKind::BudgetExhausted:
    case StopKind::MemorySync:
    case StopKind::InterruptWindow:  // the loop delivers what waited
    case StopKind::MmioSync:         // the same: a device write let an interrupt through
    case StopKind::CodeWrite:  // the engine that set the barrier consumed it (bt)
      return true;
    case StopKind::StopRequested:
      if (exit_requested_) return true;
      out.end = RunEnd::Stopped;
      return false;
    case StopKind::Exception:
      raise_exception(stop.vector, stop.error_code);
      return true;
    case StopKind::InvalidOpcode:
      raise_exception(vec::UD);
      return true;
    case StopKind::MemoryFault: {
      if (stop.fault_non_canonical) {
        raise_exception(vec::GP, 0);
        return true;
      }
      auto insn = cpu_->decode_at(cpu_->rip());
      uint64_t cr2 = exact_fault_address(*cpu_, insn ? &*insn : nullptr, stop.fault_page, stop.fault_access);
      cpu_->set_cr(2, cr2);
      raise_exception(vec::PF, stop.error_code);
      return true;
    }
    case StopKind::TrapPoint:
      ++counters_.trap_stops[static_cast<size_t>(stop.trap)];
      return engine_->trap(*this, stop, out);
    case StopKind::TripleFault:
      triple_faulted_ = true;
      engine_->triple_fault(*this);
      log("triple_fault");
      return true;
    case StopKind::HostError:
      out.end = RunEnd::HostError;
      out.detail = stop.detail;
      return false;
  }
  return true;
}

}  // namespace hvsim
