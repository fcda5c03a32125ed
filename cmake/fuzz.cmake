# fuzz.cmake - libFuzzer harnesses (tests/fuzz/fuzz_<target>.c) and their ctests.
#
# Only with clang and -DFS_FUZZ=ON, in a build directory of its own:
#   CC=clang cmake -S . -B build-fuzz -DFS_FUZZ=ON -DFS_SANITIZE=ON
#   cmake --build build-fuzz --target fuzzers && (cd build-fuzz && ctest -R '^fuzz/')
# (tests/fuzz/run does all of this.)  Each harness is built with
# -fsanitize=fuzzer,address,undefined; the libraries it tests (fscommon, fsjobs)
# get coverage instrumentation (-fsanitize=fuzzer-no-link) and the same
# sanitizers.  Each ctest fuzz/<target> fuzzes for FS_FUZZ_SECONDS over a copy
# of tests/fuzz/corpus/<target>/ in a temporary directory: any crash, leak,
# sanitizer report, timeout or out-of-memory fails it, and the input that did
# it is kept under <build>/fuzz-artifacts/<target>/.
option(FS_FUZZ "Build the libFuzzer harnesses in tests/fuzz (clang only)" OFF)
set(FS_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz/<target> ctest fuzzes for")

if(FS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(WARNING "FS_FUZZ needs clang (CC=clang); the compiler is ${CMAKE_C_COMPILER_ID}: "
                    "no fuzz harnesses built")
  else()
    set(FS_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer)
    foreach(lib fscommon fsjobs)
      get_target_property(fs_fuzz_libtype ${lib} TYPE)
      if(NOT fs_fuzz_libtype STREQUAL "INTERFACE_LIBRARY")
        target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link ${FS_FUZZ_SAN})
      endif()
    endforeach()

    add_custom_target(fuzzers)
    file(GLOB FS_FUZZ_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
    foreach(src ${FS_FUZZ_SRC})
      get_filename_component(name ${src} NAME_WE)      # fuzz_slice
      string(REGEX REPLACE "^fuzz_" "" target ${name}) # slice
      add_executable(${name} ${src})
      target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz)
      target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${FS_FUZZ_SAN})
      target_link_options(${name} PRIVATE -fsanitize=fuzzer ${FS_FUZZ_SAN})
      target_link_libraries(${name} PRIVATE fsjobs fscommon)
      fs_warnings(${name})
      add_dependencies(fuzzers ${name})
      add_test(NAME fuzz/${target}
               COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz-one $<TARGET_FILE:${name}>
                       ${PROJECT_SOURCE_DIR}/tests/fuzz ${target} ${FS_FUZZ_SECONDS}
                       ${PROJECT_BINARY_DIR}/fuzz-artifacts/${target})
      math(EXPR fs_fuzz_timeout "${FS_FUZZ_SECONDS} * 3 + 60")
      set_tests_properties(fuzz/${target} PROPERTIES TIMEOUT ${fs_fuzz_timeout} LABELS fuzz)
    endforeach()
  endif()
endif()
