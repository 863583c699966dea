# libstrata: the installable library. libstrata.so.0 (C API symbols only) and libstrata.a (every
# module's objects), headers, a CMake package (find_package(strata) -> strata::strata,
# strata::strata_static) and a pkg-config file. The server module is not part of it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(STRATA_LIBRARY_MODULES core distance io quant graph disk search collection capi)
set(strata_objects)
foreach(m ${STRATA_LIBRARY_MODULES})
  list(APPEND strata_objects $<TARGET_OBJECTS:strata_${m}>)
endforeach()
# Third-party libraries the modules use (all shared Debian packages).
set(STRATA_LIBRARY_DEPS TBB::tbb fmt::fmt spdlog::spdlog simdjson::simdjson PkgConfig::LIBURING
    PkgConfig::LIBXXHASH Threads::Threads)

add_library(strata_shared SHARED ${strata_objects})
target_link_libraries(strata_shared PRIVATE ${STRATA_LIBRARY_DEPS} strata_settings)
target_link_options(strata_shared PRIVATE
  -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/strata.map -Wl,--exclude-libs,ALL)
if(NOT STRATA_ASAN AND NOT STRATA_TSAN)
  target_link_options(strata_shared PRIVATE -Wl,--no-undefined)
endif()
set_target_properties(strata_shared PROPERTIES
  OUTPUT_NAME strata VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  EXPORT_NAME strata LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/strata.map
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
target_include_directories(strata_shared INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(strata_static STATIC ${strata_objects})
target_link_libraries(strata_static INTERFACE ${STRATA_LIBRARY_DEPS})
set_target_properties(strata_static PROPERTIES
  OUTPUT_NAME strata EXPORT_NAME strata_static LINKER_LANGUAGE CXX
  ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
target_include_directories(strata_static INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

install(TARGETS strata_shared strata_static EXPORT strataTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Public headers only (include/strata): strata.h is the shared library's API; the C++ headers
# serve static linking (the shared library exports no C++ symbol).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/strata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT strataTargets NAMESPACE strata::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/strataConfig.cmake.in
  ${CMAKE_BINARY_DIR}/strataConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/strataConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/strataConfig.cmake ${CMAKE_BINARY_DIR}/strataConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
# Relocatable: the prefix is found from the .pc file's own directory.
file(RELATIVE_PATH STRATA_PC_PREFIX_REL "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${PROJECT_SOURCE_DIR}/cmake/strata.pc.in ${CMAKE_BINARY_DIR}/strata.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/strata.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
