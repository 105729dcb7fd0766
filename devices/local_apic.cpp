#include "devices/local_apic.hpp"

#include <algorithm>

namespace hvsim {

LocalApic::LocalApic(Platform& platform) : platform_(platform) {}

int LocalApic::highest(const Bits256& b) {
  for (int w = 7; w >= 0; --w) {
    if (b[w]) return w * 32 + 31 - __builtin_clz(b[w]);
  }
  return -1;
}

uint32_t LocalApic::tpr() const {
  uint8_t cls = platform_.task_priority_class();
  return (uint32_t{cls} << 4) | (cls == tpr_low_class_ ? tpr_low_ : 0);
}

// SDM 11.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4.
uint32_t LocalApic::ppr(uint8_t tpr_class) const {
  int isrv = highest(isr_);
  uint32_t isr_class = isrv < 0 ? 0 : static_cast<uint32_t>(isrv) >> 4;
  return tpr_class >= isr_class ? tpr_class << 4 : isr_class << 4;
}

void LocalApic::raise(uint8_t vector) {
  if (vector < 16 || !(svr_ & apic_bits::SVR_ENABLE)) return;  // 0-15 are illegal vectors
  if (!(irr_[vector / 32] & (1u << (vector % 32)))) ++accepted_;
  set(irr_, vector);
}

bool LocalApic::would_deliver(uint8_t vector, uint8_t tpr_class) const {
  return vector >= 16 && (svr_ & apic_bits::SVR_ENABLE) && (vector >> 4) > (ppr(tpr_class) >> 4);
}

int LocalApic::deliverable(uint8_t tpr_class) const {
  int v = highest(irr_);
  if (v < 0 || (static_cast<uint32_t>(v) >> 4) <= (ppr(tpr_class) >> 4)) return -1;
  return v;
}

void LocalApic::acknowledge(uint8_t vector) {
  clear(irr_, vector);
  set(isr_, vector);
}

unsigned LocalApic::divide() const {
  // Bits 0, 1 and 3: 000 -> 2, 001 -> 4, ..., 110 -> 128, 111 -> 1.
  unsigned code = (divide_config_ & 3) | ((divide_config_ >> 1) & 4);
  return code == 7 ? 1 : 2u << code;
}

void LocalApic::stop_timer() {
  if (timer_running_) platform_.cancel_timer(timer_id_);
  timer_running_ = false;
}

void LocalApic::start_timer() {
  stop_timer();
  if (timer_initial_ == 0) return;
  timer_deadline_ = platform_.now_ns() + uint64_t{timer_initial_} * divide();
  timer_running_ = true;
  uint64_t deadline = timer_deadline_;
  timer_id_ = platform_.arm_timer(deadline, [this, deadline] { on_timer(deadline); }, [this] { return timer_vector(); });
}

int LocalApic::timer_vector() const {
  if (lvt_timer_ & apic_bits::LVT_MASKED) return -1;
  return static_cast<int>(lvt_timer_ & 0xff);
}

void LocalApic::on_timer(uint64_t deadline) {
  timer_running_ = false;
  ++expiries_;
  if (!(lvt_timer_ & apic_bits::LVT_MASKED)) raise(static_cast<uint8_t>(lvt_timer_ & 0xff));
  if ((lvt_timer_ & apic_bits::TIMER_PERIODIC) && timer_initial_ != 0) {
    timer_deadline_ = deadline + uint64_t{timer_initial_} * divide();
    timer_running_ = true;
    uint64_t next = timer_deadline_;
    timer_id_ = platform_.arm_timer(next, [this, next] { on_timer(next); }, [this] { return timer_vector(); });
  }
}

uint32_t LocalApic::current_count() const {
  if (!timer_running_) return 0;
  uint64_t now = platform_.now_ns();
  if (now >= timer_deadline_) return 0;
  uint64_t ticks = (timer_deadline_ - now + divide() - 1) / divide();
  return static_cast<uint32_t>(std::min<uint64_t>(ticks, timer_initial_));
}

uint32_t LocalApic::read_register(uint32_t reg) const {
  using namespace apic_reg;
  if (reg >= ISR && reg < ISR + 0x80) return isr_[(reg - ISR) / 0x10];
  if (reg >= IRR && reg < IRR + 0x80) return irr_[(reg - IRR) / 0x10];
  if (reg >= TMR && reg < TMR + 0x80) return 0;  // edge-triggered only
  switch (reg) {
    case ID: return 0;                 // APIC ID 0 (one vCPU)
    case VERSION: return 0x00050014;   // version 0x14, 6 LVT entries
    case TPR: return tpr();
    case PPR: return ppr(platform_.task_priority_class());
    case LDR: return ldr_;
    case DFR: return dfr_;
    case SVR: return svr_;
    case ESR: return 0;
    case LVT_TIMER: return lvt_timer_;
    case LVT_LINT0: return lvt_lint0_;
    case LVT_LINT1: return lvt_lint1_;
    case LVT_ERROR: return lvt_error_;
    case TIMER_INITIAL: return timer_initial_;
    case TIMER_CURRENT: return current_count();
    case TIMER_DIVIDE: return divide_config_;
    default: return 0;
  }
}

void LocalApic::write_register(uint32_t reg, uint32_t value) {
  using namespace apic_reg;
  constexpr uint32_t kLvtMask = 0xff | apic_bits::LVT_MASKED;
  switch (reg) {
    case TPR:
      platform_.set_task_priority_class(static_cast<uint8_t>((value >> 4) & 0xf));
      tpr_low_ = value & 0xf;
      tpr_low_class_ = (value >> 4) & 0xf;
      break;
    case EOI:
      if (int v = highest(isr_); v >= 0) clear(isr_, static_cast<uint8_t>(v));
      break;
    case LDR: ldr_ = value & 0xff000000; break;
    case DFR: dfr_ = value | 0x0fffffff; break;
    case SVR:
      svr_ = value & 0x1ff;
      if (!(svr_ & apic_bits::SVR_ENABLE)) {
        // Software disable masks every LVT entry (SDM 11.4.7.2).
        for (uint32_t* lvt : {&lvt_timer_, &lvt_lint0_, &lvt_lint1_, &lvt_error_}) *lvt |= apic_bits::LVT_MASKED;
      }
      break;
    case LVT_TIMER: {
      uint32_t v = value & (kLvtMask | apic_bits::TIMER_PERIODIC);
      if (!(svr_ & apic_bits::SVR_ENABLE)) v |= apic_bits::LVT_MASKED;
      lvt_timer_ = v;
      break;
    }
    case LVT_LINT0: lvt_lint0_ = value & 0x1f7ff; break;
    case LVT_LINT1: lvt_lint1_ = value & 0x1f7ff; break;
    case LVT_ERROR: lvt_error_ = value & kLvtMask; break;
    case TIMER_INITIAL:
      timer_initial_ = value;
      start_timer();
      break;
    case TIMER_DIVIDE: divide_config_ = value & 0xb; break;
    default: break;  // read-only or reserved: ignored
  }
}

uint64_t LocalApic::mmio_read(uint64_t offset, unsigned size) {
  if (size != 4 || (offset & 0xf) != 0 || offset >= kLocalApicSize) {
    ++malformed_;
    return 0;
  }
  return read_register(static_cast<uint32_t>(offset));
}

void LocalApic::mmio_write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4 || (offset & 0xf) != 0 || offset >= kLocalApicSize) {
    ++malformed_;
    return;
  }
  write_register(static_cast<uint32_t>(offset), static_cast<uint32_t>(value));
}

}  // namespace hvsim
