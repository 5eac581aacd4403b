#!/bin/bash
# OpenCV: every main module that opencv-python-headless ships but dnn (see
# OPENCV_MODULES), headless highgui and the Python bindings, on our FFmpeg and a
# static JPEG library chosen by the variant: libjpeg-turbo (prefixed layout) or
# IJG libjpeg 9. meta.yaml splits the install into libopencv, py-opencv and opencv.
set -euxo pipefail

case "${jpeg_implementation:?jpeg_implementation (turbo or ijg) must come from the variant}" in
  turbo) jpeg_root="${PREFIX}/lib/libjpeg-turbo" ;;
  ijg) jpeg_root="${PREFIX}" ;;
  *) echo "unknown jpeg_implementation: ${jpeg_implementation}" >&2; exit 1 ;;
esac
test -f "${jpeg_root}/lib/libjpeg.a" || { echo "host ${jpeg_implementation} libjpeg.a is missing" >&2; exit 1; }
jpeg_api=$(sed -n 's/^#define JPEG_LIB_VERSION  *\([0-9]*\).*/\1/p' "${jpeg_root}/include/jpeglib.h" "${jpeg_root}/include/jconfig.h" | head -n1)
if [[ "${jpeg_implementation}" == "turbo" ]]; then
  jpeg_name="libjpeg-turbo $(sed -n 's/^#define LIBJPEG_TURBO_VERSION  *//p' "${jpeg_root}/include/jconfig.h")"
else
  # IJG names its releases 9, 9a, 9b, ...: the minor number is the letter.
  minor=$(sed -n 's/^#define JPEG_LIB_VERSION_MINOR  *\([0-9]*\).*/\1/p' "${jpeg_root}/include/jpeglib.h")
  letters=("" a b c d e f g h i j)
  jpeg_name="IJG libjpeg $((jpeg_api / 10))${letters[minor]}"
fi

# The licence of the JPEG library linked in statically, for about/license_file
# (conda-build reads those paths from the source tree after this script).
if [[ "${jpeg_implementation}" == "turbo" ]]; then
  mkdir -p "${SRC_DIR}/licenses/libjpeg-turbo"
  cp "${jpeg_root}/share/doc/libjpeg-turbo/LICENSE.md" "${jpeg_root}/share/doc/libjpeg-turbo/README.ijg" \
    "${SRC_DIR}/licenses/libjpeg-turbo/"
fi

# Only our FFmpeg: pkg-config looks nowhere but the host prefix.
export PKG_CONFIG_LIBDIR="${PREFIX}/lib/pkgconfig"
pkg-config --exists libavcodec libavformat libavutil libswscale || { echo "host ffmpeg is missing" >&2; exit 1; }

# Linker flags: conda's LDFLAGS (rpath, -L to the host lib, --as-needed, ...) first,
# ours appended. CMake uses LDFLAGS only as the default of CMAKE_*_LINKER_FLAGS; a
# value given here replaces that default, so each one given carries LDFLAGS itself.
# GNU ld's --exclude-libs keeps the static libjpeg's symbols out of imgcodecs' exports.
# Apple's ld64 has no such option; its two-level namespace binds imgcodecs' own calls
# to its own copy anyway.
jpeg_hiding=""
if [[ "${target_platform}" == linux-* ]]; then
  jpeg_hiding="-Wl,--exclude-libs,libjpeg.a"
fi
linker_flags="${LDFLAGS:-}${jpeg_hiding:+ ${jpeg_hiding}}"

