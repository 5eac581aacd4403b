"""What the machine stands in for offline, declared in one place.

conda-build takes the compilers, the C library (the stdlib) and the host libraries
from conda-forge, and their run_exports add run requirements to the package. Here
they are the machine's, so the runner adds what those conda-forge packages would
have added, and the offline solver is offered the machine's versions of them
(``machine_versions``) as it is offered the machine's Python:

- ``{{ compiler('c') }}`` is conda-forge's gcc_linux-64, whose strong run_exports
  are ``libgcc >=<major>``; ``{{ compiler('cxx') }}``, gxx_linux-64, adds
  ``libstdcxx >=<major>`` and ``libgcc >=<major>`` (conda-forge's
  ctng-compiler-activation recipe; conda-build applies no run_exports
  transitively, hence both). The version is ``<lang>_compiler_version`` of
  conda_build_config.yaml; the machine's compiler must not be newer.
- ``{{ stdlib('c') }}`` is conda-forge's sysroot_linux-64 at ``c_stdlib_version``,
  whose strong run_export is ``__glibc >=<version>,<3.0.a0`` (linux-sysroot
  recipe). Offline the machine's glibc is the stdlib, and binaries linked against
  it may need newer symbols, so the lower bound is the highest ``GLIBC_x.y`` the
  package's ELF files need (read from them), never below ``c_stdlib_version``.
- ``HOST_LIBRARIES``: host requirements under their conda-forge names, whose
  offline stand-in is a Debian ``-dev`` package; conda-forge's run_exports for the
  machine's version become run requirements.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import BuildError
from .elf import glibc_needed, is_dynamic_elf
from .render import DEFAULT_COMPILERS, TARGET_PLATFORM, Rendered, _pin
from .specs import spec_name, spec_names

# Compiler package (the <lang>_compiler variant value) -> the runtime libraries its
# conda-forge package run-exports, and the machine's program for it.
COMPILER_RUNTIMES = {"gcc": ("libgcc",), "gxx": ("libstdcxx", "libgcc")}
MACHINE_COMPILERS = {"gcc": "gcc", "gxx": "g++"}
GLIBC_CEILING = "3.0.a0"  # the upper bound of the sysroot's __glibc run_export


@dataclass(frozen=True)
class HostLibrary:
    """A host requirement that comes from the machine offline."""

    name: str  # conda-forge's package name, as the recipe writes it in host
    debian: str  # the Debian package that provides it here
    # The pkg-config module whose version is the library's; None where there is no
    # such module (lame has none, freetype2's is libtool's): then the Debian package's.
    pkgconfig: str | None
    conda_version: Callable[[str], str]  # that version -> conda-forge's
    # conda-forge's run_exports at that version (its feedstock's current recipe)
    run_export: Callable[[str], tuple[str, ...]]

    @property
    def source(self) -> str:
        return f"pkg-config {self.pkgconfig}" if self.pkgconfig else f"dpkg {self.debian}"


def debian_upstream(version: str) -> str:
    """The upstream part of a Debian version: 2.12.1+dfsg-5+deb12u4 -> 2.12.1,
    1:9f-2 -> 9f (no epoch, no Debian revision, no +dfsg/~ repack suffix)."""
    upstream = re.sub(r"^\d+:", "", version.strip())
    upstream = upstream.rsplit("-", 1)[0]  # the revision, if any
    return re.split(r"[+~]", upstream, maxsplit=1)[0]


def _same(version: str) -> str:
    return version.split()[0]


def _pinned(package: str, max_pin: str | None = "x", *also: str) -> Callable[[str], tuple]:
    """The run_exports pin_subpackage(package, max_pin=...) (and the specs ``also``):
    >=version,<next; only >=version when max_pin is None."""

    def export(version: str) -> tuple[str, ...]:
        pin = _pin(version, "x.x.x.x.x.x", max_pin)
        return (f"{package} {pin}", *(spec.format(version=version) for spec in also))

    return export


def _dav1d_export(version: str) -> tuple[str, ...]:
    """dav1d-dev's run_exports: the runtime package named after the soname's major
    (libdav1d7 for dav1d 1.1 and later), pin_subpackage with the default max_pin."""
    libdir = _output(["pkg-config", "--variable=libdir", "dav1d"])
    target = (Path(libdir) / "libdav1d.so").resolve().name if libdir else ""
    major = re.fullmatch(r"libdav1d\.so\.(\d+)(\.\d+)*", target)
    if not major:
        raise BuildError(f"dav1d: cannot read the soname's major from {libdir}/libdav1d.so")
    return _pinned(f"libdav1d{major.group(1)}")(version)


def _x264_version(modversion: str) -> str:
    """x264's pkg-config version 0.<soname>.<revision> is conda-forge's
    1!<soname>.<revision> (epoch 1, the x264 feedstock's form)."""
    parts = modversion.split()[0].split(".")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[1:3]):
        raise BuildError(f"x264: cannot read pkg-config's version {modversion!r}")
    return f"1!{parts[1]}.{parts[2]}"


