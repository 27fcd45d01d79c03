// steps.csv formatting: the same float text as history.json, so a row's running loss equals the
// progress bar's and history's last value bit for bit at the epoch's end.
#include "record/steps.h"

#include <cstdio>

#include "record/history.h"

namespace repro {

std::string steps_to_csv(const std::vector<StepRecord>& rows) {
  std::string out = "step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds\n";
  for (const StepRecord& r : rows) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", r.wall_seconds);
    out += std::to_string(r.step) + "," + std::to_string(r.epoch) + "," +
           std::to_string(r.batch) + "," + python_float_repr(r.accuracy) + "," +
           python_float_repr(r.loss) + "," + python_float_repr(r.batch_loss) + "," +
           python_float_repr(r.learning_rate) + "," + seconds + "\n";
  }
  return out;
}

}  // namespace repro
