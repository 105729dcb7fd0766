#pragma once
// The checks a processor makes on VM entry (Intel SDM Vol. 3C, 26.2 and 26.3.1.1): a VMCS the
// hardware would refuse is refused here with the same outcome, a VM-instruction error (7:
// invalid control fields, 8: invalid host state) or an entry failure exit (33: invalid guest
// state), and a sentence naming the rule.
#include <cstdint>
#include <optional>
#include <string>

#include "hwassist/vmcs.hpp"

namespace hvsim::vmx {

struct EntryFailure {
  InstructionError error = InstructionError::None;  // VMfailValid
  uint32_t exit_reason = 0;                         // or a failed entry: reason | bit 31
  std::string rule;
};

// `guest_efer`/`guest_cr0`/`guest_cr4`: the guest state the VMM is about to enter.
std::optional<EntryFailure> check_vm_entry(const Vmcs& vmcs, uint64_t guest_cr0, uint64_t guest_cr4, uint64_t guest_efer);

}  // namespace hvsim::vmx