def _x264_export(version: str) -> tuple[str, ...]:
    """The x264 feedstock's run_exports: at least this build, within its soname."""
    soname = int(version.split("!")[1].split(".")[0])
    return (f"x264 >={version},<1!{soname + 1}",)


def _libxml2_export(version: str) -> tuple[str, ...]:
    """libxml2-devel's run_exports: since 2.14 (soname libxml2.so.16) the runtime
    package libxml2-16, unpinned, and libxml2; before, when the soname was
    libxml2.so.2 and the package libxml2 alone, pin_subpackage with max_pin x.x."""
    major, minor = (int(p) for p in version.split(".")[:2])
    if (major, minor) >= (2, 14):
        return ("libxml2", f"libxml2-16 >={version}")
    return _pinned("libxml2", "x.x")(version)


# conda-forge name in host, Debian's stand-in, where the version comes from, and the
# feedstock's run_exports (read from each conda-forge feedstock's recipe).
HOST_LIBRARIES = {
    lib.name: lib
    for lib in (
        HostLibrary("x264", "libx264-dev", "x264", _x264_version, _x264_export),
        # its soname changes with every minor release
        HostLibrary("x265", "libx265-dev", "x265", _same, _pinned("x265", "x.x")),
        HostLibrary("zlib", "zlib1g-dev", "zlib", _same, _pinned("libzlib")),
        HostLibrary("bzip2", "libbz2-dev", None, debian_upstream, _pinned("bzip2")),
        HostLibrary("liblzma-devel", "liblzma-dev", "liblzma", _same, _pinned("liblzma")),
        HostLibrary("openh264", "libopenh264-dev", "openh264", _same, _pinned("openh264", "x.x.x")),
        HostLibrary("dav1d", "libdav1d-dev", "dav1d", _same, _dav1d_export),
        HostLibrary("libvpx", "libvpx-dev", "vpx", _same, _pinned("libvpx", "x.x")),
        HostLibrary("aom", "libaom-dev", "aom", _same, _pinned("aom", "x.x")),
        HostLibrary("libopus", "libopus-dev", "opus", _same, _pinned("libopus")),
        HostLibrary("lame", "libmp3lame-dev", None, debian_upstream, _pinned("lame", "x.x")),
        # no pkg-config version: freetype2's is libtool's (24.3.18 for 2.12.1)
        HostLibrary(
            "freetype",
            "libfreetype-dev",
            None,
            debian_upstream,
            _pinned("libfreetype", None, "libfreetype6 >={version}"),
        ),
        HostLibrary(
            "fontconfig",
            "libfontconfig-dev",
            "fontconfig",
            _same,
            _pinned("fontconfig", "x", "fonts-conda-ecosystem"),
        ),
        HostLibrary("harfbuzz", "libharfbuzz-dev", "harfbuzz", _same, _pinned("libharfbuzz", None)),
        # expat.pc ships in expat, not in libexpat (which fontconfig brings along)
        HostLibrary("expat", "libexpat1-dev", "expat", _same, _pinned("libexpat")),
        # dav1d.pc ships in dav1d-dev; conda-forge's dav1d holds only the program
        HostLibrary("dav1d-dev", "libdav1d-dev", "dav1d", _same, _dav1d_export),
        # libxml-2.0.pc ships in libxml2-devel (the dash demuxer)
        HostLibrary("libxml2-devel", "libxml2-dev", "libxml-2.0", _same, _libxml2_export),
        HostLibrary("openssl", "libssl-dev", "openssl", _same, _pinned("openssl")),
        HostLibrary("libass", "libass-dev", "libass", _same, _pinned("libass", "x.x.x")),
        HostLibrary("libvorbis", "libvorbis-dev", "vorbis", _same, _pinned("libvorbis", "x.x")),
        # the libraries and their .pc files; conda-forge's libwebp holds only the tools
        HostLibrary("libwebp-base", "libwebp-dev", "libwebp", _same, _pinned("libwebp-base")),
        # the soname carries 0.minor (libjxl.so.0.7): one minor release
        HostLibrary("libjxl", "libjxl-dev", "libjxl", _same, _pinned("libjxl", "x.x")),
        HostLibrary("svt-av1", "libsvtav1enc-dev", "SvtAv1Enc", _same, _pinned("svt-av1", "x.x.x")),
        HostLibrary("gmp", "libgmp-dev", "gmp", _same, _pinned("gmp")),
        # libva.pc's version is the VA-API's (1.17.0 in libva 2.17.0): the package's then
        HostLibrary("libva", "libva-dev", None, debian_upstream, _pinned("libva")),
    )
}


