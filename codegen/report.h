// The memory-plan report: a table for people (stdout) and JSON for tools
// (--report-json, schema in docs/report.md).
#pragma once

#include <string>

#include "codegen/provenance.h"
#include "passes/pipeline.h"

namespace bitgpt {

std::string format_report(const CompiledModel& c, const Provenance& p = {});
std::string report_json(const CompiledModel& c, const Provenance& p = {});
// One self-contained page: an SVG timeline of the arena, SRAM and flash against their
// budgets, the per-layer table and the provenance; no scripts, nothing fetched.
std::string report_html(const CompiledModel& c, const Provenance& p = {});

// The clock the time estimates use: the given one, else the target's typical clock.
double report_clock_mhz(const CompiledModel& c, const Provenance& p);

}  // namespace bitgpt
