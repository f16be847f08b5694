#include "codegen/cpp_emitter.h"

#include "codegen/embedded_files.h"
#include "codegen/emit_context.h"
#include "codegen/firmware_emitter.h"
#include "codegen/template.h"

namespace bitgpt {

std::map<std::string, std::string> emit_cpp(const CompiledModel& c, const std::string& source_name) {
  const std::string& n = c.graph.name;
  std::map<std::string, std::string> files;
  for (const auto& [name, text] : runtime_files()) files[std::string(name)] = std::string(text);
  files[n + ".h"] = emit_api_header(c, source_name);
  files[n + "_weights.cpp"] = emit_weights_source(c, source_name);
  files[n + ".cpp"] = emit_forward_source(c, source_name);
  files[n + "_demo.cpp"] = EmitContext(c, source_name).banner(n + "_demo.cpp: generates text on the host") + instantiate_template("host_demo.cpp", n);
  files["CMakeLists.txt"] = instantiate_template("CMakeLists.txt", n);
  if (has_firmware(*c.target)) emit_firmware(c, files);
  return files;
}

}  // namespace bitgpt