@dataclass(frozen=True)
class PcModule:
    """A pkg-config module as conda-forge's package ships it (hermetic.py)."""

    name: str
    requires: str = ""
    requires_private: str = ""


# conda-forge package -> the pkg-config modules it ships, with the Requires and
# Requires.private lines its build writes (each feedstock's recipe and upstream's
# .pc template at the packaged release). A package with no entry ships none.
PC_MODULES: dict[str, tuple[PcModule, ...]] = {
    "x264": (PcModule("x264"),),
    "x265": (PcModule("x265"),),
    "zlib": (PcModule("zlib"),),  # libzlib holds only the library
    "liblzma-devel": (PcModule("liblzma"),),
    "openh264": (PcModule("openh264"),),
    "dav1d-dev": (PcModule("dav1d"),),
    "libvpx": (PcModule("vpx"),),
    "aom": (PcModule("aom"),),
    "libopus": (PcModule("opus"),),
    # freetype's build.sh deletes the Requires.private line (zlib, libpng upstream)
    "freetype": (PcModule("freetype2"),),
    "fontconfig": (PcModule("fontconfig", "freetype2 >= 21.0.15", "expat"),),
    "expat": (PcModule("expat"),),
    "libharfbuzz-devel": (
        PcModule("harfbuzz", "", "freetype2 >= 20.0.14, glib-2.0 >= 2.30.0, graphite2 >= 1.2.0"),
        PcModule("harfbuzz-subset", "harfbuzz"),
    ),
    "libglib": (
        PcModule("glib-2.0", "", "libpcre2-8 >= 10.32"),
        PcModule("gobject-2.0", "glib-2.0", "libffi >= 3.0.0"),
    ),
    "pcre2": (PcModule("libpcre2-8"),),
    "libffi": (PcModule("libffi"),),
    "graphite2": (PcModule("graphite2"),),
    "libxml2-devel": (PcModule("libxml-2.0"),),  # the no-ICU variant: no Requires
    "openssl": (
        PcModule("openssl", "libssl libcrypto"),
        PcModule("libssl", "", "libcrypto"),
        PcModule("libcrypto"),
    ),
    # harfbuzz.pc ships in libharfbuzz-devel, which libass does not bring: a recipe
    # that declares libass alone fails on it, as under conda-build
    "libass": (
        PcModule(
            "libass",
            "",
            "fontconfig >= 2.10.92, harfbuzz >= 1.2.3, fribidi >= 0.19.1, freetype2 >= 9.17.3",
        ),
    ),
    "fribidi": (PcModule("fribidi"),),
    "libvorbis": (
        PcModule("vorbis", "", "ogg"),
        PcModule("vorbisenc", "", "vorbis"),
        PcModule("vorbisfile", "", "vorbis"),
    ),
    "libogg": (PcModule("ogg"),),
    # libwebp 1.2.4's modules (libsharpyuv.pc came with 1.3)
    "libwebp-base": (
        PcModule("libwebp"),
        PcModule("libwebpmux", "libwebp >= 0.2.0"),
        PcModule("libwebpdemux", "libwebp >= 0.2.0"),
    ),
    # libjxl 0.7's template (lib/jxl.cmake): lcms2 until 0.9 brought libjxl_cms
    "libjxl": (
        PcModule("libjxl", "", "libhwy libbrotlicommon libbrotlienc libbrotlidec lcms2"),
        PcModule("libjxl_threads"),
    ),
    "libhwy": (PcModule("libhwy"),),
    # brotli's split: one module per output (its headers ship in brotli)
    "libbrotlicommon": (PcModule("libbrotlicommon"),),
    "libbrotlienc": (PcModule("libbrotlienc", "", "libbrotlicommon >= 1.0.2"),),
    "libbrotlidec": (PcModule("libbrotlidec", "", "libbrotlicommon >= 1.0.2"),),
    "lcms2": (PcModule("lcms2"),),
    "svt-av1": (PcModule("SvtAv1Enc"),),
    "gmp": (PcModule("gmp"), PcModule("gmpxx", "gmp")),
    "libva": (
        PcModule("libva"),
        PcModule("libva-drm", "libva"),
        PcModule("libva-x11", "libva"),
    ),
}

