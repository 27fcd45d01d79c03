// Softmax + sparse categorical cross-entropy from logits, and argmax accuracy.
// Computed per sample in double (log-sum-exp with the max subtracted), summed in sample order.
// Argmax is taken on the logits (softmax is monotonic); ties go to the first index.
#include <cmath>
#include <string>
#include <vector>

#include "backend/reference/reference_ops.h"
#include "core/error.h"

namespace repro::reference {

LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int n, int k,
                               float* dlogits, float grad_scale) {
  LossSums sums;
  std::vector<double> exps(k);
  for (int b = 0; b < n; b++) {
    const float* z = logits + size_t(b) * k;  // (K)
    int32_t label = labels[b];
    REPRO_CHECK(label >= 0 && label < k, "label " + std::to_string(label) + " of sample " +
                                             std::to_string(b) + " is outside [0, " +
                                             std::to_string(k) + ")");
    int best = 0;
    for (int j = 1; j < k; j++)
      if (z[j] > z[best]) best = j;
    double max = z[best];
    double total = 0;
    for (int j = 0; j < k; j++) {
      exps[j] = std::exp(double(z[j]) - max);
      total += exps[j];
    }
    double log_total = std::log(total);
    sums.loss += max + log_total - double(z[label]);
    if (best == label) sums.correct++;
    if (dlogits) {
      for (int j = 0; j < k; j++) {
        double p = exps[j] / total;
        dlogits[size_t(b) * k + j] = float((p - (j == label ? 1.0 : 0.0)) * grad_scale);
      }
    }
  }
  return sums;
}

}  // namespace repro::reference
