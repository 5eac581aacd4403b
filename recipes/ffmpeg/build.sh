#!/bin/bash
# FFmpeg, shared libraries plus ffmpeg and ffprobe. The license family comes
# from conda_build_config.yaml (license_family: lgpl | gpl).
set -euxo pipefail

# conda-build exports the variant's keys to the build script, as does our runner.
license="${license_family:?license_family (lgpl or gpl) must come from the variant}"

args=(
  --prefix="${PREFIX}"
  --enable-shared
  --disable-static
  --enable-pic
  --enable-pthreads
  --disable-doc
  --disable-debug
  --disable-ffplay
  # Nothing from the build machine sneaks in: every external library is named here.
  --disable-autodetect
)

if [[ "${license}" == "gpl" ]]; then
  args+=(--enable-gpl --enable-libx264 --enable-libx265)
else
  # Stated explicitly so that `ffmpeg -buildconf` proves it.
  args+=(--disable-gpl --disable-nonfree)
fi

./configure "${args[@]}"
make -j"${CPU_COUNT}"
make install
