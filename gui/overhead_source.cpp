#include "gui/overhead_source.hpp"

#include <thread>
#include <variant>

#include "app/compare.hpp"

namespace hvsim::gui {

OverheadSource::OverheadSource(std::string scenario_path, std::string build_dir)
    : scenario_path_(std::move(scenario_path)), build_dir_(std::move(build_dir)) {}

Result<void> OverheadSource::load(const std::string& path) {
  auto d = load_overhead(path);
  if (!d) return d.error();
  std::lock_guard lock(shared_->mutex);
  shared_->state.data = std::make_shared<const OverheadData>(std::move(*d));
  shared_->state.origin = path;
  return {};
}

void OverheadSource::measure(std::vector<std::string> engines, std::string profile) {
  if (!can_measure()) return;
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->state.measuring) return;
    shared_->state.measuring = true;
    shared_->state.error.clear();
    shared_->state.started = std::chrono::steady_clock::now();
  }
  CompareRequest request;
  request.scenario_path = scenario_path_;
  request.build_dir = build_dir_;
  request.engines = std::move(engines);
  request.profile = profile;
  request.progress = false;
  std::thread([shared = shared_, request, profile] {
    auto outcome = run_compare(request);
    std::shared_ptr<const OverheadData> data;
    std::string error;
    if (auto* failed = std::get_if<CompareError>(&outcome)) {
      error = failed->message;
    } else {
      // The same path as a file: the JSON is the one interface between compare and the view.
      auto parsed = parse_overhead(compare_json(std::get<CompareResult>(outcome)));
      if (parsed) {
        data = std::make_shared<const OverheadData>(std::move(*parsed));
      } else {
        error = parsed.error().message;
      }
    }
    std::lock_guard lock(shared->mutex);
    shared->state.measuring = false;
    shared->state.error = error;
    if (data) {
      shared->state.data = std::move(data);
      shared->state.origin = "measured now, profile " + profile;
    }
  }).detach();
}

OverheadSource::State OverheadSource::state() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->state;
}

}  // namespace hvsim::gui
