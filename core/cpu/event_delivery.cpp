#include "core/cpu/event_delivery.hpp"

namespace hvsim {
namespace {

constexpr uint32_t kIdtBit = 2;  // error code bit 1: the index refers to the IDT

struct Fault {
  uint8_t vector;
  uint32_t error_code;
  std::optional<uint64_t> cr2;
};

bool is_contributory(uint8_t v) {
  return v == vec::DE || v == vec::TS || v == vec::NP || v == vec::SS || v == vec::GP;
}

Fault from_guest_fault(const GuestFault& g) {
  if (g.vector == vec::PF) return Fault{vec::PF, g.error_code, g.cr2};
  return Fault{g.vector, g.error_code, std::nullopt};
}

// Reads the code-segment descriptor for an IDT gate's selector (GDT or LDT).
std::optional<Fault> read_descriptor(UnicornCpu& cpu, LinearMemory& mem, uint16_t selector,
                                     uint32_t ext, uint64_t& desc) {
  uint32_t sel_ec = (selector & 0xfffc) | ext;
  if ((selector & 0xfffc) == 0) return Fault{vec::GP, ext, std::nullopt};
  uint64_t base;
  uint32_t limit;
  if (selector & 4) {
    auto ldt = cpu.ldtr();
    base = ldt.base;
    limit = ldt.limit;
  } else {
    auto gdt = cpu.gdtr();
    base = gdt.base;
    limit = gdt.limit;
  }
  uint32_t index = selector & 0xfff8;
  if (index + 7 > limit) return Fault{vec::GP, sel_ec, std::nullopt};
  if (auto f = mem.load(base + index, desc, 0)) return from_guest_fault(*f);
  return std::nullopt;
}

// One delivery attempt: either succeeds or names the fault it ran into.
std::optional<Fault> try_deliver(UnicornCpu& cpu, LinearMemory& mem, const Event& ev) {
  const uint32_t ext = (ev.type == EventType::SoftwareInterrupt || ev.type == EventType::SoftwareException ||
                        ev.type == EventType::PrivilegedSoftware)
                           ? 0
                           : 1;
  const uint32_t gate_ec = ev.vector * 8u + kIdtBit + ext;
  auto idtr = cpu.idtr();
  if (ev.vector * 16u + 15 > idtr.limit) return Fault{vec::GP, gate_ec, std::nullopt};
  uint64_t gate[2];
  if (auto f = mem.read(idtr.base + ev.vector * 16u, gate, sizeof gate, 0)) return from_guest_fault(*f);

  const unsigned type = (gate[0] >> 40) & 0xf;
  const unsigned gate_dpl = (gate[0] >> 45) & 3;
  const bool present = (gate[0] >> 47) & 1;
  const unsigned cpl = cpu.cpl();
  if (type != 0xe && type != 0xf) return Fault{vec::GP, gate_ec, std::nullopt};
  if ((ev.type == EventType::SoftwareInterrupt || ev.type == EventType::SoftwareException) &&
      gate_dpl < cpl) {
    return Fault{vec::GP, gate_ec, std::nullopt};
  }
  if (!present) return Fault{vec::NP, gate_ec, std::nullopt};

  const auto selector = static_cast<uint16_t>(gate[0] >> 16);
  const uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull) | (gate[1] << 32);
  const unsigned ist = (gate[0] >> 32) & 7;

  uint64_t desc = 0;
  if (auto f = read_descriptor(cpu, mem, selector, ext, desc)) return f;
  const uint32_t hi = static_cast<uint32_t>(desc >> 32);
  const uint32_t sel_ec = (selector & 0xfffc) | ext;
  const bool is_code = (hi & (1u << 12)) && (hi & (1u << 11));
  const bool conforming = hi & (1u << 10);
  const unsigned dpl = (hi >> 13) & 3;
  const bool long_mode = (hi & (1u << 21)) && !(hi & (1u << 22));
  if (!is_code || !long_mode || dpl > cpl) return Fault{vec::GP, sel_ec, std::nullopt};
  if (!(hi & (1u << 15))) return Fault{vec::NP, sel_ec, std::nullopt};
  const unsigned new_cpl = conforming ? cpl : dpl;

