#pragma once
// The agent's per-target series as a prometheus::Collectable. Collect() gives prometheus-cpp's
// families (the seam its serializers take); append_text writes the same lines straight from the
// targets' cells and configs, building no MetricFamily per scrape (at 10,000 targets those were
// ~100,000 label vectors and strings allocated and freed on every render).
#include <prometheus/collectable.h>

#include <mutex>
#include <string>
#include <vector>

#include "watchpost/agent/metrics.hpp"

namespace watchpost::agent::detail {

class target_families : public prometheus::Collectable {
 public:
  void add(const target_metrics& metrics);
  void remove(const target_metrics& metrics);
  std::vector<prometheus::MetricFamily> Collect() const override;
  // The text exposition of what Collect() returns, appended to `out`.
  void append_text(std::string& out) const;

 private:
  template <class Sink>
  void visit(Sink& sink) const;  // every family and series, in order (defined in the .cpp only)

  mutable std::mutex mutex_;  // add and remove (control thread) against a render
  std::vector<const target_metrics*> targets_;
};

}  // namespace watchpost::agent::detail
