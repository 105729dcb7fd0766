#include "core/vm/flat_loader.hpp"

namespace hvsim {

Result<void> load_flat_guest(Vm& vm, const std::vector<uint8_t>& image) {
  GuestRam& ram = vm.ram();
  if (image.empty()) return make_error("flat guest image is empty");
  if (!ram.contains(kFlatLoadAddress, image.size())) {
    return make_error("flat guest image of " + std::to_string(image.size()) + " bytes does not fit in " +
                      std::to_string(ram.size() >> 20) + " MiB of RAM at 0x100000");
  }
  ram.write(kFlatLoadAddress, image.data(), image.size());
  LongModeEntry entry;
  entry.rip = kFlatLoadAddress;
  return enter_long_mode(vm, entry);
}

}  // namespace hvsim
