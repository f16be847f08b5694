#include "codegen/firmware_emitter.h"

#include <fmt/format.h>

#include "codegen/template.h"
#include "support/diagnostics.h"

namespace bitgpt {

bool has_firmware(const TargetDesc& t) { return t.qemu_board[0] != '\0'; }

std::string firmware_unavailable(const CompiledModel& c) {
  const TargetDesc& t = *c.target;
  if (!has_firmware(t)) return fmt::format("target {} has no QEMU board", t.name);
  // The project runs on the board QEMU emulates: a budget beyond its memories would link
  // a firmware that QEMU cannot load (it ended in a QEMU crash).
  if (c.flash_budget > t.board_flash)
    return fmt::format("--flash {} is more than the {} bytes of flash of QEMU's {}", c.flash_budget, t.board_flash, t.qemu_board);
  if (c.sram_budget > t.board_ram)
    return fmt::format("--sram {} is more than the {} bytes of RAM of QEMU's {}", c.sram_budget, t.board_ram, t.qemu_board);
  return "";
}

void emit_firmware(const CompiledModel& c, const std::string& model_objects, std::map<std::string, std::string>& files) {
  const std::string& n = c.graph.name;
  const TargetDesc& t = *c.target;
  if (const std::string why = firmware_unavailable(c); !why.empty()) throw Error("internal error: no firmware project: " + why);
  const std::map<std::string, std::string> values = {
      {"TARGET", t.name},
      {"BOARD", t.qemu_board},
      {"CPU_FLAGS", t.gcc_flags},
      {"SRAM_BYTES", std::to_string(c.sram_budget)},
      {"FLASH_BYTES", std::to_string(c.flash_budget)},
      {"FLASH_ORIGIN", fmt::format("{:08x}", t.flash_origin)},
      {"RAM_ORIGIN", fmt::format("{:08x}", t.ram_origin)},
      {"STACK_RESERVE", std::to_string(t.stack_reserve)},
      {"MODEL_OBJECTS", model_objects},
      {"TOOLCHAIN", t.toolchain},
      {"LIBC_FLAGS", t.libc_flags},
      {"QEMU_SYSTEM", t.qemu_system},
  };
  // In a folder of their own: a folder of sources an IDE compiles whole holds the model
  // as a library, with no second Reset_Handler or main.
  for (const char* name : {"startup.c", "firmware.h", "firmware_main.c", "link.ld", "Makefile"})
    files[std::string("firmware/") + name] = instantiate_template(name, n, values);
}

}  // namespace bitgpt
