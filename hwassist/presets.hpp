#pragma once
// Named VMCS configurations.
// - vtx-2006: first-generation VT-x as Adams & Agesen measured it (ASPLOS 2006): no EPT
//   (shadow paging, so #PF, CR3 loads and stores and INVLPG exit), no TPR shadow (CR8 reads
//   and writes exit), no VPID, every I/O instruction and MSR access exits.
// - vtx-ept: a KVM-like configuration on later hardware: EPT (no #PF, CR3 or INVLPG exits),
//   VPID, TPR shadow, RDTSCP, unrestricted guest, MSR bitmaps passing the hot MSRs through,
//   I/O always exiting, #AC and #MC intercepted.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mem/paging_mode.hpp"
#include "hwassist/vmcs.hpp"

namespace hvsim::vmx {

struct Preset {
  std::string name;
  std::string description;
  PagingMode paging;
  Vmcs vmcs;
  // Shadow paging's write-flooding release (ShadowPaging::kDefaultFloodLimit); 0: every write
  // to a guest page table is traced, as the VMMs of 2006 did.
  unsigned shadow_flood_limit = 3;
};

std::optional<Preset> preset(std::string_view name);
// The preset with memory virtualized another way (`--paging` overrides the preset): EPT on or
// off, and with it the exits shadow paging needs (#PF, CR3 loads and stores, INVLPG).
void use_paging(Preset& p, PagingMode paging);
std::vector<std::string> preset_names();

}  // namespace hvsim::vmx