numpy_include=$("${PYTHON}" -c 'import numpy; print(numpy.get_include())')
py_include=$("${PYTHON}" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
py_library=$("${PYTHON}" -c 'import sysconfig as s; print(s.get_config_var("LIBDIR") + "/" + s.get_config_var("LDLIBRARY"))')

# opencv-python-headless 5.0 builds every module of the main repository but the
# java, js, objc, ts and world ones. dnn is left out: its 224 source files and its
# bundled protobuf are more source than all the other modules together, which would
# take the turbo variant past 15 minutes on 2 cores from an empty compile cache.
# (OpenCV 5.0 has no gapi module; ml moved to opencv_contrib.)
OPENCV_MODULES=core,imgproc,imgcodecs,videoio,highgui,video,calib,features,flann,geometry,objdetect,photo,ptcloud,stereo,stitching,python3

cmake -S . -B build -G Ninja ${CMAKE_ARGS} \
  -DCMAKE_INSTALL_PREFIX="${PREFIX}" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_LIST="${OPENCV_MODULES}" -DBUILD_opencv_dnn=OFF \
  -DBUILD_SHARED_LIBS=ON \
  -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOCS=OFF \
  -DBUILD_opencv_apps=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_js=OFF \
  -DOPENCV_GENERATE_PKGCONFIG=ON \
  `# headless: no GUI toolkit` \
  -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_OPENGL=OFF -DWITH_WAYLAND=OFF -DWITH_FRAMEBUFFER=OFF \
  `# JPEG: the variant's library, linked statically; its symbols stay inside libopencv_imgcodecs` \
  -DWITH_JPEG=ON -DBUILD_JPEG=OFF \
  -DJPEG_INCLUDE_DIR="${jpeg_root}/include" \
  -DJPEG_LIBRARY="${jpeg_root}/lib/libjpeg.a" \
  -DJPEG_LIB_VERSION="${jpeg_api}, ${jpeg_name}" \
  -DCMAKE_SHARED_LINKER_FLAGS="${linker_flags}" \
  -DCMAKE_MODULE_LINKER_FLAGS="${linker_flags}" \
  -DCMAKE_EXE_LINKER_FLAGS="${LDFLAGS:-}" \
  `# other image formats: OpenCV's bundled copies, static, so the package needs nothing else` \
  -DWITH_PNG=ON -DBUILD_PNG=ON -DBUILD_ZLIB=ON -DWITH_SPNG=OFF \
  -DWITH_TIFF=ON -DBUILD_TIFF=ON \
  -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_AVIF=OFF \
  -DWITH_JPEGXL=OFF -DWITH_GDAL=OFF -DWITH_GDCM=OFF -DWITH_IMGCODEC_GIF=ON \
  `# video: FFmpeg (ours) and V4L cameras; nothing else` \
  -DWITH_FFMPEG=ON -DOPENCV_FFMPEG_USE_FIND_PACKAGE=OFF -DVIDEOIO_PLUGIN_LIST= \
  -DWITH_V4L=ON -DWITH_GSTREAMER=OFF -DWITH_1394=OFF -DWITH_AVFOUNDATION=OFF -DWITH_MSMF=OFF \
  -DWITH_OBSENSOR=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF \
  `# IPP and friends are downloaded at configure time: not offline, not here` \
  -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_OPENCL=OFF -DWITH_CUDA=OFF -DWITH_TBB=OFF \
  -DWITH_OPENMP=OFF -DWITH_EIGEN=OFF -DWITH_LAPACK=OFF -DWITH_PROTOBUF=OFF \
  -DWITH_KLEIDICV=OFF -DWITH_FASTCV=OFF \
  -DPARALLEL_ENABLE_PLUGINS=OFF -DHIGHGUI_ENABLE_PLUGINS=OFF \
  `# Python bindings for the environment's Python and numpy` \
  -DBUILD_opencv_python3=ON \
  -DPYTHON3_EXECUTABLE="${PYTHON}" \
  -DPYTHON3_INCLUDE_DIR="${py_include}" \
  -DPYTHON3_LIBRARY="${py_library}" \
  -DPYTHON3_NUMPY_INCLUDE_DIRS="${numpy_include}" \
  -DOPENCV_PYTHON3_INSTALL_PATH="lib/python${PY_VER}/site-packages" \
  -DOPENCV_SKIP_PYTHON_LOADER=OFF

cmake --build build --parallel "${CPU_COUNT}"
cmake --install build

# What pip reads: cv2 is installed as opencv-python and opencv-python-headless (as
# conda-forge's packages say), so `pip install` of a package that needs either
# keeps this cv2 instead of putting a wheel on top of it. Packed in py-opencv.
site="${PREFIX}/lib/python${PY_VER}/site-packages"
test -d "${site}/cv2" || { echo "cv2 was not installed into ${site}" >&2; exit 1; }
for dist in opencv-python opencv-python-headless; do
  info="${site}/${dist//-/_}-${PKG_VERSION}.dist-info"
  mkdir -p "${info}"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: OpenCV %s, from the conda package py-opencv\nRequires-Python: >=%s\nRequires-Dist: numpy>=2\n' \
    "${dist}" "${PKG_VERSION}" "${PKG_VERSION}" "${PY_VER}" > "${info}/METADATA"
  echo conda > "${info}/INSTALLER"
  # RECORD: the dist-info's own files (pip must not uninstall cv2 from under conda).
  (cd "${site}" && for f in METADATA INSTALLER; do echo "$(basename "${info}")/${f},,"; done
   echo "$(basename "${info}")/RECORD,,") > "${info}/RECORD"
done

# The configuration as OpenCV reports it, for the build log.
sed -n '/General configuration/,/Install to/p' build/CMakeFiles/CMakeOutput.log 2>/dev/null || true
