// JUnit XML as GitLab, Jenkins and GitHub test reporters read it, for `repro check --junit`:
// one testsuite, a testcase per compared item and pair of runs, a <failure> where they differ.
// It decides nothing about what is compared; the caller lists the cases.
#pragma once

#include <string>
#include <vector>

namespace repro {

// One compared item of one pair of runs.
struct JunitCase {
  std::string classname;  // "repro check configs/x.yaml: threads=1 vs threads=2"
  std::string name;       // "loss", "weights", "trace"
  std::string failure;    // empty: passed
};

// The whole document; every string escaped with html_escape (valid XML 1.0 too).
std::string junit_xml(const std::string& suite, const std::vector<JunitCase>& cases,
                      double seconds);

}  // namespace repro
