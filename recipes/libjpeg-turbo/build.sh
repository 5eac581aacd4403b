#!/bin/bash
# Build libjpeg-turbo with its SIMD code (nasm), shared and static, with the
# libjpeg 8 ABI that conda-forge's libjpeg-turbo also exports.
set -euxo pipefail

mkdir -p build && cd build

# CMAKE_ARGS comes from conda-build (toolchain, CMAKE_INSTALL_PREFIX, ...);
# our explicit settings follow it and win.
cmake ${CMAKE_ARGS:-} -G "Unix Makefiles" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="${PREFIX}" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_ASM_NASM_COMPILER=nasm \
  -DENABLE_SHARED=ON \
  -DENABLE_STATIC=ON \
  -DWITH_JPEG8=ON \
  -DWITH_TURBOJPEG=ON \
  -DREQUIRE_SIMD=ON \
  "${SRC_DIR}"

make -j"${CPU_COUNT}"

# The upstream test suite compares hundreds of outputs against known digests;
# it needs to run the binaries, which a cross build cannot.
if [[ "${CONDA_BUILD_CROSS_COMPILATION:-0}" != "1" ]]; then
  ctest -j"${CPU_COUNT}" --output-on-failure
fi

make install
