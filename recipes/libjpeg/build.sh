#!/bin/bash
# IJG libjpeg: shared and static, the static one position-independent so that
# a shared library (OpenCV's imgcodecs) can link it in.
set -euxo pipefail

# No --host: the runner's and conda-build's HOST triplet would put autoconf
# into cross-compiling mode on a native build.
./configure --prefix="${PREFIX}" --enable-shared --enable-static --with-pic
make -j"${CPU_COUNT}"

# IJG's own check: decode and encode its test images and compare them byte for
# byte with the references in the tarball. A cross build cannot run them.
if [[ "${CONDA_BUILD_CROSS_COMPILATION:-0}" != "1" ]]; then
  make check
fi

make install
# libtool archives point at the build prefix; conda packages leave them out.
rm -f "${PREFIX}/lib/libjpeg.la"
