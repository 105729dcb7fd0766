#pragma once
// A virtual-machine control structure: the fields the VMM writes (controls, bitmaps, guest and
// host state) and the exit information the processor writes on a VM exit. Fields are read
// and written by their SDM encodings, with the SDM's errors for unknown or read-only fields.
// The I/O and MSR bitmaps live in the VMM's memory, beside the VMCS.
#include <array>
#include <cstdint>
#include <unordered_map>

#include "hwassist/vmcs_fields.hpp"
#include "hwassist/vmx_controls.hpp"

namespace hvsim::vmx {

class Vmcs {
 public:
  Vmcs();
  // VMREAD / VMWRITE: InstructionError::None on success.
  InstructionError read(uint32_t encoding, uint64_t& value) const;
  InstructionError write(uint32_t encoding, uint64_t value);
  uint64_t get(Field f) const;
  void set(Field f, uint64_t v);
  // What the processor writes on a VM exit (bypasses the read-only rule).
  void set_exit_info(Field f, uint64_t v) { fields_[static_cast<uint32_t>(f)] = v; }

  uint32_t pin() const { return static_cast<uint32_t>(get(Field::PIN_BASED_VM_EXEC_CONTROL)); }
  uint32_t proc() const { return static_cast<uint32_t>(get(Field::CPU_BASED_VM_EXEC_CONTROL)); }
  // Secondary controls count only when the primary controls activate them (SDM 25.6.2).
  uint32_t proc2() const {
    return (proc() & proc::ACTIVATE_SECONDARY) ? static_cast<uint32_t>(get(Field::SECONDARY_VM_EXEC_CONTROL)) : 0;
  }

  // I/O bitmaps A (ports 0-0x7fff) and B (0x8000-0xffff), the MSR bitmap (SDM 25.6.4, 25.6.9).
  void set_io_exiting(uint16_t port, bool exits);
  bool io_bitmap_exits(uint16_t port) const;
  void set_msr_exiting(uint32_t msr, bool on_read, bool on_write);
  // Whether an access to `msr` exits through the bitmap (MSRs outside both ranges always exit).
  bool msr_bitmap_exits(uint32_t msr, bool write) const;

 private:
  std::unordered_map<uint32_t, uint64_t> fields_;
  std::array<uint8_t, 8192> io_bitmaps_{};
  std::array<uint8_t, 4096> msr_bitmap_{};
};

}  // namespace hvsim::vmx