# conda-forge package -> the packages its run requirements put into a host
# environment beside it (those that ship pkg-config modules or matter here).
BRINGS: dict[str, tuple[str, ...]] = {
    "zlib": ("libzlib",),
    "liblzma-devel": ("liblzma",),
    "dav1d": ("libdav1d",),
    "dav1d-dev": ("libdav1d",),
    "freetype": ("libfreetype6",),
    "fontconfig": ("libexpat", "libfreetype6", "libuuid", "libzlib"),
    "expat": ("libexpat",),
    "harfbuzz": ("libharfbuzz-devel",),  # a metapackage
    "libharfbuzz-devel": ("libharfbuzz", "freetype"),
    "libharfbuzz": ("libglib", "graphite2", "libfreetype6", "libpng"),
    "libglib": ("pcre2", "libffi", "libzlib", "libiconv"),
    "libxml2-devel": ("libxml2", "libxml2-16", "libiconv", "liblzma", "libzlib"),
    "openssl": ("ca-certificates",),
    "libass": ("fribidi", "fontconfig", "libfreetype6", "libharfbuzz", "libiconv", "libzlib"),
    "libvorbis": ("libogg",),
    "libjxl": ("libhwy", "libbrotlienc", "libbrotlidec", "lcms2"),
    "libbrotlienc": ("libbrotlicommon",),
    "libbrotlidec": ("libbrotlicommon",),
    "libva": ("libdrm", "wayland-protocols"),
}


def _output(cmd: list[str]) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def host_library_version(lib: HostLibrary) -> str | None:
    """The machine's version of lib, in conda-forge's form; None if not installed."""
    if lib.pkgconfig:
        found = _output(["pkg-config", "--modversion", lib.pkgconfig])
    else:
        status = _output(["dpkg-query", "-W", "-f", "${db:Status-Status} ${Version}", lib.debian])
        found = status.split(" ", 1)[1] if status and status.startswith("installed ") else None
    return lib.conda_version(found) if found else None


