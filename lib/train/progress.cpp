// Keras 3 Progbar's text, reimplemented from its documented behaviour: bar width 20 of "━",
// "%Nd/%d" step counter, ETA or elapsed seconds, time per step, then " - name: value".
// No terminal handling here (no \r, no width padding): the app does that.
#include "train/progress.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace repro {

bool use_color(bool terminal) {
  const char* no_color = std::getenv("NO_COLOR");
  return terminal && (no_color == nullptr || *no_color == '\0');
}

namespace {

constexpr int kBarWidth = 20;
const char* const kBarCell = "\u2501";  // ━

std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string repeat_cell(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += kBarCell;
  return out;
}

}  // namespace

std::string format_step_time(double seconds_per_step) {
  if (seconds_per_step >= 1 || seconds_per_step == 0)
    return printf_string(" %.0fs/step", seconds_per_step);
  if (seconds_per_step >= 1e-3) return printf_string(" %.0fms/step", seconds_per_step * 1e3);
  return printf_string(" %.0fus/step", seconds_per_step * 1e6);
}

Progbar::Progbar(int64_t target, bool color, double start_seconds)
    : target_(target), color_(color), start_(start_seconds) {}

std::string Progbar::line(int64_t current,
                          const std::vector<std::pair<std::string, double>>& metrics, bool final,
                          double now_seconds) {
  const char* bold = color_ ? "\x1b[1m" : "";
  const char* green = color_ ? "\x1b[32m" : "";
  const char* white = color_ ? "\x1b[37m" : "";
  const char* reset = color_ ? "\x1b[0m" : "";

  double per_step = 0;
  if (current > 0) {
    if (after_first_step_ >= 0 && current > 1) {
      per_step = (now_seconds - after_first_step_) / static_cast<double>(current - 1);
    } else {
      per_step = (now_seconds - start_) / static_cast<double>(current);
    }
    if (current == 1) after_first_step_ = now_seconds;
  }

  const int digits =
      target_ > 0 ? static_cast<int>(std::log10(static_cast<double>(target_))) + 1 : 1;
  char counter[64];
  std::snprintf(counter, sizeof(counter), "%*lld/%lld", digits, static_cast<long long>(current),
                static_cast<long long>(target_));
  std::string out = std::string(bold) + counter + reset + " ";
  const int done = target_ > 0 ? static_cast<int>(kBarWidth * (static_cast<double>(current) /
                                                               static_cast<double>(target_)))
                               : 0;
  if (done > 0) out += std::string(green) + repeat_cell(done) + reset;
  out += std::string(white) + repeat_cell(kBarWidth - done) + reset;

  if (!final) {
    const double eta = per_step * static_cast<double>(target_ - current);
    char eta_text[32];
    const long long e = static_cast<long long>(eta);
    if (eta > 3600) {
      std::snprintf(eta_text, sizeof(eta_text), "%lld:%02lld:%02lld", e / 3600, (e % 3600) / 60,
                    e % 60);
    } else if (eta > 60) {
      std::snprintf(eta_text, sizeof(eta_text), "%lld:%02lld", e / 60, e % 60);
    } else {
      std::snprintf(eta_text, sizeof(eta_text), "%llds", e);
    }
    out += std::string(" ") + bold + eta_text + reset;
  } else {
    out += std::string(" ") + bold + printf_string("%.0fs", now_seconds - start_) + reset;
  }
  out += format_step_time(per_step);
  for (const auto& [name, value] : metrics) {
    out += " - " + name + ":";
    out += std::fabs(value) > 1e-3 ? printf_string(" %.4f", value) : printf_string(" %.4e", value);
  }
  return out;
}

}  // namespace repro
