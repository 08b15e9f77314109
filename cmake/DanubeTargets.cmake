# Helpers shared by every CMakeLists.txt of the project.

# Warnings for code we write (generated protobuf code is compiled without them). The installed
# SDK libraries link it as $<BUILD_INTERFACE:danube_warnings>: a build setting of this tree,
# not part of their interface.
add_library(danube_warnings INTERFACE)
target_compile_options(danube_warnings INTERFACE -Wall -Wextra -Werror)
# GCC 12 at -O3 reports -Wrestrict inside libstdc++'s own std::string concatenation (GCC bug
# 105329), which -Werror would turn into a failed release build of correct code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(danube_warnings INTERFACE -Wno-restrict)
endif()

# danube_add_test(<name> LABELS <label>... SOURCES <file>... LIBS <target>... [TIMEOUT <s>])
# builds a Boost.Test executable and registers it with ctest.
function(danube_add_test name)
  cmake_parse_arguments(arg "" "TIMEOUT" "LABELS;SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} Boost::unit_test_framework danube_warnings)
  target_compile_definitions(${name} PRIVATE BOOST_TEST_MODULE=${name})
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite --color_output=no --report_level=short)
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}" TIMEOUT ${arg_TIMEOUT})
endfunction()
