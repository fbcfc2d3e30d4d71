# Which stb, doctest and zlib headers the GPU build's C++ sources read,
# without compiling them: every C++ entry of compile_commands.json that
# belongs to nib or nib_cuda_tests is run through the preprocessor alone
# (-M: the list of headers it reads) with its real flags. Fails if any of them
# reads /usr/include's (or /usr/local/include's) stb, doctest, zlib.h or
# zconf.h, or if no source reads a packed one. scripts/gpu_check.sh runs it for
# --rehearse --configure-only (CI); after a build it reads the compiler's
# dependency records instead, which cover the nvcc sources too.
#
#   cmake -DBUILD=build-gpucheck -DCARRY=.gpu-carry -P scripts/gpu_headers_check.cmake
#
# A CMake script rather than a shell or Python one: CMake is there whenever
# the build is, and it reads JSON and splits command lines as a shell would.
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD CARRY)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "usage: cmake -DBUILD=<build dir> -DCARRY=<pack dir> -P ${CMAKE_SCRIPT_MODE_FILE}")
  endif()
endforeach()
file(REAL_PATH "${CARRY}" CARRY)
file(READ "${BUILD}/compile_commands.json" commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")

set(checked 0)
set(system_reads "")
set(packed_stb 0)
set(packed_doctest 0)
set(packed_zlib 0)
foreach(i RANGE ${last})
  string(JSON entry GET "${commands}" ${i})
  string(JSON source GET "${entry}" file)
  string(JSON directory GET "${entry}" directory)
  string(JSON command GET "${entry}" command)
  if(source MATCHES "\\.cu$")  # nvcc's sources are left out here
    continue()
  endif()
  # The compile command without its outputs, asking for the header list
  # instead; its object file (-o) says which target it belongs to.
  separate_arguments(arguments UNIX_COMMAND "${command}")
  set(preprocess "")
  set(object "")
  set(skip_next "")
  foreach(argument IN LISTS arguments)
    if(skip_next STREQUAL "-o")
      set(object "${argument}")
      set(skip_next "")
    elseif(skip_next)
      set(skip_next "")
    elseif(argument STREQUAL "-o" OR argument STREQUAL "-MF" OR argument STREQUAL "-MT")
      set(skip_next "${argument}")
    elseif(NOT argument STREQUAL "-c" AND NOT argument STREQUAL "-MD")
      list(APPEND preprocess "${argument}")
    endif()
  endforeach()
  # Only the targets the GPU check builds: the layers (nib_util ... nib_bench), nib_core, nib, nib_cuda_tests (not nib_tests).
  if(NOT object MATCHES "(^|/)(nib_(util|hub|device|kernels|tensor|formats|layers|optim|distributed|models|datasets|viz|train|retrieval|bench|core)|nib|nib_cuda_tests)\\.dir/")
    continue()
  endif()
  execute_process(COMMAND ${preprocess} -M WORKING_DIRECTORY "${directory}"
                  OUTPUT_VARIABLE headers ERROR_VARIABLE errors RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "preprocessing ${source} failed:\n${errors}")
  endif()
  math(EXPR checked "${checked} + 1")
  if(headers MATCHES "(^|[ \t\n])/usr/(local/)?include/(stb/|doctest/|zlib\\.h|zconf\\.h)")
    list(APPEND system_reads "${source}")
  endif()
  foreach(packed stb doctest zlib)
    set(header "${packed}/")
    if(packed STREQUAL "zlib")
      set(header "zlib.h")
    endif()
    string(FIND "${headers}" "${CARRY}/include/${header}" at)
    if(at GREATER_EQUAL 0)
      math(EXPR packed_${packed} "${packed_${packed}} + 1")
    endif()
  endforeach()
endforeach()

message("C++ sources of nib and nib_cuda_tests preprocessed: ${checked}")
message("sources reading the packed stb: ${packed_stb}, doctest: ${packed_doctest}, zlib: ${packed_zlib}")
list(LENGTH system_reads system_count)
message("sources reading /usr/include's stb, doctest or zlib: ${system_count} ${system_reads}")
if(system_count GREATER 0 OR packed_stb EQUAL 0 OR packed_doctest EQUAL 0 OR packed_zlib EQUAL 0)
  message(FATAL_ERROR "the GPU build does not read stb, doctest and zlib from ${CARRY} alone")
endif()
