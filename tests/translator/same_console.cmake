# Runs a scenario under native and under the engine ENGINE_ARGS names ('|'-separated hvsim run
# options): both must pass the scenario's expectations and print the same console output.
#   cmake -DHVSIM=<hvsim> -DSCENARIO=<file.toml> -DENGINE_ARGS=<--engine|bt> -DWORK_DIR=<dir> -P same_console.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var HVSIM SCENARIO ENGINE_ARGS WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "same_console.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
string(REPLACE "|" ";" engine_args "${ENGINE_ARGS}")
execute_process(COMMAND "${HVSIM}" run "${SCENARIO}" OUTPUT_VARIABLE out_native ERROR_VARIABLE err_native
                RESULT_VARIABLE status_native TIMEOUT 150)
execute_process(COMMAND "${HVSIM}" run "${SCENARIO}" ${engine_args} OUTPUT_VARIABLE out_engine
                ERROR_VARIABLE err_engine RESULT_VARIABLE status_engine TIMEOUT 150)
if(NOT status_native EQUAL 0 OR NOT status_engine EQUAL 0)
  message(FATAL_ERROR "status: native ${status_native}, ${ENGINE_ARGS} ${status_engine}\n${err_engine}")
endif()
if(NOT out_native STREQUAL out_engine)
  file(WRITE "${WORK_DIR}/native.txt" "${out_native}")
  file(WRITE "${WORK_DIR}/engine.txt" "${out_engine}")
  message(FATAL_ERROR "console differs: ${WORK_DIR}/native.txt and engine.txt\n${err_engine}")
endif()
message(STATUS "same console; ${err_engine}")
