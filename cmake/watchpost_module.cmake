# watchpost_module(NAME <name> DEPS <targets...>)
# One folder, one library: sources are <folder>/src/*.cpp, public headers live in
# <folder>/include/watchpost/<name>/. The library is exported as watchpost::<name>.
function(watchpost_module)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  add_library(watchpost_${ARG_NAME} STATIC ${sources})
  add_library(watchpost::${ARG_NAME} ALIAS watchpost_${ARG_NAME})
  target_include_directories(watchpost_${ARG_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                                   PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(watchpost_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
