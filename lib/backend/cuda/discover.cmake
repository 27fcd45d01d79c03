# Included by the top-level CMakeLists.txt: decides REPRO_HAVE_CUDA from REPRO_WITH_CUDA
# (AUTO|ON|OFF) and enables the CUDA language; lib/backend/cuda/CMakeLists.txt builds the module
# only then.
set(REPRO_HAVE_CUDA OFF)
if(NOT REPRO_WITH_CUDA STREQUAL "OFF")
  set(CUDNN_ROOT "" CACHE PATH "cuDNN root (include/, lib/), e.g. site-packages/nvidia/cudnn")
  include(CheckLanguage)
  check_language(CUDA)
  # A given CUDNN_ROOT wins over any system cuDNN. A pip wheel ships only libcudnn.so.9 (no
  # unversioned .so), hence the explicit name and NAMES_PER_DIR (directory order first).
  if(CUDNN_ROOT)
    find_path(CUDNN_INCLUDE_DIR cudnn.h PATHS ${CUDNN_ROOT}/include NO_DEFAULT_PATH)
    find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 NAMES_PER_DIR
      PATHS ${CUDNN_ROOT}/lib ${CUDNN_ROOT}/lib64 NO_DEFAULT_PATH)
  endif()
  find_path(CUDNN_INCLUDE_DIR cudnn.h
    HINTS ${CUDNN_ROOT}/include /usr/local/cuda/include /usr/include)
  find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 NAMES_PER_DIR
    HINTS ${CUDNN_ROOT}/lib ${CUDNN_ROOT}/lib64 /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu)
  if(CMAKE_CUDA_COMPILER AND CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
    set(REPRO_HAVE_CUDA ON)
  elseif(REPRO_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "REPRO_WITH_CUDA=ON but nvcc or cuDNN was not found "
      "(nvcc: '${CMAKE_CUDA_COMPILER}', cudnn.h: '${CUDNN_INCLUDE_DIR}', libcudnn: '${CUDNN_LIBRARY}'); "
      "set CMAKE_CUDA_COMPILER / CUDNN_ROOT or use -DREPRO_WITH_CUDA=OFF")
  endif()
endif()
if(REPRO_HAVE_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
  endif()
  set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 knows no CUDA20 flags for nvcc; kernels need only C++17
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  # Kernels must round like the CPU's float code: no FMA contraction, IEEE division and square
  # root, denormals kept. Never --use_fast_math.
  string(APPEND CMAKE_CUDA_FLAGS " -fmad=false -prec-div=true -prec-sqrt=true -ftz=false")
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "repro: cuDNN ${CUDNN_LIBRARY} (headers ${CUDNN_INCLUDE_DIR})")
endif()
message(STATUS "repro: CUDA backend ${REPRO_HAVE_CUDA}")
