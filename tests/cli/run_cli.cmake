# Runs the hvsim executable once and checks how it ends:
#   cmake -DHVSIM=<hvsim> -DWORK_DIR=<dir> -DARGS=<a|b|c> [-D<option>=<value> ...] -P run_cli.cmake
# Every run must end with a numeric exit status (no signal), within RUN_TIMEOUT, with no
# sanitizer report and no "internal error"/"host error" unless EXPECT_STATUS allows 123.
# Options:
#   ARGS            hvsim's arguments separated by '|' (run in WORK_DIR, which is recreated
#                   empty first, so relative paths name files in it)
#   EXPECT_STATUS   exit status hvsim must return (required); a regex for the whole status,
#                   e.g. 12[0-2] when several endings are right
#   EXPECT_STDERR   regex hvsim's stderr must match (required: every ending says why)
#   EXPECT_STDOUT   regex hvsim's stdout must match
#   REJECT_OUTPUT   regex stdout + stderr must NOT match
#   RUN_TIMEOUT     seconds (default 30)
# Inputs prepared in WORK_DIR before the run:
#   EMPTY_FILE=<name>            an empty file
#   SPARSE_FILE=<name>  SPARSE_SIZE=<bytes>
#                                a file of that size, zero-filled and sparse
#   LOG_FILE=<name>  LOG_GUEST=<guest.bin>
#                                the event log of `hvsim run --flat <guest> --log <name>` (the
#                                run must exit 0 and `verify-log` must accept the log; it must
#                                have at least 3 records), then changed by LOG_EDIT:
#     LOG_EDIT=middle            one character of the middle record's body changed
#     LOG_EDIT=drop_middle       the middle record removed
#     LOG_EDIT=last              one character of the last record's body changed
#     LOG_EDIT=drop_last         the last record removed
#     LOG_EDIT=cut_last          the file cut in the middle of the last record
# Regexes are CMake regexes; they must not contain ';' or '|'.
cmake_minimum_required(VERSION 3.25)

foreach(var HVSIM WORK_DIR ARGS EXPECT_STATUS EXPECT_STDERR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_cli.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT DEFINED RUN_TIMEOUT)
  set(RUN_TIMEOUT 30)