  // Stack: IST if the gate names one, else RSPn on a privilege change, else the current stack.
  uint64_t rsp = cpu.gpr(Gpr::Rsp);
  auto tr = cpu.tr();
  auto read_tss = [&](uint32_t offset, uint64_t& out) -> std::optional<Fault> {
    if (offset + 7 > tr.limit) return Fault{vec::TS, (tr.selector & 0xfffcu) | ext, std::nullopt};
    if (auto f = mem.load(tr.base + offset, out, 0)) return from_guest_fault(*f);
    return std::nullopt;
  };
  uint64_t new_rsp = rsp;
  if (ist != 0) {
    if (auto f = read_tss(0x24 + 8 * (ist - 1), new_rsp)) return f;
  } else if (new_cpl < cpl) {
    if (auto f = read_tss(4 + 8 * new_cpl, new_rsp)) return f;
  }
  if (!is_canonical(new_rsp)) return Fault{vec::SS, ext, std::nullopt};
  new_rsp &= ~0xfull;

  const SegmentState old_cs = cpu.segment(Seg::Cs);
  const SegmentState old_ss = cpu.segment(Seg::Ss);
  const uint64_t flags = cpu.rflags();
  uint64_t frame[6];
  int n = 0;
  if (ev.error_code) frame[n++] = *ev.error_code;
  frame[n++] = ev.return_rip;
  frame[n++] = old_cs.selector;
  frame[n++] = flags;
  frame[n++] = rsp;
  frame[n++] = old_ss.selector;
  // Frame in memory order (lowest address first).
  uint64_t mem_frame[6];
  for (int i = 0; i < n; ++i) mem_frame[i] = frame[i];
  new_rsp -= 8ull * n;
  if (auto f = mem.write(new_rsp, mem_frame, 8ull * n, 0)) {
    Fault fault = from_guest_fault(*f);
    if (fault.vector == vec::GP) fault = Fault{vec::SS, ext, std::nullopt};
    return fault;
  }

  SegmentState cs;
  cs.selector = static_cast<uint16_t>((selector & 0xfffc) | new_cpl);
  cs.base = 0;
  cs.limit = 0xffffffff;
  cs.attributes = (hi & 0x00f0ff00u) | (1u << 8);  // accessed
  cs.attributes = (cs.attributes & ~(3u << 13)) | (new_cpl << 13);
  cpu.set_segment(Seg::Cs, cs);
  if (new_cpl < cpl) {
    SegmentState ss;
    ss.selector = static_cast<uint16_t>(new_cpl);  // NULL selector with RPL = new CPL
    ss.attributes = new_cpl << 13;
    cpu.set_segment(Seg::Ss, ss);
  }
  uint64_t new_flags = flags & ~(rflags::TF | rflags::NT | rflags::RF | rflags::VM);
  if (type == 0xe) new_flags &= ~rflags::IF;
  cpu.set_gpr(Gpr::Rsp, new_rsp);
  cpu.set_rip(target);
  cpu.set_rflags(new_flags);  // last: it flushes the context image
  return std::nullopt;
}

}  // namespace

Event hardware_exception(uint8_t vector, uint64_t rip, uint32_t error_code) {
  Event e;
  e.vector = vector;
  e.type = EventType::HardwareException;
  e.return_rip = rip;
  e.instruction_rip = rip;
  if (vec::has_error_code(vector)) e.error_code = error_code;
  return e;
}

DeliveryOutcome deliver_event(UnicornCpu& cpu, LinearMemory& mem, const Event& first) {
  DeliveryOutcome out;
  Event ev = first;
  for (;;) {
    auto fault = try_deliver(cpu, mem, ev);
    if (!fault) {
      out.delivered = ev;
      return out;
    }
    ++out.nested_faults;
    if (ev.vector == vec::DF && ev.type == EventType::HardwareException) {
      out.result = DeliveryResult::TripleFault;
      out.delivered = ev;
      return out;
    }
    if (fault->cr2) cpu.set_cr(2, *fault->cr2);
    const bool first_contributory = ev.type == EventType::HardwareException && is_contributory(ev.vector);
    const bool first_pf = ev.type == EventType::HardwareException && ev.vector == vec::PF;
    const bool second_contributory = is_contributory(fault->vector);
    const bool double_fault = (first_contributory && second_contributory) ||
                              (first_pf && (second_contributory || fault->vector == vec::PF));
    // Benign combinations deliver the second exception instead (SDM 6.15, Table 6-5). Either
    // way the new event points at the instruction that raised the first.
    Event next = double_fault ? hardware_exception(vec::DF, ev.instruction_rip, 0)
                              : hardware_exception(fault->vector, ev.instruction_rip, fault->error_code);
    if (out.nested_faults > 3) {
      out.result = DeliveryResult::TripleFault;
      out.delivered = ev;
      return out;
    }
    ev = next;
  }
}

}  // namespace hvsim
