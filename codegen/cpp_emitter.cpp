#include "codegen/cpp_emitter.h"

#include <fmt/format.h>

#include "codegen/embedded_files.h"
#include "codegen/emit_context.h"
#include "codegen/firmware_emitter.h"
#include "codegen/template.h"
#include "support/diagnostics.h"

namespace bitgpt {

// The model's files are NAME.h, NAME.cpp, ...: a name that is the stem of another file of
// the folder (a runtime header, a template, the firmware's generated config.h) would
// overwrite it or collide with its object file.
void check_model_name_is_free(const std::string& n) {
  std::vector<std::string> taken = {"config"};
  for (const auto& [file, text] : runtime_files()) taken.emplace_back(file.substr(0, file.find('.')));
  for (const auto& [file, text] : template_files()) taken.emplace_back(file.substr(0, file.find('.')));
  for (const std::string& t : taken)
    if (n == t)
      throw Error(fmt::format("model name '{}': the output folder has a file of its own named {}.*; give the model another name with --name", n, t));
}

std::map<std::string, std::string> emit_cpp(const CompiledModel& c, const Provenance& origin) {
  const std::string& n = c.graph.name;
  check_model_name_is_free(n);
  std::map<std::string, std::string> files;
  for (const auto& [name, text] : runtime_files()) files[std::string(name)] = std::string(text);
  files[n + ".h"] = emit_api_header(c, origin);
  files[n + "_weights.cpp"] = emit_weights_source(c, origin);
  files[n + ".cpp"] = emit_forward_source(c, origin);
  add_project_files(c, origin, n + ".cpp " + n + "_weights.cpp", n + ".o " + n + "_weights.o", true, files);
  return files;
}

void add_project_files(const CompiledModel& c, const Provenance& origin, const std::string& model_sources, const std::string& firmware_objects,
                       bool with_demo, std::map<std::string, std::string>& files) {
  const std::string& n = c.graph.name;
  if (with_demo)
    files["demo/" + n + "_demo.cpp"] = EmitContext(c, origin).banner(n + "_demo.cpp: generates text on the host") + instantiate_template("host_demo.cpp", n);
  // a target the build machine runs: its CPU flags for the host compiler (cross builds
  // take theirs from the firmware's toolchain)
  const std::string cpu_flags = c.target->native() ? c.target->gcc_flags : "";
  files["CMakeLists.txt"] =
      instantiate_template("CMakeLists.txt", n, {{"MODEL_SOURCES", model_sources}, {"HOST_DEMO", with_demo ? "TRUE" : "FALSE"}, {"CPU_FLAGS", cpu_flags}});
  if (firmware_unavailable(c).empty()) emit_firmware(c, firmware_objects, files);
}

}  // namespace bitgpt