endif()
set(SANITIZER_REGEX "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|SUMMARY: [A-Za-z]+Sanitizer|terminate called|Segmentation fault|Aborted")

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Fails unless `status` is a number: execute_process reports a signal as its name.
function(require_numeric_status what status)
  if(NOT "${status}" MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${what}: hvsim did not exit normally: '${status}' (crash, signal or timeout)")
  endif()
endfunction()

function(require_clean what text)
  if("${text}" MATCHES "${SANITIZER_REGEX}")
    message(FATAL_ERROR "${what}: crash or sanitizer report in the output (matched '${CMAKE_MATCH_0}')")
  endif()
endfunction()

# ---- inputs ---------------------------------------------------------------------------------
if(DEFINED EMPTY_FILE)
  file(TOUCH "${WORK_DIR}/${EMPTY_FILE}")
endif()

if(DEFINED SPARSE_FILE)
  if(NOT DEFINED SPARSE_SIZE)
    message(FATAL_ERROR "run_cli.cmake: SPARSE_FILE needs SPARSE_SIZE")
  endif()
  find_program(TRUNCATE truncate)
  if(TRUNCATE)
    execute_process(COMMAND "${TRUNCATE}" -s ${SPARSE_SIZE} "${WORK_DIR}/${SPARSE_FILE}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "truncate -s ${SPARSE_SIZE} failed: ${rc}")
    endif()
  else()
    # No truncate(1): write the zeros (slower, not sparse, same content).
    execute_process(COMMAND dd if=/dev/zero "of=${WORK_DIR}/${SPARSE_FILE}" bs=1 count=0 seek=${SPARSE_SIZE}
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "cannot create a ${SPARSE_SIZE}-byte file")
    endif()
  endif()
  file(SIZE "${WORK_DIR}/${SPARSE_FILE}" got)
  if(NOT got EQUAL SPARSE_SIZE)
    message(FATAL_ERROR "${SPARSE_FILE} is ${got} bytes, wanted ${SPARSE_SIZE}")
  endif()
endif()

if(DEFINED LOG_FILE)
  if(NOT DEFINED LOG_GUEST)
    message(FATAL_ERROR "run_cli.cmake: LOG_FILE needs LOG_GUEST")
  endif()
  set(log "${WORK_DIR}/${LOG_FILE}")
  execute_process(COMMAND "${HVSIM}" run -q --flat "${LOG_GUEST}" --log "${log}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT ${RUN_TIMEOUT})
  require_numeric_status("making the log" "${rc}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "making the log: ${LOG_GUEST} exited with ${rc}\n${out}${err}")
  endif()
  execute_process(COMMAND "${HVSIM}" verify-log "${log}"
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT ${RUN_TIMEOUT})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the unedited log does not verify (status ${rc}):\n${out}${err}")
  endif()

  # Record offsets: starts[i] is where record i begins; the file ends with '\n'.
  file(READ "${log}" text)
  string(LENGTH "${text}" len)
  set(starts 0)
  set(pos 0)
  while(pos LESS len)
    string(SUBSTRING "${text}" ${pos} -1 rest)
    string(FIND "${rest}" "\n" nl)
    if(nl EQUAL -1)
      message(FATAL_ERROR "the log does not end with a newline")
    endif()
    math(EXPR pos "${pos} + ${nl} + 1")
    if(pos LESS len)
      list(APPEND starts ${pos})
    endif()
  endwhile()
  list(LENGTH starts records)
  if(records LESS 3)
    message(FATAL_ERROR "the log of ${LOG_GUEST} has ${records} records; need at least 3")
  endif()
  list(APPEND starts ${len})  # sentinel: the end of the last record

  # Splits the log around record `index`: before, the record (with its '\n'), after.
  macro(split_at index)
    list(GET starts ${index} b)
    math(EXPR next "${index} + 1")
    list(GET starts ${next} e)
    math(EXPR rec_len "${e} - ${b}")
    string(SUBSTRING "${text}" 0 ${b} before)
    string(SUBSTRING "${text}" ${b} ${rec_len} record)
    string(SUBSTRING "${text}" ${e} -1 after)
  endmacro()
  # Changes the record's "t" value (its first field) by one digit: the body, not "prev".
  macro(edit_record)
    string(REGEX MATCH "^\\{\"t\":([0-9]+)" m "${record}")
    if(NOT m)
      message(FATAL_ERROR "record does not start with {\"t\":<n>: ${record}")
    endif()
    math(EXPR t2 "${CMAKE_MATCH_1} + 1")
    string(REGEX REPLACE "^\\{\"t\":[0-9]+" "{\"t\":${t2}" record "${record}")
  endmacro()

  math(EXPR middle "${records} / 2")
  math(EXPR last "${records} - 1")
  if(NOT DEFINED LOG_EDIT)
    set(edited "${text}")
  elseif(LOG_EDIT STREQUAL "middle")
    split_at(${middle})
    edit_record()
    set(edited "${before}${record}${after}")
  elseif(LOG_EDIT STREQUAL "drop_middle")
    split_at(${middle})
    set(edited "${before}${after}")
  elseif(LOG_EDIT STREQUAL "last")
    split_at(${last})
    edit_record()
    set(edited "${before}${record}${after}")
  elseif(LOG_EDIT STREQUAL "drop_last")
    split_at(${last})
    set(edited "${before}${after}")
  elseif(LOG_EDIT STREQUAL "cut_last")
    split_at(${last})
    string(LENGTH "${record}" rl)
    math(EXPR half "${rl} / 2")
    string(SUBSTRING "${record}" 0 ${half} record)
    set(edited "${before}${record}")
  else()
    message(FATAL_ERROR "run_cli.cmake: unknown LOG_EDIT '${LOG_EDIT}'")
  endif()
  if(DEFINED LOG_EDIT AND "${edited}" STREQUAL "${text}")
    message(FATAL_ERROR "LOG_EDIT=${LOG_EDIT} did not change the log")
  endif()
  file(WRITE "${log}" "${edited}")
  message("log ${LOG_FILE}: ${records} records, LOG_EDIT=${LOG_EDIT}")
endif()

# ---- the run --------------------------------------------------------------------------------
string(REPLACE "|" ";" args "${ARGS}")
execute_process(
  COMMAND "${HVSIM}" ${args}
  WORKING_DIRECTORY "${WORK_DIR}"
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE status
  TIMEOUT ${RUN_TIMEOUT})
list(JOIN args " " shown)
message("---- hvsim ${shown}: exit status ${status}\n-- stdout:\n${out}\n-- stderr:\n${err}")

require_numeric_status("hvsim" "${status}")
require_clean("hvsim" "${out}\n${err}")
if(NOT "123" MATCHES "^(${EXPECT_STATUS})$" AND "${out}\n${err}" MATCHES "internal error|host error")
  message(FATAL_ERROR "hvsim reported an internal/host error")
endif()
if(NOT "${status}" MATCHES "^(${EXPECT_STATUS})$")
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_STATUS}")
endif()
if(NOT "${err}" MATCHES "${EXPECT_STDERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR}'")
endif()
if(DEFINED EXPECT_STDOUT AND NOT "${out}" MATCHES "${EXPECT_STDOUT}")
  message(FATAL_ERROR "stdout does not match '${EXPECT_STDOUT}'")
endif()
if(DEFINED REJECT_OUTPUT AND "${out}\n${err}" MATCHES "${REJECT_OUTPUT}")
  message(FATAL_ERROR "output matches '${REJECT_OUTPUT}' (must not)")
endif()
