# MbcasTest.cmake - the two ways a test is declared.
#
#   mbcas_add_test([NAME] name SOURCES a.c [b.c] LIBS lib... [LABELS l...] [TIMEOUT s])
#       a cmocka executable registered with CTest.
#   mbcas_add_python_test([NAME] name SCRIPT path [ARGS ...] [LABELS l...] [TIMEOUT s])
#       a script run by Debian's system Python (label "python" added).
#
# Every test sees MBCAS_SOURCE_DIR, MBCAS_BUILD_DIR, MBCAS_PYTHON, KUBECTL and
# MBCAS_SHARED_DIR (../shared beside the checkout) in its environment.
set(MBCAS_TEST_ENV
  "MBCAS_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "MBCAS_BUILD_DIR=${PROJECT_BINARY_DIR}"
  "MBCAS_PYTHON=${MBCAS_PYTHON}"
  "KUBECTL=${MBCAS_KUBECTL}"
  "MBCAS_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared")

# The name may be given first or as "NAME x": both spellings are in use.
macro(_mbcas_test_name)
  if(T_NAME)
    set(NAME ${T_NAME})
  else()
    list(GET T_UNPARSED_ARGUMENTS 0 NAME)
  endif()
endmacro()

function(mbcas_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  _mbcas_test_name()
  add_executable(${NAME} ${T_SOURCES})
  target_link_libraries(${NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_include_directories(${NAME} PRIVATE ${PROJECT_SOURCE_DIR}/test/common)
  add_test(NAME ${NAME} COMMAND ${NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${NAME} PROPERTIES
    ENVIRONMENT "${MBCAS_TEST_ENV}" LABELS "c;${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

function(mbcas_add_python_test)
  cmake_parse_arguments(T "" "NAME;SCRIPT;TIMEOUT" "ARGS;LABELS" ${ARGN})
  _mbcas_test_name()
  add_test(NAME ${NAME} COMMAND ${MBCAS_PYTHON} ${T_SCRIPT} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${NAME} PROPERTIES
    ENVIRONMENT "${MBCAS_TEST_ENV}" LABELS "python;${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()
