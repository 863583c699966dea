# Shared compile settings and the helper that declares one library per module.
add_library(strata_settings INTERFACE)
target_compile_options(strata_settings INTERFACE
  -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor
  -fno-strict-aliasing)
if(STRATA_WERROR)
  target_compile_options(strata_settings INTERFACE -Werror)
endif()
if(STRATA_ASSERTS)
  # Release keeps its optimisation but assert() stays on: invariants and decode bounds.
  target_compile_options(strata_settings INTERFACE -UNDEBUG)
endif()
target_compile_definitions(strata_settings INTERFACE STRATA_VERSION="${PROJECT_VERSION}")
if(STRATA_ASAN)
  target_compile_options(strata_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(strata_settings INTERFACE -fsanitize=address,undefined)
endif()
if(STRATA_TSAN)
  target_compile_options(strata_settings INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(strata_settings INTERFACE -fsanitize=thread)
endif()

# strata_module(NAME SOURCES ... DEPS ... PRIVATE_DEPS ...)
# Declares library strata_<NAME>. DEPS must only name modules to the left in the module order
# (core, distance, io, quant, graph, disk, search, collection, capi, server): a cycle fails the build.
function(strata_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(strata_${name} STATIC ${M_SOURCES})
  target_include_directories(strata_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
  target_link_libraries(strata_${name} PUBLIC ${M_DEPS} PRIVATE strata_settings ${M_PRIVATE_DEPS})
  set_target_properties(strata_${name} PROPERTIES
    POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()

# strata_test(NAME SOURCES ... DEPS ... [LABEL unit|integration|slow] [PROPERTIES k v ...])
function(strata_test name)
  cmake_parse_arguments(T "" "LABEL" "SOURCES;DEPS;PROPERTIES" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} strata_settings strata_testing GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${T_LABEL} ${T_PROPERTIES})
endfunction()

# strata_isa_objects_test(NAME MODULE TABLE_REGEX): ODR guard for a module's files compiled with
# -mavx2/-mavx512*: their objects may define no global or weak symbol except their kernel table.
function(strata_isa_objects_test name module table_regex)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM}
      "-DOBJECTS=$<JOIN:$<FILTER:$<TARGET_OBJECTS:${module}>,INCLUDE,kernels_avx>,|>"
      "-DTABLE_REGEX=${table_regex}"
      -P ${PROJECT_SOURCE_DIR}/cmake/CheckIsaObjects.cmake)
  set_tests_properties(${name} PROPERTIES LABELS unit)
endfunction()
