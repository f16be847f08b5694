// The memory-plan report: a table for people (stdout) and JSON for tools
// (--report-json, schema in docs/report.md).
#pragma once

#include <string>

#include "passes/pipeline.h"

namespace bitgpt {

std::string format_report(const CompiledModel& c);
std::string report_json(const CompiledModel& c);

}  // namespace bitgpt
