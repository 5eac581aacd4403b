"""A host environment as strict as conda-build's, on a machine that has every library.

Under conda-build the host prefix holds only what ``requirements/host`` names and
what those packages bring with them (their run requirements), and its pkg-config
sees only their ``.pc`` files. Offline, Debian's ``-dev`` packages stand in for
conda-forge's, and all of them are installed: a build could find a library its
recipe never declared. Two checks close that gap.

- **pkg-config.** ``standin_pkgconfig`` writes a folder of stand-in ``.pc`` files,
  one for each module that conda-forge's packages in the host closure ship (the
  declared stand-ins, then what their run requirements bring, ``machine.PC_MODULES``
  and ``machine.BRINGS``). Each is Debian's file with ``Requires`` and
  ``Requires.private`` as conda-forge's own file has them. ``PKG_CONFIG_LIBDIR``
  points there, so pkg-config sees nothing else of the machine: fontconfig declared
  without expat fails as it fails under conda-build, because conda-forge's
  ``fontconfig.pc`` requires ``expat`` and only the ``expat`` package ships it.
- **Linked libraries.** ``check_needed`` reads the ``NEEDED`` entries of every ELF
  file a package packs. Each must be the package's own, a host package's from our
  channel, a declared stand-in's, glibc's or a declared compiler's runtime; any
  other is a build error that names the file, the library, the Debian package it
  came from and the conda-forge package to declare.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import BuildError
from .elf import is_dynamic_elf
from .machine import BRINGS, HOST_LIBRARIES, PC_MODULES, PcModule

# glibc's libraries: the stdlib every package may link (its run_export is __glibc).
GLIBC_SONAMES = frozenset({
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
    "libresolv.so.2", "libutil.so.1", "libanl.so.1", "libmvec.so.1",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
})  # fmt: skip
# The runtimes a compiler() package's run_exports bring (libgcc, libstdcxx).
COMPILER_SONAMES = {
    "gcc": frozenset({"libgcc_s.so.1", "libgomp.so.1", "libatomic.so.1"}),
    "gxx": frozenset({"libstdc++.so.6"}),
}
_REQUIRES = re.compile(r"^(Requires(?:\.private)?)\s*:.*$", re.MULTILINE)


def closure(names: Iterable[str]) -> list[str]:
    """The packages a host environment holds: the declared ones and, transitively,
    what their run requirements bring (machine.BRINGS), in a stable order."""
    found: dict[str, None] = {}
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name in found:
            continue
        found[name] = None
        pending += BRINGS.get(name, ())
    return list(found)


def _machine_pc(module: str) -> Path | None:
    """Where the machine's pkg-config finds ``module``'s .pc file, or None."""
    if not shutil.which("pkg-config"):
        return None
    proc = subprocess.run(["pkg-config", "--path", module], capture_output=True, text=True,
                          check=False)  # fmt: skip
    path = proc.stdout.strip()
    return Path(path) if proc.returncode == 0 and path else None


def _requires_names(line: str) -> list[str]:
    """Module names in a Requires value: ``freetype2 >= 21.0.15, expat`` gives both."""
    words = re.split(r"[\s,]+", line.strip())
    names, skip = [], False
    for word in words:
        if not word:
            continue
        if skip:
            skip = False
            continue
        if word in ("=", "<", ">", "<=", ">=", "!="):
            skip = True
            continue
        names.append(word)
    return names


def standin_text(debian_pc: str, module: PcModule) -> str:
    """Debian's .pc file with conda-forge's Requires and Requires.private lines."""
    text = _REQUIRES.sub("", debian_pc).rstrip("\n") + "\n"
    text += f"Requires: {module.requires}\n"
    text += f"Requires.private: {module.requires_private}\n"
    return text


@dataclass
class StandinReport:
    modules: dict[str, str]  # module -> the conda-forge package that ships it
    # "fontconfig.pc (fontconfig) requires expat", or a .pc the machine lacks: what
    # pkg-config will fail on, said before the build does
    unresolved: list[str]


def standin_pkgconfig(host_names: Iterable[str], folder: Path,
                      channel_pc: Iterable[str] = ()) -> StandinReport:  # fmt: skip
    """Write the stand-in .pc files of the host closure of ``host_names`` into folder.
    ``channel_pc`` names the modules our channel's host packages put in the prefix."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    modules: dict[str, str] = {}
    missing: list[str] = []
    for package in closure(host_names):
        for module in PC_MODULES.get(package, ()):
            source = _machine_pc(module.name)
            if source is None:  # pkg-config then fails on it, and the line says why
                lib = HOST_LIBRARIES.get(package)
                hint = f" (apt-get install {lib.debian})" if lib else ""
                missing.append(f"the machine has no {module.name}.pc to stand in for "
                               f"{package}'s{hint}")  # fmt: skip
                continue
            (folder / f"{module.name}.pc").write_text(standin_text(source.read_text(), module))
            modules[module.name] = package
    present = set(modules) | set(channel_pc)
    unresolved = []
    for name, package in modules.items():
        module = next(m for m in PC_MODULES[package] if m.name == name)
        for wanted in _requires_names(module.requires) + _requires_names(module.requires_private):
            if wanted not in present:
                ships = [p for p, ms in PC_MODULES.items() if any(m.name == wanted for m in ms)]
                declare = f"; conda-forge's {' or '.join(ships)} ships it" if ships else ""
                unresolved.append(f"{name}.pc ({package}) requires {wanted}, which no package "
                                  f"in the host environment ships{declare}")  # fmt: skip
    return StandinReport(modules, missing + unresolved)


