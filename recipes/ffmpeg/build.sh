#!/bin/bash
# FFmpeg, shared libraries plus ffmpeg and ffprobe. The license family comes
# from conda_build_config.yaml (license_family: lgpl | gpl).
set -euxo pipefail

# conda-build exports the variant's keys to the build script, as does our runner.
license="${license_family:?license_family (lgpl or gpl) must come from the variant}"

args=(
  --prefix="${PREFIX}"
  # conda's toolchain: configure reads none of these from the environment and would
  # fall back to the first gcc on PATH, bypassing conda's compilers and sysroot.
  --cc="${CC}"
  --cxx="${CXX}"
  --nm="${NM}"
  --ar="${AR}"
  --ranlib="${RANLIB}"
  --pkg-config="$(command -v pkg-config)"
  --enable-shared
  --disable-static
  --enable-pic
  --enable-pthreads
  --disable-doc
  --disable-debug
  --disable-ffplay
  # Nothing from the build machine sneaks in: every external library is named here,
  # and each is a host requirement in meta.yaml.
  --disable-autodetect
  --enable-zlib            # PNG, APNG, TIFF deflate, compressed Matroska/MOV headers
  --enable-bzlib           # bzip2-compressed Matroska tracks
  --enable-lzma            # LZMA-compressed TIFF
  --enable-iconv           # subtitle character sets (-sub_charenc)
  --enable-libopenh264     # an LGPL-compatible H.264 encoder (BSD-2-Clause)
  --enable-libdav1d        # the fast AV1 decoder
  --enable-libaom          # AV1 encoder and decoder
  --enable-libvpx          # VP8 and VP9
  --enable-libopus
  --enable-libmp3lame
  --enable-libfreetype     # drawtext, with fontconfig for font names
  --enable-libfontconfig
  --enable-libharfbuzz     # drawtext needs it since FFmpeg 7
  --enable-libxml2         # the DASH demuxer
  --enable-openssl         # https, tls, dtls
  --enable-libass          # the subtitles and ass filters
  --enable-libvorbis
  --enable-libwebp         # WebP encoders (decoding is FFmpeg's own)
  --enable-libjxl          # JPEG XL, both ways
  --enable-libsvtav1       # the fast AV1 encoder
  --enable-gmp             # rtmpe
  # gmp is LGPLv3 and OpenSSL 3 is Apache-2.0: the build becomes (L)GPL version 3,
  # as conda-forge's does.
  --enable-version3
)

if [[ "${target_platform}" == linux-* ]]; then
  # Hardware paths. VAAPI links libva; NVENC, NVDEC and CUVID come from
  # ffnvcodec-headers and load NVIDIA's driver at run time (nothing links CUDA).
  args+=(--enable-vaapi --enable-ffnvcodec --enable-cuda --enable-cuvid --enable-nvdec --enable-nvenc)
fi

if [[ "${CONDA_BUILD_CROSS_COMPILATION:-0}" == "1" ]]; then
  case "${target_platform}" in
    linux-*) target_os=linux ;;
    osx-*) target_os=darwin ;;
    *) echo "no FFmpeg target OS for ${target_platform}" >&2; exit 1 ;;
  esac
  case "${target_platform#*-}" in
    64) arch=x86_64 ;;
    arm64 | aarch64) arch=aarch64 ;;
    *) arch="${target_platform#*-}" ;;  # ppc64le, ...
  esac
  args+=(--enable-cross-compile --target-os="${target_os}" --arch="${arch}"
         --cross-prefix="${HOST}-" --host-cc="${CC_FOR_BUILD}")
fi

if [[ "${license}" == "gpl" ]]; then
  args+=(--enable-gpl --enable-libx264 --enable-libx265)
else
  # Stated explicitly so that `ffmpeg -buildconf` proves it.
  args+=(--disable-gpl --disable-nonfree)
fi

./configure "${args[@]}"
make -j"${CPU_COUNT}"
make install
