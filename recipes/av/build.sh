#!/bin/bash
# PyAV's setup.py finds FFmpeg with pkg-config: only the host prefix's.
set -euxo pipefail
export PKG_CONFIG_LIBDIR="${PREFIX}/lib/pkgconfig"
pkg-config --exists libavcodec libavformat libavutil libswscale libswresample libavfilter libavdevice \
  || { echo "host ffmpeg is missing" >&2; exit 1; }
"${PYTHON}" -m pip install . -vv --no-deps --no-build-isolation
