# Runs a flat guest under hvsim and checks what a plain exit-status test cannot:
#   cmake -DHVSIM=<hvsim> -DGUEST=<guest.bin> [-D<option>=<value> ...] -P run_guest.cmake
# Options:
#   EXPECT_STATUS     exit status hvsim must return (default 0)
#   EXPECT_OUTPUT     regex that hvsim's stdout + stderr must match
#   RUNS              run the guest this many times (default 1); the runs' selected stdout
#                     lines (COMPARE_REGEX) must be identical
#   COMPARE_REGEX     lines compared between runs: those starting with a match (default: all)
#   COUNT_REGEX, COUNT
#                     exactly COUNT stdout lines must start with a match of COUNT_REGEX
#   INCREASING_REGEX  for stdout lines starting with a match, the hex number captured by
#                     its one group must strictly increase from line to line
#   RUN_TIMEOUT       seconds per run (default 25)
# Regexes are CMake regexes; they must not contain ';'.
cmake_minimum_required(VERSION 3.25)

foreach(var HVSIM GUEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_guest.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT DEFINED EXPECT_STATUS)
  set(EXPECT_STATUS 0)
endif()
if(NOT DEFINED RUNS)
  set(RUNS 1)
endif()
if(NOT DEFINED RUN_TIMEOUT)
  set(RUN_TIMEOUT 25)
endif()

# Lines of `text` that start with a match of `regex` (list; lines must not contain ';').
function(select_lines out_var text regex)
  string(REGEX MATCHALL "(^|\n)(${regex})[^\n]*" matches "${text}")
  set(lines "")
  foreach(m IN LISTS matches)
    string(REGEX REPLACE "^\n" "" m "${m}")
    list(APPEND lines "${m}")
  endforeach()
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()

set(first_lines "")
foreach(run RANGE 1 ${RUNS})
  execute_process(
    COMMAND "${HVSIM}" run --flat "${GUEST}"
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err
    RESULT_VARIABLE status
    TIMEOUT ${RUN_TIMEOUT})
  message("---- run ${run}: exit status ${status}\n${out}${err}")

  if(NOT "${status}" STREQUAL "${EXPECT_STATUS}")
    message(FATAL_ERROR "run ${run}: exit status ${status}, expected ${EXPECT_STATUS}")
  endif()
  if(DEFINED EXPECT_OUTPUT AND NOT "${out}\n${err}" MATCHES "${EXPECT_OUTPUT}")
    message(FATAL_ERROR "run ${run}: output does not match '${EXPECT_OUTPUT}'")
  endif()

  if(DEFINED COUNT_REGEX)
    select_lines(counted "${out}" "${COUNT_REGEX}")
    list(LENGTH counted n)
    if(NOT n EQUAL COUNT)
      message(FATAL_ERROR "run ${run}: ${n} lines start with '${COUNT_REGEX}', expected ${COUNT}")
    endif()
  endif()

  if(DEFINED INCREASING_REGEX)
    select_lines(values "${out}" "${INCREASING_REGEX}")
    set(prev "")
    foreach(line IN LISTS values)
      string(REGEX MATCH "^${INCREASING_REGEX}" unused "${line}")
      math(EXPR value "0x${CMAKE_MATCH_1}")
      if(NOT prev STREQUAL "")
        math(EXPR delta "${value} - ${prev}")
        if(delta LESS_EQUAL 0)
          message(FATAL_ERROR "run ${run}: value does not increase at line '${line}'")
        endif()
      endif()
      set(prev ${value})
    endforeach()
  endif()

  if(DEFINED COMPARE_REGEX)
    select_lines(lines "${out}" "${COMPARE_REGEX}")
  else()
    set(lines "${out}")
  endif()
  if(run EQUAL 1)
    set(first_lines "${lines}")
  elseif(NOT "${lines}" STREQUAL "${first_lines}")
    message(FATAL_ERROR "run ${run}: output differs from run 1 (not deterministic)")
  endif()
endforeach()
