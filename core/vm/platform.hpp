#pragma once
// What devices see of the machine they are plugged into. Devices (devices/) implement PortIo
// and MmioHandler and talk back only through Platform; core/ never includes devices/.
#include <cstdint>
#include <functional>

#include "core/cpu/cpu_memory.hpp"

namespace hvsim {

class PortIo {
 public:
  virtual ~PortIo() = default;
  // size is 1, 2 or 4.
  virtual uint32_t port_read(uint16_t port, unsigned size) = 0;
  virtual void port_write(uint16_t port, unsigned size, uint32_t value) = 0;
  // Whether a device answers at `port`; an access nobody claims reads all ones and writes
  // nothing. The set is fixed once the VM is built. true when the bus cannot tell.
  virtual bool claimed(uint16_t) const { return true; }
};

class Platform {
 public:
  virtual ~Platform() = default;
  virtual uint64_t now_ns() const = 0;
  // `raises` tells what the callback will raise as things stand when asked (the vector, or
  // -1 for nothing): a halted vCPU whose every interrupt is masked learns from it whether
  // anything can still wake it (TimerQueue::Raises).
  virtual uint64_t arm_timer(uint64_t deadline_ns, std::function<void()> cb, std::function<int()> raises) = 0;
  virtual void cancel_timer(uint64_t id) = 0;
  virtual void raise_interrupt(uint8_t vector) = 0;
  virtual void request_exit(int status) = 0;
  virtual void console_output(char c) = 0;
  // The task-priority class, which the CPU holds as CR8 (a local APIC's TPR[7:4]).
  virtual uint8_t task_priority_class() const = 0;
  virtual void set_task_priority_class(uint8_t cls) = 0;
};

// Where external interrupts wait for the CPU. The VM asks it for the vector to deliver and
// tells it when one was delivered; a local APIC adds in-service tracking and EOI.
class InterruptController {
 public:
  virtual ~InterruptController() = default;
  virtual void raise(uint8_t vector) = 0;
  // The vector the CPU should take now, given its task-priority class (CR8), or -1.
  virtual int deliverable(uint8_t task_priority_class) const = 0;
  // Whether `vector`, raised now, could be delivered at this task-priority class (not held
  // back by the TPR, by a vector in service, or dropped by a disabled controller).
  virtual bool would_deliver(uint8_t vector, uint8_t task_priority_class) const = 0;
  // The CPU took `vector` (it is now in service).
  virtual void acknowledge(uint8_t vector) = 0;
  // Interrupts accepted so far (a vector already pending is not counted again): the VM tells
  // its engine about each new one (an external-interrupt exit under vtx).
  virtual uint64_t accepted() const = 0;
};

// The controller of a VM without an APIC (flat guests): a pending set, nothing in service, so
// only the TPR holds interrupts back.
class PendingVectors : public InterruptController {
 public:
  void raise(uint8_t vector) override {
    if (vector < 32) return;
    uint64_t bit = 1ull << (vector % 64);
    if (!(pending_[vector / 64] & bit)) ++accepted_;
    pending_[vector / 64] |= bit;
  }
  uint64_t accepted() const override { return accepted_; }
  int deliverable(uint8_t tpr_class) const override {
    for (int w = 3; w >= 0; --w) {
      if (pending_[w]) {
        int v = w * 64 + 63 - __builtin_clzll(pending_[w]);
        return (v >> 4) > tpr_class ? v : -1;
      }
    }
    return -1;
  }
  bool would_deliver(uint8_t vector, uint8_t tpr_class) const override {
    return vector >= 32 && (vector >> 4) > tpr_class;
  }
  void acknowledge(uint8_t vector) override { pending_[vector / 64] &= ~(1ull << (vector % 64)); }

 private:
  uint64_t pending_[4] = {};
  uint64_t accepted_ = 0;
};

}  // namespace hvsim
