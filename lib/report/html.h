// Text for the report page: HTML escaping of anything read from files, and numbers as SVG and the
// page write them. It builds no markup of its own.
#pragma once

#include <string>
#include <string_view>

namespace repro {

// `text` safe as HTML, SVG or XML content or a quoted attribute value: & < > " ' as entities,
// control characters other than tab and newline as U+FFFD (which XML 1.0 allows; the control
// characters it does not).
std::string html_escape(std::string_view text);

// A coordinate in SVG: two decimals, "12.50".
std::string svg_number(double value);

}  // namespace repro
