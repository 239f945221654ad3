# CMake toolchain file: bare-metal Arm Cortex-M4 with the GNU Arm Embedded toolchain
# (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi).
#
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake [-DTINYC_FLOAT_ABI=soft]
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# No C library to link a test program against: check the compiler with a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# Cortex-M4F: hard-float ABI with its FPU by default (boards/startup.c enables the FPU at
# reset); -DTINYC_FLOAT_ABI=soft (or softfp) for the other ABIs.
if(NOT TINYC_FLOAT_ABI)
  set(TINYC_FLOAT_ABI hard)
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TINYC_FLOAT_ABI)
if(TINYC_FLOAT_ABI STREQUAL "soft")
  set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft")
else()
  set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=${TINYC_FLOAT_ABI} -mfpu=fpv4-sp-d16")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
