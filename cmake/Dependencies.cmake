# Unicorn >= 2.1: the system's when new enough, else the copy scripts/setup.sh unpacked
# from Debian 13's packages into build/third_party/unicorn (linked statically).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SYSTEM_UNICORN QUIET unicorn>=2.1)
set(HVSIM_UNICORN_LOCAL "${CMAKE_SOURCE_DIR}/build/third_party/unicorn/usr")
add_library(unicorn_lib INTERFACE)
if(SYSTEM_UNICORN_FOUND)
  target_include_directories(unicorn_lib INTERFACE ${SYSTEM_UNICORN_INCLUDE_DIRS})
  target_link_libraries(unicorn_lib INTERFACE ${SYSTEM_UNICORN_LINK_LIBRARIES})
elseif(EXISTS "${HVSIM_UNICORN_LOCAL}/lib/x86_64-linux-gnu/libunicorn.a")
  target_include_directories(unicorn_lib SYSTEM INTERFACE "${HVSIM_UNICORN_LOCAL}/include")
  target_link_libraries(unicorn_lib INTERFACE "${HVSIM_UNICORN_LOCAL}/lib/x86_64-linux-gnu/libunicorn.a" m pthread)
else()
  message(FATAL_ERROR "Unicorn >= 2.1 not found: run scripts/setup.sh (make does it for you)")
endif()

find_package(zydis REQUIRED)
find_package(doctest REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)

# The visualizer (gui/): Debian's Dear ImGui is a static library with its backends (GLFW and
# OpenGL 3 among them) that needs stb's font rasterizer and rectangle packer; stb also writes
# the screenshots' PNGs.
pkg_check_modules(HVSIM_IMGUI REQUIRED IMPORTED_TARGET imgui)
pkg_check_modules(HVSIM_STB REQUIRED IMPORTED_TARGET stb)
find_package(glfw3 3.3 REQUIRED)
find_package(OpenGL REQUIRED)
find_package(Threads REQUIRED)
add_library(hvsim_imgui INTERFACE)
target_link_libraries(hvsim_imgui INTERFACE PkgConfig::HVSIM_IMGUI PkgConfig::HVSIM_STB)
