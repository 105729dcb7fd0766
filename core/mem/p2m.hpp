#pragma once
// A guest's physical-to-machine map: which machine frames back each guest-physical range.
// Guest RAM is one contiguous machine range today; the map is the single place that says so,
// so EPT tables, shadow entries and isolation checks all derive from it.
#include <cstdint>
#include <optional>
#include <vector>

namespace hvsim {

struct P2mRange {
  uint64_t gpa = 0, mpa = 0, size = 0;
};

class P2m {
 public:
  void add(P2mRange r) { ranges_.push_back(r); }
  const std::vector<P2mRange>& ranges() const { return ranges_; }
  std::optional<uint64_t> machine_address(uint64_t gpa) const {
    for (const auto& r : ranges_)
      if (gpa >= r.gpa && gpa - r.gpa < r.size) return r.mpa + (gpa - r.gpa);
    return std::nullopt;
  }

 private:
  std::vector<P2mRange> ranges_;
};

}  // namespace hvsim
