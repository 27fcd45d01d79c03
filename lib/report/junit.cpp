// The JUnit XML writer.
#include "report/junit.h"

#include <cstdio>

#include "report/html.h"

namespace repro {

std::string junit_xml(const std::string& suite, const std::vector<JunitCase>& cases,
                      double seconds) {
  size_t failures = 0;
  for (const JunitCase& c : cases) failures += !c.failure.empty();
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%.3f", seconds);
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"repro\" tests=\"" + std::to_string(cases.size()) + "\" failures=\"" +
         std::to_string(failures) + "\" time=\"" + time_text + "\">\n";
  xml += "  <testsuite name=\"" + html_escape(suite) + "\" tests=\"" +
         std::to_string(cases.size()) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" skipped=\"0\" time=\"" + time_text + "\">\n";
  for (const JunitCase& c : cases) {
    xml += "    <testcase classname=\"" + html_escape(c.classname) + "\" name=\"" +
           html_escape(c.name) + "\"";
    if (c.failure.empty()) {
      xml += "/>\n";
    } else {
      xml += ">\n      <failure message=\"" + html_escape(c.failure) +
             "\" type=\"not bit-identical\">" + html_escape(c.failure) +
             "</failure>\n    </testcase>\n";
    }
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

}  // namespace repro
