// steps.csv in a run folder: one row every training.log.every optimizer steps, as Keras's
// CSVLogger writes one per epoch. The trainer fills the rows; this file formats and reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repro {

struct StepRecord {
  int64_t step = 0;      // global optimizer step, 1-based
  int epoch = 0;         // 1-based
  int64_t batch = 0;     // batch index within the epoch, 0-based
  float accuracy = 0;    // running mean over the epoch so far (what the progress bar shows)
  float loss = 0;        //   "
  float batch_loss = 0;  // this batch's own mean loss
  float learning_rate = 0;
  double wall_seconds = 0;  // training time since the run began (all epochs, resumes included)
};

// "step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds" and one line a row;
// floats as Python's repr of the float32 (round-trip exact), seconds to the millisecond.
std::string steps_to_csv(const std::vector<StepRecord>& rows);

// The most bytes read from a steps.csv: about 800,000 rows (a row at every step of a long run).
constexpr int64_t kMaxStepsFileBytes = int64_t{64} << 20;

// Reads the rows back. Columns are found by the header's names (all eight must be there; others
// are ignored). Throws InputError "file:line:col: message" for a missing column, a row of the
// wrong width or a value that is not a number of its kind.
std::vector<StepRecord> parse_steps_csv(const std::string& text, const std::string& file_label);
std::vector<StepRecord> read_steps(const std::string& path);

}  // namespace repro
