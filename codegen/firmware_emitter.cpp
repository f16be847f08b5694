#include "codegen/firmware_emitter.h"

#include <fmt/format.h>

#include "codegen/template.h"
#include "support/diagnostics.h"

namespace bitgpt {

bool has_firmware(const TargetDesc& t) { return t.qemu_board[0] != '\0'; }

void emit_firmware(const CompiledModel& c, std::map<std::string, std::string>& files) {
  const std::string& n = c.graph.name;
  const TargetDesc& t = *c.target;
  // The project runs on the board QEMU emulates: a budget beyond its memories would link
  // a firmware that QEMU cannot load (it ended in a QEMU crash).
  if (c.flash_budget > t.board_flash)
    throw Error(fmt::format("--flash {}: the firmware project for {} runs on QEMU's {}, which has {} bytes of flash; give --flash {} or less",
                            c.flash_budget, t.name, t.qemu_board, t.board_flash, t.board_flash));
  if (c.sram_budget > t.board_ram)
    throw Error(fmt::format("--sram {}: the firmware project for {} runs on QEMU's {}, which has {} bytes of RAM; give --sram {} or less",
                            c.sram_budget, t.name, t.qemu_board, t.board_ram, t.board_ram));
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
