#!/bin/bash
# Build libjpeg-turbo with its SIMD code (nasm), shared and static, with the
# libjpeg 8 ABI that conda-forge's libjpeg-turbo also exports.
set -euxo pipefail

# "standard" installs like any libjpeg provider; "prefixed" (noclob) installs
# everything under $PREFIX/lib/libjpeg-turbo so that it coexists with IJG's jpeg 9.
layout="${libjpeg_turbo_layout:-standard}"
case "${layout}" in
  standard) root="${PREFIX}" ;;
  prefixed) root="${PREFIX}/lib/libjpeg-turbo" ;;
  *) echo "unknown libjpeg_turbo_layout: ${layout}" >&2; exit 1 ;;
esac

mkdir -p build && cd build

# CMAKE_ARGS comes from conda-build (toolchain, CMAKE_INSTALL_PREFIX, ...);
# our explicit settings follow it and win.
cmake ${CMAKE_ARGS:-} -G "Unix Makefiles" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="${root}" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_ASM_NASM_COMPILER=nasm \
  -DENABLE_SHARED=ON \
  -DENABLE_STATIC=ON \
  `# static libraries as position-independent code, so that a shared library` \
  `# (OpenCV's imgcodecs) can link them in` \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
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
