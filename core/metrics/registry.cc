#include "core/metrics/registry.h"

#include <cmath>
#include <sstream>

namespace ambit::metrics {
namespace {

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string labelsWith(const Labels& labels, const std::string& extra_key = "",
                       const std::string& extra_value = "") {
  std::string out;
  auto add = [&](const std::string& k, const std::string& v) {
    out += out.empty() ? "{" : ",";
    out += k + "=\"" + escape(v) + "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_key.empty()) add(extra_key, extra_value);
  return out.empty() ? "" : out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string labelText(const Labels& labels) { return labelsWith(labels); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(std::max(0.0, value) * 1e6)),
                        std::memory_order_relaxed);
}

Histogram::Data Histogram::data() const {
  Data d;
  d.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    d.cumulative.push_back(running);
  }
  d.count = running;
  d.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return d;
}

Registry::Family& Registry::family(const std::string& name, const std::string& help,
                                   const char* type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  }
  return it->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = family(name, help, "counter").counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = family(name, help, "gauge").gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = family(name, help, "histogram").histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::collect(const std::string& name, const std::string& help, const char* type,
                       std::function<void(std::string& out)> write) {
  std::lock_guard<std::mutex> lock(mu_);
  family(name, help, type).collector = std::move(write);
}

std::string Registry::render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << f.type << "\n";
    for (const auto& [labels, c] : f.counters)
      out << name << labelText(labels) << " " << c->value() << "\n";
    for (const auto& [labels, g] : f.gauges)
      out << name << labelText(labels) << " " << g->value() << "\n";
    for (const auto& [labels, h] : f.histograms) {
      const Histogram::Data d = h->data();
      for (size_t i = 0; i <= d.bounds.size(); ++i) {
        const double le = i < d.bounds.size() ? d.bounds[i] : INFINITY;
        out << name << "_bucket" << labelsWith(labels, "le", number(le)) << " " << d.cumulative[i]
            << "\n";
      }
      out << name << "_sum" << labelText(labels) << " " << number(d.sum) << "\n";
      out << name << "_count" << labelText(labels) << " " << d.count << "\n";
    }
    if (f.collector) {
      std::string lines;
      f.collector(lines);
      out << lines;
    }
  }
  return out.str();
}

}  // namespace ambit::metrics