def compiler_version(program: str, full: bool = False) -> str | None:
    """The machine's compiler version: its major (12), or in full (12.2.0)."""
    return _output([program, "-dumpfullversion" if full else "-dumpversion"])


def machine_versions() -> dict[str, str]:
    """The compiler runtimes and host libraries the machine has, by conda-forge name
    and version, for the solver: libgcc and libstdcxx at the compilers' versions."""
    found = {}
    for compiler, runtimes in COMPILER_RUNTIMES.items():
        version = compiler_version(MACHINE_COMPILERS[compiler], full=True)
        for runtime in runtimes:
            if version and runtime not in found:
                found[runtime] = version
    for lib in HOST_LIBRARIES.values():
        version = host_library_version(lib)
        if version:
            # What its run_exports name: the package itself, or its runtime (libzlib,
            # libdav1d6, libfreetype6, ...), or a companion (fonts-conda-ecosystem).
            for name in {lib.name, *spec_names(lib.run_export(version))}:
                found.setdefault(name, version)
    return found


def compilers_in(r: Rendered, specs) -> list[tuple[str, str, str]]:
    """(language, compiler, package) of each compiler() among specs, a requirements
    list (build, or test/requires)."""
    names = set(spec_names(specs))
    found = []
    for lang, default in DEFAULT_COMPILERS.items():
        compiler = r.variant.get(f"{lang}_compiler", default)
        if f"{compiler}_{TARGET_PLATFORM}" in names:
            found.append((lang, compiler, f"{compiler}_{TARGET_PLATFORM}"))
    return found


def _compilers(r: Rendered) -> list[tuple[str, str, str]]:
    """(language, compiler, build requirement) of each compiler() in build."""
    return compilers_in(r, (r.meta.get("requirements") or {}).get("build"))


# What conda-forge's activation of each compiler package sets for build.sh, the
# ctng-compiler-activation recipe's variable -> the machine's program. The names
# are bare, so that PATH decides (and ccache's compiler links come first there).
COMPILER_ACTIVATION = {
    "gcc": {"CC": "gcc", "CPP": "cpp", "AR": "ar", "NM": "nm", "RANLIB": "ranlib",
            "STRIP": "strip", "LD": "ld", "OBJCOPY": "objcopy", "OBJDUMP": "objdump"},
    "gxx": {"CXX": "g++"},
}  # fmt: skip
# The flags the same activation sets under conda-build (CONDA_BUILD=1) on linux-64:
# build_scripts.sh's FINAL_* values for linux-64, then what activate-gcc.sh and
# activate-g++.sh append (the host prefix's headers and libraries, its rpath, and the
# debug prefix maps). Nothing here points into conda's sysroot, so the machine's gcc
# takes them as they are. {prefix}, {src_dir}, {name} and {version} are filled in.
_CONDA_CFLAGS = ("-march=nocona -mtune=haswell -ftree-vectorize -fPIC -fstack-protector-strong "
                 "-fno-plt -O2 -ffunction-sections -pipe")  # fmt: skip
_FROM_PREFIX = (" -fno-merge-constants -isystem {prefix}/include"
                " -fdebug-prefix-map={src_dir}=/usr/local/src/conda/{name}-{version}"
                " -fdebug-prefix-map={prefix}=/usr/local/src/conda-prefix")  # fmt: skip
