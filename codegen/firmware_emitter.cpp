#include "codegen/firmware_emitter.h"

#include <fmt/format.h>

#include "codegen/template.h"

namespace bitgpt {

bool has_firmware(const TargetDesc& t) { return t.qemu_board[0] != '\0'; }

void emit_firmware(const CompiledModel& c, std::map<std::string, std::string>& files) {
  const std::string& n = c.graph.name;
  const TargetDesc& t = *c.target;
  const std::map<std::string, std::string> values = {
      {"TARGET", t.name},
      {"BOARD", t.qemu_board},
      {"CPU_FLAGS", t.gcc_flags},
      {"SRAM_BYTES", std::to_string(c.sram_budget)},
      {"FLASH_BYTES", std::to_string(c.flash_budget)},
      {"FLASH_ORIGIN", fmt::format("{:08x}", t.flash_origin)},
      {"RAM_ORIGIN", fmt::format("{:08x}", t.ram_origin)},
      {"STACK_RESERVE", std::to_string(t.stack_reserve)},
  };
  for (const char* name : {"startup.c", "firmware.h", "firmware_main.c", "link.ld", "Makefile"}) files[name] = instantiate_template(name, n, values);
}

}  // namespace bitgpt
