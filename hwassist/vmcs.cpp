#include "hwassist/vmcs.hpp"

#include <cstddef>

#include "hwassist/exit_reasons.hpp"

namespace hvsim::vmx {

const char* field_name(Field f) {
  switch (f) {
#define HVSIM_VMCS_FIELD_NAME(name, encoding) \
  case Field::name: return #name;
    HVSIM_VMCS_FIELDS(HVSIM_VMCS_FIELD_NAME)
#undef HVSIM_VMCS_FIELD_NAME
  }
  return "?";
}

bool is_known_field(uint32_t encoding) {
  switch (encoding) {
#define HVSIM_VMCS_FIELD_CASE(name, encoding) case encoding:
    HVSIM_VMCS_FIELDS(HVSIM_VMCS_FIELD_CASE)
#undef HVSIM_VMCS_FIELD_CASE
    return true;
  }
  return false;
}

unsigned field_width(uint32_t encoding) {
  switch ((encoding >> 13) & 3) {
    case 0: return 16;
    case 2: return 32;
    default: return 64;
  }
}

const char* exit_reason_name(ExitReason r) { return exit_reason_name(static_cast<unsigned>(r)); }

const char* exit_reason_name(unsigned number) {
  switch (number) {
#define HVSIM_EXIT_NAME(name, num, text) \
  case num: return text;
    HVSIM_EXIT_REASONS(HVSIM_EXIT_NAME)
#undef HVSIM_EXIT_NAME
  }
  return "?";
}

Vmcs::Vmcs() {
  set(Field::PIN_BASED_VM_EXEC_CONTROL, pin::kDefault1);
  set(Field::CPU_BASED_VM_EXEC_CONTROL, proc::kDefault1);
  set(Field::VM_EXIT_CONTROLS, exit_ctl::kDefault1);
  set(Field::VM_ENTRY_CONTROLS, entry_ctl::kDefault1);
  set(Field::VMCS_LINK_POINTER, ~0ull);
}

InstructionError Vmcs::read(uint32_t encoding, uint64_t& value) const {
  if (!is_known_field(encoding)) return InstructionError::UnsupportedVmcsComponent;
  auto it = fields_.find(encoding);
  value = it == fields_.end() ? 0 : it->second;
  return InstructionError::None;
}

InstructionError Vmcs::write(uint32_t encoding, uint64_t value) {
  if (!is_known_field(encoding)) return InstructionError::UnsupportedVmcsComponent;
  if (is_read_only(encoding)) return InstructionError::WriteToReadOnlyComponent;
  unsigned width = field_width(encoding);
  if (width < 64) value &= (1ull << width) - 1;
  fields_[encoding] = value;
  return InstructionError::None;
}

uint64_t Vmcs::get(Field f) const {
  auto it = fields_.find(static_cast<uint32_t>(f));
  return it == fields_.end() ? 0 : it->second;
}

void Vmcs::set(Field f, uint64_t v) { fields_[static_cast<uint32_t>(f)] = v; }

void Vmcs::set_io_exiting(uint16_t port, bool exits) {
  uint8_t& byte = io_bitmaps_[port / 8];
  byte = static_cast<uint8_t>(exits ? byte | (1u << (port % 8)) : byte & ~(1u << (port % 8)));
}

bool Vmcs::io_bitmap_exits(uint16_t port) const { return io_bitmaps_[port / 8] & (1u << (port % 8)); }

namespace {
// Offset of an MSR's bit in the bitmap's read half, or -1 outside both ranges.
int msr_bit(uint32_t msr) {
  if (msr <= 0x1fff) return static_cast<int>(msr);
  if (msr >= 0xc0000000 && msr <= 0xc0001fff) return static_cast<int>(1024 * 8 + (msr - 0xc0000000));
  return -1;
}
}  // namespace

void Vmcs::set_msr_exiting(uint32_t msr, bool on_read, bool on_write) {
  int bit = msr_bit(msr);
  if (bit < 0) return;
  auto put = [&](int b, bool v) {
    uint8_t& byte = msr_bitmap_[static_cast<size_t>(b / 8)];
    byte = static_cast<uint8_t>(v ? byte | (1u << (b % 8)) : byte & ~(1u << (b % 8)));
  };
  put(bit, on_read);
  put(bit + 2048 * 8, on_write);  // the write halves follow the read halves
}

bool Vmcs::msr_bitmap_exits(uint32_t msr, bool write) const {
  int bit = msr_bit(msr);
  if (bit < 0) return true;
  if (write) bit += 2048 * 8;
  return msr_bitmap_[static_cast<size_t>(bit / 8)] & (1u << (bit % 8));
}

}  // namespace hvsim::vmx
