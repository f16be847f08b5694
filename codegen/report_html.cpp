// report_html: the plan as one self-contained page (inline SVG and CSS, no scripts, nothing
// fetched), for people deciding what fits where.
#include <fmt/format.h>

#include <algorithm>

#include "codegen/layer_summary.h"
#include "codegen/report.h"

namespace bitgpt {

namespace {

std::string escape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    switch (ch) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      default: r += ch;
    }
  }
  return r;
}

// The layer a buffer belongs to, from its name ("l3.q" -> 3), or -1 (shared buffers).
int buffer_layer(const std::string& name) {
  if (name.size() < 3 || name[0] != 'l' || !std::isdigit(static_cast<unsigned char>(name[1]))) return -1;
  size_t i = 1;
  int layer = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) layer = layer * 10 + (name[i++] - '0');
  return i < name.size() && name[i] == '.' ? layer : -1;
}

std::string layer_colour(int layer, int64_t layers) {
  if (layer < 0) return "#9e9e9e";
  return fmt::format("hsl({}, 65%, 55%)", static_cast<int>(360.0 * static_cast<double>(layer) / static_cast<double>(std::max<int64_t>(layers, 1))));
}

// The arena over the program: x is the step, y the offset; each buffer a rectangle over
// its live steps and bytes.
std::string arena_timeline(const CompiledModel& c) {
  const double width = 960, height = 420, left = 60, top = 10;
  const double steps = static_cast<double>(std::max<size_t>(c.steps.size(), 1));
  const double bytes = static_cast<double>(std::max<int64_t>(c.arena.bytes, 1));
  const double sx = (width - left - 10) / steps, sy = (height - top - 30) / bytes;
  std::string s = fmt::format("<svg id=\"arena\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n", width, height,
                              width, height);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#f6f6f6\" stroke=\"#ccc\"/>\n", left, top, steps * sx, bytes * sy);
  for (size_t i = 0; i < c.liveness.buffers.size(); ++i) {
    const Buffer& b = c.liveness.buffers[i];
    const double x = left + b.first_step * sx, w = (b.last_step - b.first_step + 1) * sx;
    const double y = top + static_cast<double>(c.arena.offsets[i]) * sy, h = std::max(static_cast<double>(b.bytes) * sy, 1.0);
    s += fmt::format(
        "<rect class=\"buffer\" data-name=\"{0}\" x=\"{1:.1f}\" y=\"{2:.1f}\" width=\"{3:.1f}\" height=\"{4:.1f}\" fill=\"{5}\" stroke=\"#333\" "
        "stroke-width=\"0.5\"><title>{0}: {6} bytes at offset {7}, steps {8}..{9}</title></rect>\n",
        escape(b.name), x, y, w, h, layer_colour(buffer_layer(b.name), c.graph.arch.n_layers), b.bytes, c.arena.offsets[i], b.first_step,
        b.last_step);
    if (w > 40 && h > 11)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"9\" fill=\"#111\">{}</text>\n", x + 2, y + 9, escape(b.name));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">step 0 .. {} (feed, then next) &#8594;</text>\n", left, height - 8, c.steps.size() - 1);
  s += fmt::format("<text x=\"4\" y=\"{}\" font-size=\"11\">offset 0</text><text x=\"4\" y=\"{:.1f}\" font-size=\"11\">{} B</text>\n", top + 10,
                   top + bytes * sy, c.arena.bytes);
  return s + "</svg>\n";
}

struct Part {
  const char* name;
  int64_t bytes;
  const char* colour;
};

