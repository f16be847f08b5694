// The static files of an emitted project (host demo, CMakeLists.txt, firmware startup,
// main, linker script, Makefile) are real files in codegen/templates/, written for a model
// named `bgmodel` so that they compile and lint as they are. Instantiating one replaces
// that name with the model's and each @KEY@ with its value.
#pragma once

#include <map>
#include <string>

namespace bitgpt {

// Throws Error (an internal error) for an unknown template or a placeholder left unset.
std::string instantiate_template(const std::string& name, const std::string& model_name, const std::map<std::string, std::string>& values = {});

}  // namespace bitgpt
