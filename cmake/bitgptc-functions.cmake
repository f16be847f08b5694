# bitgptc_add_model(<library>
#     MODEL <model.json | model.bin>  TARGET <target>  SRAM <size>
#     [FLASH <size>] [NAME <c-name>] [TOKENIZER <tokenizer.bin>] [BOARD_SUPPORT]
#     [EMIT cpp|obj] [OPTIONS <more bitgptc options>...])
#
# Compiles a model with bitgptc at build time into a static library <library> whose include
# directory holds <name>.h (the C API; name defaults to <library>). The custom command has a
# depfile listing the manifest, the weights sidecar, the tokenizer and bitgptc itself, so
# Make and Ninja rebuild the model when, and only when, one of them changes; bitgptc
# rewrites only files whose content changed, so user code including <name>.h recompiles
# only when the header itself changed. EMIT obj: the library is the one object LLVM
# generates in bitgptc (<name>.o), nothing of the model is compiled by the project's
# compiler; EMIT cpp (the default): the C++ sources, compiled with the project's flags.
#
# Sets in the caller's scope:
#   <library>_BITGPTC_DIR   the output folder (report.json is there too)
#   <library>_STARTUP, <library>_LINKER_SCRIPT, <library>_FIRMWARE_DIR   with BOARD_SUPPORT,
#                           for a target with a QEMU board: the emitted startup code, linker
#                           script, and their folder (firmware.h, semihosting output)
#
# The model is C++ without libstdc++; to link it into a C program, set the executable's
# LINKER_LANGUAGE to C (CMake would otherwise link with the C++ driver).
function(bitgptc_add_model library)
  cmake_parse_arguments(PARSE_ARGV 1 BG "BOARD_SUPPORT" "MODEL;TARGET;SRAM;FLASH;NAME;TOKENIZER;EMIT" "OPTIONS")
  foreach(required MODEL TARGET SRAM)
    if(NOT BG_${required})
      message(FATAL_ERROR "bitgptc_add_model(${library}): ${required} is required")
    endif()
  endforeach()
  if(BG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "bitgptc_add_model(${library}): unknown arguments ${BG_UNPARSED_ARGUMENTS}")
  endif()
  set(name ${library})
  if(BG_NAME)
    set(name ${BG_NAME})
  endif()
  get_filename_component(model "${BG_MODEL}" ABSOLUTE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${library}_bitgptc)
  set(args ${model} --target ${BG_TARGET} --sram ${BG_SRAM} --name ${name} -q -o ${out} --depfile ${out}.d
           --report-json ${out}.report.json)
  if(BG_FLASH)
    list(APPEND args --flash ${BG_FLASH})
  endif()
  if(BG_TOKENIZER)
    get_filename_component(tokenizer "${BG_TOKENIZER}" ABSOLUTE)
    list(APPEND args --tokenizer ${tokenizer})
  endif()
  list(APPEND args ${BG_OPTIONS})
  if(NOT BG_EMIT)
    set(BG_EMIT cpp)
  endif()
  if(BG_EMIT STREQUAL "cpp")
    set(sources ${out}/${name}.cpp ${out}/${name}_weights.cpp)
  elseif(BG_EMIT STREQUAL "obj")
    set(sources ${out}/${name}.o)
    list(APPEND args --emit obj)
  else()
    message(FATAL_ERROR "bitgptc_add_model(${library}): EMIT ${BG_EMIT}: expected cpp or obj")
  endif()
  set(outputs ${out}/${name}.h ${sources})
  if(BG_BOARD_SUPPORT)
    list(APPEND outputs ${out}/firmware/startup.c ${out}/firmware/link.ld ${out}/firmware/firmware.h)
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND bitgptc::bitgptc ${args}
    DEPFILE ${out}.d
    DEPENDS ${model} bitgptc::bitgptc
    COMMENT "bitgptc: ${name} for ${BG_TARGET} within ${BG_SRAM} of SRAM"
    VERBATIM)
  add_library(${library} STATIC ${sources})
  if(BG_EMIT STREQUAL "obj")
    set_target_properties(${library} PROPERTIES LINKER_LANGUAGE C)  # an archive of the object: nothing to compile
  endif()
  target_include_directories(${library} PUBLIC ${out})
  set_target_properties(${library} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_compile_options(${library} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fno-threadsafe-statics>)
  set(${library}_BITGPTC_DIR ${out} PARENT_SCOPE)
  if(BG_BOARD_SUPPORT)
    set(${library}_STARTUP ${out}/firmware/startup.c PARENT_SCOPE)
    set(${library}_LINKER_SCRIPT ${out}/firmware/link.ld PARENT_SCOPE)
    set(${library}_FIRMWARE_DIR ${out}/firmware PARENT_SCOPE)
  endif()
endfunction()