# --- linked libraries -------------------------------------------------------------------


def dynamic_entries(path: Path) -> tuple[list[str], str | None]:
    """(NEEDED sonames, SONAME) of an ELF file, read with binutils' readelf."""
    proc = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", proc.stdout)
    soname = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", proc.stdout)
    return needed, soname.group(1) if soname else None


def provided_sonames(paths: Iterable[Path]) -> set[str]:
    """The names a set of files answers to as libraries: file names and SONAMEs."""
    found = set()
    for path in paths:
        if path.is_file() and is_dynamic_elf(path):
            found.add(path.name)
            soname = dynamic_entries(path)[1]
            if soname:
                found.add(soname)
        elif path.name.startswith("lib") and ".so" in path.name:
            found.add(path.name)
    return found


def standin_sonames(package: str) -> set[str]:
    """The sonames a declared stand-in provides: those its Debian -dev package's
    lib*.so links resolve to."""
    lib = HOST_LIBRARIES.get(package)
    if lib is None or not shutil.which("dpkg"):
        return set()
    proc = subprocess.run(["dpkg", "-L", lib.debian], capture_output=True, text=True, check=False)
    links = [Path(p) for p in proc.stdout.splitlines() if re.search(r"/lib[^/]*\.so$", p)]
    return provided_sonames(p.resolve() for p in links if p.exists())


def debian_owner(soname: str) -> str | None:
    """The Debian package whose library answers to ``soname`` here, if any."""
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/usr/sbin:/sbin")
    if not ldconfig or not shutil.which("dpkg"):
        return None
    listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True,
                             check=False).stdout  # fmt: skip
    match = re.search(rf"^\s*{re.escape(soname)} \(.*\) => (\S+)$", listing, re.MULTILINE)
    if not match:
        return None
    found = Path(match.group(1))
    real = found.parent / found.resolve().name  # the file, in the directory ldconfig named
    # dpkg knows a file by the path its package installed (/lib or /usr/lib: merged /usr)
    for path in dict.fromkeys((real, found.resolve(), Path(str(real).replace("/usr/lib/", "/lib/")),
                               Path(str(real).replace("/lib/", "/usr/lib/", 1)))):  # fmt: skip
        owner = subprocess.run(["dpkg", "-S", str(path)], capture_output=True, text=True,
                               check=False)  # fmt: skip
        if owner.returncode == 0 and owner.stdout.strip():
            return owner.stdout.split(":", 1)[0].strip()
    return None


def conda_name_for(debian_package: str | None) -> str | None:
    """The conda-forge host package whose stand-in brings that Debian runtime package."""
    if not debian_package:
        return None
    for lib in HOST_LIBRARIES.values():
        proc = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}", lib.debian],
                              capture_output=True, text=True, check=False)  # fmt: skip
        depends = {d.strip().split()[0] for d in proc.stdout.split(",") if d.strip()}
        if debian_package in depends:
            return lib.name
    return None


def check_needed(prefix: Path, files: Iterable[str], allowed: set[str], what: str) -> int:
    """Every NEEDED entry of the ELF files among ``files`` (paths under prefix) must
    be in ``allowed`` or be one of those files; returns how many entries were checked."""
    paths = [prefix / f for f in files]
    # Each ELF file's dynamic section, read once: its NEEDED entries and its SONAME.
    entries = {p: dynamic_entries(p) for p in paths
               if not p.is_symlink() and p.is_file() and is_dynamic_elf(p)}  # fmt: skip
    own = {p.name for p in paths} | {soname for _, soname in entries.values() if soname}
    problems, checked = [], 0
    for path, (needed, _) in entries.items():
        for soname in needed:
            checked += 1
            if soname in own or soname in allowed:
                continue
            owner = debian_owner(soname)
            declare = conda_name_for(owner)
            fix = (f"declare {declare} in requirements/host" if declare else
                   "declare the conda-forge package that provides it in requirements/host (and "
                   "a stand-in for it in tools/offline_build/machine.py, HOST_LIBRARIES)")  # fmt: skip
            source = f"the machine's {owner}" if owner else "the machine"
            problems.append(f"{path.relative_to(prefix)} links {soname}, from {source}, which "
                            f"no declared host package provides: {fix}")  # fmt: skip
    if problems:
        raise BuildError(f"{what}: undeclared libraries linked:\n  " + "\n  ".join(problems))
    return checked