ACTIVATION_FLAGS = {
    "gcc": {
        "CPPFLAGS": "-DNDEBUG -D_FORTIFY_SOURCE=2 -O2 -isystem {prefix}/include",
        "CFLAGS": _CONDA_CFLAGS + _FROM_PREFIX,
        "LDFLAGS": "-Wl,-O2 -Wl,--sort-common -Wl,--as-needed -Wl,-z,relro -Wl,-z,now "
                   "-Wl,--disable-new-dtags -Wl,--gc-sections -Wl,--allow-shlib-undefined "
                   "-Wl,-rpath,{prefix}/lib -Wl,-rpath-link,{prefix}/lib -L{prefix}/lib",
    },
    "gxx": {
        "CXXFLAGS": "-fvisibility-inlines-hidden -std=c++17 -fmessage-length=0 "
                    + _CONDA_CFLAGS + _FROM_PREFIX,
    },
}  # fmt: skip
# gxx_linux-64 depends on gcc_linux-64, so a C++ compiler activates both.
ACTIVATES = {"gcc": ("gcc",), "gxx": ("gcc", "gxx")}
ACTIVATION_VARIABLES = sorted(
    {
        v
        for table in (COMPILER_ACTIVATION, ACTIVATION_FLAGS)
        for names in table.values()
        for v in names
    }
)


def activation(compilers, prefix: Path, src_dir: Path, name: str, version: str) -> dict[str, str]:
    """The variables conda-forge's activation of these compiler packages (gcc, gxx)
    sets under conda-build: the machine's programs and conda-forge's flags."""
    fill = {"prefix": prefix, "src_dir": src_dir, "name": name, "version": version}
    found = {}
    for package in dict.fromkeys(p for c in compilers for p in ACTIVATES.get(c, (c,))):
        found.update(COMPILER_ACTIVATION.get(package, {}))
        found.update({k: v.format(**fill) for k, v in ACTIVATION_FLAGS.get(package, {}).items()})
    return found


def compiler_activation(r: Rendered, prefix: Path, src_dir: Path) -> dict[str, str]:
    """CC, CXX, AR, ..., CFLAGS, LDFLAGS, ... for the compiler() packages in build,
    as their activation sets them under conda-build, naming the machine's programs."""
    return activation([c for _, c, _ in _compilers(r)], prefix, src_dir, r.name, r.version)


def check_compilers(r: Rendered) -> None:
    """The run_exports promise libgcc/libstdcxx >= <lang>_compiler_version: refuse to
    build with a newer machine compiler, whose runtime symbols would break that."""
    for lang, compiler, _ in _compilers(r):
        program, wanted = MACHINE_COMPILERS.get(compiler), r.variant.get(f"{lang}_compiler_version")
        have = compiler_version(program) if program else None
        if wanted and have and int(have.split(".")[0]) > int(wanted.split(".")[0]):
            raise BuildError(
                f"{r.name}: the machine's {program} is version {have}, newer than "
                f"{lang}_compiler_version {wanted} in conda_build_config.yaml, so the "
                f"run_exports {' and '.join(COMPILER_RUNTIMES[compiler])} >={wanted} would "
                f"not hold; set {lang}_compiler_version: {have} (or --variant "
                f"{lang}_compiler_version={have})"
            )


@dataclass
class RunExport:
    spec: str
    source: str  # the package it comes from, for ignore_run_exports_from
    why: str  # for the build log
    # conda-build applies strong run_exports to every package, weak ones only to a
    # package that is not noarch (a noarch: python package gets no python_abi).
    strong: bool = False


def compiler_exports(r: Rendered) -> list[RunExport]:
    """The strong run_exports of the compiler() packages in build: libgcc (and
    libstdcxx for C++) at <lang>_compiler_version."""
    exports = []
    for lang, compiler, package in _compilers(r):
        version = r.variant.get(f"{lang}_compiler_version")
        program = MACHINE_COMPILERS.get(compiler)
        if compiler not in COMPILER_RUNTIMES:
            print(f"build: {package}: no run_exports known for compiler {compiler}")
            continue
        if not version:
            version = compiler_version(program)
            if not version:
                raise BuildError(f"{r.name}: {lang}_compiler_version is not set and the "
                                 f"machine has no {program} to take it from")  # fmt: skip
        why = f"{package}, the machine's {program} {compiler_version(program, True) or '?'}"
        exports += [
            RunExport(f"{lib} >={version}", package, why, strong=True)
            for lib in COMPILER_RUNTIMES[compiler]
        ]
    return exports


