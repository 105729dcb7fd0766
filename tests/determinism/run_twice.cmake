# Runs one flat guest twice with the same engine and options and checks that the runs cannot
# be told apart: byte-identical event logs (--log), --dump-state JSON, stdout and stderr,
# and the same exit status.
#   cmake -DHVSIM=<hvsim> -DGUEST=<guest.bin> -DWORK_DIR=<dir> [-D<option>=<value> ...] -P run_twice.cmake
# Options:
#   EXPECT_STATUS   exit status both runs must have (default 0)
#   MIN_RECORDS     the log must have at least this many records (default 1; 0 for a guest
#                   whose run logs nothing, see docs/flat-guests.md "Outputs")
#   EXTRA_ARGS      more hvsim run options, separated by '|'
#   GUEST_FLAG      how GUEST is given to hvsim run: --flat (default) or --kernel
#   RUN_TIMEOUT     seconds per run (default 60)
#   B_WITHOUT_LOG   ON: the second run writes no event log (hvsim only counts events then);
#                   the runs must still end with the same registers, output and counters,
#                   i.e. recording the log does not change what the guest does
# `hvsim verify-log` must accept each log and count as many records as it has lines.
cmake_minimum_required(VERSION 3.25)

foreach(var HVSIM GUEST WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_twice.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT DEFINED EXPECT_STATUS)
  set(EXPECT_STATUS 0)
endif()
if(NOT DEFINED MIN_RECORDS)
  set(MIN_RECORDS 1)
endif()
if(NOT DEFINED GUEST_FLAG)
  set(GUEST_FLAG --flat)
endif()
if(NOT DEFINED RUN_TIMEOUT)
  set(RUN_TIMEOUT 60)
endif()
set(extra "")
if(DEFINED EXTRA_ARGS)
  string(REPLACE "|" ";" extra "${EXTRA_ARGS}")
endif()
if(NOT EXISTS "${GUEST}")
  message(FATAL_ERROR "guest image '${GUEST}' does not exist (build first)")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

foreach(run a b)
  set(log "${WORK_DIR}/${run}.jsonl")
  set(state "${WORK_DIR}/${run}.json")
  set(log_args --log "${log}")
  set(with_log ON)
  if(run STREQUAL "b" AND B_WITHOUT_LOG)
    set(log_args "")
    set(with_log OFF)
  endif()
  execute_process(
    COMMAND "${HVSIM}" run ${GUEST_FLAG} "${GUEST}" ${log_args} --dump-state "${state}" ${extra}
    OUTPUT_VARIABLE out_${run}
    ERROR_VARIABLE err_${run}
    RESULT_VARIABLE status
    TIMEOUT ${RUN_TIMEOUT})
  message("---- run ${run}: exit status ${status}\n${out_${run}}${err_${run}}")
  if(NOT "${status}" MATCHES "^[0-9]+$")
    message(FATAL_ERROR "run ${run}: hvsim did not exit normally: '${status}'")
  endif()
  if(NOT status EQUAL EXPECT_STATUS)
    message(FATAL_ERROR "run ${run}: exit status ${status}, expected ${EXPECT_STATUS}")
  endif()
  if("${out_${run}}\n${err_${run}}" MATCHES "Sanitizer|runtime error:|host error|internal error")
    message(FATAL_ERROR "run ${run}: error report in the output")
  endif()

  if(NOT EXISTS "${state}")
    message(FATAL_ERROR "run ${run}: '${state}' was not written")
  endif()
  file(SIZE "${state}" state_size)
  file(READ "${state}" state_text)
  if(state_size EQUAL 0 OR NOT state_text MATCHES "\"rip\": *\"0x[0-9a-f]+\"")
    message(FATAL_ERROR "run ${run}: --dump-state wrote no registers:\n${state_text}")
  endif()
  if(NOT with_log)
    continue()
  endif()
  if(NOT EXISTS "${log}")
    message(FATAL_ERROR "run ${run}: '${log}' was not written")
  endif()

  file(SIZE "${log}" log_size)
  if(MIN_RECORDS GREATER 0 AND log_size EQUAL 0)
    message(FATAL_ERROR "run ${run}: the event log is empty")
  endif()
  execute_process(
    COMMAND "${HVSIM}" verify-log "${log}"
    OUTPUT_VARIABLE vout
    ERROR_VARIABLE verr
    RESULT_VARIABLE vstatus
    TIMEOUT ${RUN_TIMEOUT})
  if(NOT vstatus EQUAL 0 OR NOT vout MATCHES "^([0-9]+) records, chain intact")
    message(FATAL_ERROR "run ${run}: verify-log failed (status ${vstatus}):\n${vout}${verr}")
  endif()
  set(records ${CMAKE_MATCH_1})
  if(records LESS MIN_RECORDS)
    message(FATAL_ERROR "run ${run}: the log has ${records} records, expected at least ${MIN_RECORDS}")
  endif()
  message("run ${run}: ${records} records, ${log_size} bytes of log")
endforeach()

if(NOT B_WITHOUT_LOG)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/a.jsonl" "${WORK_DIR}/b.jsonl"
                  RESULT_VARIABLE differ)
  if(NOT differ EQUAL 0)
    message(FATAL_ERROR "the event logs of the two runs differ: ${WORK_DIR}/a.jsonl ${WORK_DIR}/b.jsonl")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/a.json" "${WORK_DIR}/b.json"
                RESULT_VARIABLE differ)
if(NOT differ EQUAL 0)
  message(FATAL_ERROR "the --dump-state files of the two runs differ: ${WORK_DIR}/a.json ${WORK_DIR}/b.json")
endif()
if(NOT "${out_a}" STREQUAL "${out_b}")
  message(FATAL_ERROR "the two runs printed different stdout")
endif()
# The summary line (instructions, virtual time, counters) is on stderr: it must match too,
# except the TLB-fill counts, which Unicorn's host-time-driven TLB sizing lets vary by a few in
# long or slow (sanitizer) runs without any effect on the guest (docs/unicorn-notes.md).
foreach(run a b)
  string(REGEX REPLACE "[0-9]+ fills, [0-9]+ walk references" "<fills>" err_${run} "${err_${run}}")
endforeach()
if(NOT "${err_a}" STREQUAL "${err_b}")
  message(FATAL_ERROR "the two runs printed different stderr")
endif()
# Keep the build tree small: de_loop's logs are ~19 MB each.  Kept on failure for a diff.
file(REMOVE_RECURSE "${WORK_DIR}")