// One budget as a bar of its parts, and what is left.
std::string budget_bar(const char* id, const char* title, const std::vector<Part>& parts, int64_t budget) {
  const double width = 960, scale = (width - 2) / static_cast<double>(std::max<int64_t>(budget, 1));
  int64_t total = 0;
  for (const Part& p : parts) total += p.bytes;
  std::string s = fmt::format("<h3>{}: {} of {} bytes ({:.1f}%)</h3>\n<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"46\">\n",
                              title, total, budget, 100.0 * static_cast<double>(total) / static_cast<double>(std::max<int64_t>(budget, 1)), id, width);
  s += fmt::format("<rect x=\"1\" y=\"1\" width=\"{:.1f}\" height=\"24\" fill=\"#fff\" stroke=\"#999\"/>\n", budget * scale);
  double x = 1;
  for (const Part& p : parts) {
    const double w = static_cast<double>(p.bytes) * scale;
    s += fmt::format("<rect class=\"part\" x=\"{:.1f}\" y=\"1\" width=\"{:.1f}\" height=\"24\" fill=\"{}\"><title>{}: {} bytes</title></rect>\n", x,
                     w, p.colour, p.name, p.bytes);
    x += w;
  }
  x = 1;
  for (const Part& p : parts) {
    s += fmt::format("<rect x=\"{:.0f}\" y=\"32\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.0f}\" y=\"41\" font-size=\"11\">{} {}</text>\n", x,
                     p.colour, x + 14, p.name, p.bytes);
    x += 190;
  }
  return s + "</svg>\n";
}

}  // namespace

std::string report_html(const CompiledModel& c, const Provenance& p) {
  const ir::Graph& g = c.graph;
  const SramCost& m = c.fit.cost;
  const double mhz = report_clock_mhz(c, p);
  std::string s = fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>bitgptc plan: {0} on {1}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }} code {{ background: #f2f2f2; padding: 1px 3px; }}
</style></head><body>
<h1>{0} on {1}</h1>
<p>{2} parameters; window {3} tokens, {4}-bit KV cache; kernel {5}. {6}</p>
)",
                              escape(g.name), escape(c.target->name), c.parameters, g.window, g.kv_bits, escape(c.kernel_reason), escape(c.fit.reason));
  s += budget_bar("sram", "SRAM",
                  {{"arena", m.arena, "#4e79a7"}, {"KV cache", m.kv_cache, "#f28e2b"}, {"prompt buffer", m.prompt, "#59a14f"},
                   {"state", m.state, "#e15759"}, {"stack reserve", m.stack, "#b07aa1"}},
                  c.sram_budget);
  s += budget_bar("flash", "flash",
                  {{"weights and tables", c.weights_flash_bytes() - c.tokenizer_bytes, "#4e79a7"}, {"tokenizer", c.tokenizer_bytes, "#59a14f"},
                   {"code (estimate)", c.code_estimate(), "#9c755f"}},
                  c.flash_budget);
  s += fmt::format("<h3>The arena: {} bytes (lower bound {}), {} buffers over {} steps</h3>\n", c.arena.bytes, c.arena.lower_bound,
                   c.liveness.buffers.size(), c.steps.size());
  s += arena_timeline(c);
  s += fmt::format("<h3>Per layer</h3>\n<table id=\"layers\"><tr><th>part</th><th>steps</th><th>flash bytes</th><th>MACs per token</th>"
                   "<th>dot-product instructions (estimate)</th><th>ms per token at {}</th></tr>\n",
                   mhz > 0 ? fmt::format("{} MHz", mhz) : std::string("(no clock)"));
  for (const LayerRow& r : layer_summary(c))
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0f}</td><td>{:.3f}</td></tr>\n", escape(r.name), r.steps, r.flash_bytes,
                     r.macs, r.dot_instructions, milliseconds_at(r.dot_instructions, mhz));
  s += "</table>\n<p>The instruction estimate is the kernel cost model's, for the ternary dot products (most of a token); the time assumes one "
       "instruction per cycle.</p>\n";
  s += fmt::format("<h3>Provenance</h3>\n<p>bitgptc {} &middot; model files FNV-1a 64 <code>{}</code><br><code>{}</code></p>\n</body></html>\n",
                   escape(p.version), escape(p.model_hash), escape(p.command_line));
  return s;
}

}  // namespace bitgpt
