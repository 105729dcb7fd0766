# Flat test guests: nasm -f bin images loaded at 0x100000 by `hvsim run --flat`.
find_program(NASM_EXECUTABLE nasm REQUIRED)
set(HVSIM_FLAT_GUEST_DIR "${CMAKE_BINARY_DIR}/guest/flat")
set_property(GLOBAL PROPERTY HVSIM_FLAT_GUESTS "")

# hvsim_flat_guest(<name> <source.asm> [<dependency>...]) builds ${HVSIM_FLAT_GUEST_DIR}/<name>.bin.
# The source's folder and guest/flat (flat.inc) are on nasm's include path, so guests kept
# beside their tests share flat.inc with guest/flat's own.
function(hvsim_flat_guest name source)
  set(out "${HVSIM_FLAT_GUEST_DIR}/${name}.bin")
  get_filename_component(src "${source}" ABSOLUTE)
  get_filename_component(src_dir "${src}" DIRECTORY)
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${HVSIM_FLAT_GUEST_DIR}"
    COMMAND ${NASM_EXECUTABLE} -f bin -w+all -I "${src_dir}/" -I "${CMAKE_SOURCE_DIR}/guest/flat/" -o "${out}" "${src}"
    DEPENDS "${src}" ${ARGN}
    COMMENT "nasm ${name}.bin"
    VERBATIM)
  add_custom_target(guest_${name} ALL DEPENDS "${out}")
  set_property(GLOBAL APPEND PROPERTY HVSIM_FLAT_GUESTS "${name}")
endfunction()
