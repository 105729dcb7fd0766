# Runs `hvsim gui ... --screenshot` once and checks how it went:
#   cmake -DHVSIM=<hvsim> -DPNG_CHECK=<gui_png_check> -DWORK_DIR=<dir> -DARGS=<a|b|c>
#         [-DXVFB_RUN=<xvfb-run>] [-DNO_DISPLAY=1] [-DEXPECT_STATUS=<n>] [-DEXPECT_STDERR=<regex>]
#         [-DWIDTH=<w> -DHEIGHT=<h>] -P run_screenshot.cmake
# With EXPECT_STATUS 0 (the default) the PNG named shot.png in WORK_DIR must exist, have
# WIDTHxHEIGHT pixels and not be blank (gui_png_check), and hvsim's summary must show the
# guest advanced (more than 0 instructions). NO_DISPLAY runs hvsim without X at all.
cmake_minimum_required(VERSION 3.25)
foreach(var HVSIM WORK_DIR ARGS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_screenshot.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT DEFINED EXPECT_STATUS)
  set(EXPECT_STATUS 0)
endif()
if(NOT DEFINED WIDTH)
  set(WIDTH 1280)
  set(HEIGHT 720)
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
string(REPLACE "|" ";" args "${ARGS}")
set(shot "${WORK_DIR}/shot.png")
if(NO_DISPLAY)
  set(command ${CMAKE_COMMAND} -E env --unset=DISPLAY --unset=WAYLAND_DISPLAY "${HVSIM}" ${args})
else()
  # Xvfb's default screen is 640x480x8; the window renders off screen anyway, but GLX wants
  # a 24-bit visual.
  set(command "${XVFB_RUN}" -a -s "-screen 0 1920x1080x24" "${HVSIM}" ${args})
endif()
execute_process(COMMAND ${command}
                WORKING_DIRECTORY "${WORK_DIR}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status TIMEOUT 60)
list(JOIN args " " shown)
message("---- hvsim ${shown}: exit status ${status}\n-- stdout:\n${out}\n-- stderr:\n${err}")
if(NOT "${status}" MATCHES "^[0-9]+$")
  message(FATAL_ERROR "hvsim did not exit normally: '${status}' (crash, signal or timeout)")
endif()
if("${out}\n${err}" MATCHES "ERROR: AddressSanitizer|runtime error:|terminate called|Segmentation fault|internal error")
  message(FATAL_ERROR "crash or sanitizer report in the output")
endif()
if(NOT status EQUAL EXPECT_STATUS)
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_STATUS}")
endif()
if(DEFINED EXPECT_STDERR AND NOT "${err}" MATCHES "${EXPECT_STDERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR}'")
endif()
if(NOT EXPECT_STATUS EQUAL 0)
  return()
endif()

if(NOT EXISTS "${shot}")
  message(FATAL_ERROR "no screenshot was written")
endif()
execute_process(COMMAND "${PNG_CHECK}" "${shot}" ${WIDTH} ${HEIGHT}
                OUTPUT_VARIABLE check_out ERROR_VARIABLE check_err RESULT_VARIABLE check_status)
message("${check_out}${check_err}")
if(NOT check_status EQUAL 0)
  message(FATAL_ERROR "the screenshot failed its check")
endif()
# The simulation advanced: every guest's summary line shows instructions retired.
string(REGEX MATCHALL "at [0-9]+ instructions" counts "${err}")
if(NOT counts)
  message(FATAL_ERROR "no summary line with the guest's progress")
endif()
foreach(c IN LISTS counts)
  if(c STREQUAL "at 0 instructions")
    message(FATAL_ERROR "a guest did not advance: ${c}")
  endif()
endforeach()
