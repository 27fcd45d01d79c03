// Keras 3's progress bar text ("938/938 ━━━━━━━━━━━━━━━━━━━━ 26s 27ms/step - accuracy: 0.5418 -
// loss: 1.2867"), with its step-time estimate that ignores the first step. It only formats:
// the caller decides where and how often to print (\r on a terminal, one line per epoch otherwise).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace repro {

class Progbar {
 public:
  // `target` steps; `color` adds Keras's ANSI bold/green/white (only for terminals).
  Progbar(int64_t target, bool color, double start_seconds);

  // The line at step `current` (1-based, steps done) at time `now_seconds` (same clock as the
  // start). Not final: the ETA; final: the elapsed seconds. Metrics print as %.4f (%.4e when
  // |value| <= 1e-3), in the order given.
  std::string line(int64_t current, const std::vector<std::pair<std::string, double>>& metrics,
                   bool final, double now_seconds);

 private:
  int64_t target_;
  bool color_;
  double start_;
  double after_first_step_ = -1;  // time when step 1 finished; later estimates exclude step 1
};

// Whether output to a terminal gets colour: yes, unless NO_COLOR is set to anything non-empty
// (no-color.org); never when it is not a terminal.
bool use_color(bool terminal);

// Keras's time per step: " 27ms/step", " 2s/step", " 350us/step".
std::string format_step_time(double seconds_per_step);

}  // namespace repro
