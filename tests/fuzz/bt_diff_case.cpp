#include "bt_diff_case.hpp"

#include <utility>

#include "bt_diff_compare.hpp"

namespace hvsim::fuzz::bt_diff {

Outcome run_case(const Case& c, const std::vector<bool>& keep, Image* built) {
  Outcome o;
  Image img = build_image(c, keep);
  if (!img.error.empty()) {
    o.error = img.error;
    return o;
  }
  o.native = run_image(img.bytes, "native", PagingMode::Native, false);
  o.bt = run_image(img.bytes, "bt", c.paging, c.paging_given);
  o.diffs = compare(o.native, o.bt);
  if (o.native.hung) o.diffs.insert(o.diffs.begin(), "native run hung (stopped by the watchdog)");
  if (o.bt.hung) o.diffs.insert(o.diffs.begin(), "bt run hung (stopped by the watchdog)");
  if (built) *built = std::move(img);
  return o;
}

std::vector<bool> reduce(const Case& c, const std::string& sig) {
  std::vector<bool> keep(c.body.size(), true);
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = c.body.size(); i-- > 0;) {
      if (!keep[i]) continue;
      keep[i] = false;
      Outcome o = run_case(c, keep);
      if (o.error.empty() && signature(o.diffs) == sig) {
        progress = true;
      } else {
        keep[i] = true;
      }
    }
  }
  return keep;
}

}  // namespace hvsim::fuzz::bt_diff