def _stdlib_floor(r: Rendered) -> tuple[str, tuple[int, ...]] | None:
    """(package, c_stdlib_version) when build has {{ stdlib('c') }} as conda-forge's sysroot."""
    package = f"{r.variant.get('c_stdlib', 'c')}_{TARGET_PLATFORM}"
    build = spec_names((r.meta.get("requirements") or {}).get("build"))
    version = r.variant.get("c_stdlib_version")
    if r.variant.get("c_stdlib") != "sysroot" or package not in build or not version:
        return None
    try:
        return package, tuple(int(p) for p in version.split("."))
    except ValueError:
        raise BuildError(f"c_stdlib_version {version!r} is not a glibc version") from None


def glibc_export(r: Rendered, prefix: Path, own_files: list[str]) -> list[RunExport]:
    """__glibc >=X,<3.0.a0: X the highest GLIBC_x.y the package's ELF files need,
    at least the sysroot's c_stdlib_version when build has {{ stdlib('c') }}."""
    needed, needer = None, None
    for rel in own_files:
        path = prefix / rel
        if path.is_symlink() or not path.is_file() or not is_dynamic_elf(path):
            continue
        version = glibc_needed(path)
        if version and (needed is None or version > needed):
            needed, needer = version, rel
    floor = _stdlib_floor(r)
    source = floor[0] if floor else "glibc"
    if floor and (needed is None or floor[1] >= needed):
        why = f"{floor[0]} (c_stdlib_version); the ELF files need no newer GLIBC_"
        needed = floor[1]
    elif needed is not None:
        why = f"GLIBC_{'.'.join(map(str, needed))} needed by {needer}, the newest in the package"
    else:
        return []
    spec = f"__glibc >={'.'.join(map(str, needed))},<{GLIBC_CEILING}"
    return [RunExport(spec, source, why, strong=True)]


# The machine's interpreter stands in for conda-forge's python, whose weak run_export
# (python-feedstock) ties a package built against it to its ABI.
PYTHON_ABI_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
PYTHON_ABI_TAG = f"cp{sys.version_info.major}{sys.version_info.minor}"


def python_abi_export() -> str:
    """python_abi 3.11.* *_cp311: what a package with python in host depends on."""
    return f"python_abi {PYTHON_ABI_VERSION}.* *_{PYTHON_ABI_TAG}"


def host_exports(r: Rendered, specs: list[str]) -> list[RunExport]:
    """conda-forge's run_exports of the host requirements the machine stands in for."""
    exports = []
    for spec in specs:
        name = spec_name(spec)
        lib = HOST_LIBRARIES.get(name)
        if name == "python":
            why = f"the machine's Python {PYTHON_ABI_VERSION} stands in for conda-forge's python"
            exports.append(RunExport(python_abi_export(), name, why))
            continue
        if lib is None:
            print(f"host: {spec}: the machine's; no stand-in declared, no run_exports")
            continue
        version = host_library_version(lib)
        if version is None:
            raise BuildError(f"{r.name}: host requirement {spec} comes from the machine offline, "
                             f"as Debian's {lib.debian}, which is not installed ({lib.source} "
                             f"finds none): apt-get install {lib.debian}")  # fmt: skip
        why = f"the machine's {lib.debian} ({lib.source}: {version}) stands in for {name} {version}"
        exports += [RunExport(export, name, why) for export in lib.run_export(version)]
    return exports


def missing_debian_packages() -> list[str]:
    """The Debian packages of HOST_LIBRARIES that pkg-config cannot find here."""
    return [lib.debian for lib in HOST_LIBRARIES.values() if host_library_version(lib) is None]
