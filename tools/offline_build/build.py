"""The pipeline of one rendered recipe: render checks, fetch, host install, build.sh,
relocation, run_exports, manifest, tests, cache; with the build's log and progress.

Each step lives in its own module, which this one calls and none of which calls
back: the keys in cache.py, the host environment and run_exports in host.py, the
rpaths in relocate.py, the tests in testing.py.

Layout under ``<root>/<recipe>/<key>/``: ``work/`` (SRC_DIR), ``prefix``
(a link to the staging PREFIX, ``prefix_placehold_placehold...``, padded to 255
characters as conda-build pads its host prefix, so that an install may replace
it in binaries with any shorter path), ``build.log``, ``test.log``, ``manifest.json``, a
``BUILT`` stamp once build.sh succeeded and a ``DONE`` stamp (holding the
tests' key) once the tests passed.  ``<root>/<recipe>/current`` points at the
last successful key.  The key covers what the build reads, not the recipe's
tests: changed tests rerun on the existing build.

Host requirements that our own channel (``<root>/channel``) holds are
installed into PREFIX before build.sh runs, as conda-build does; their files
stay out of the package and their run_exports become run requirements.  Every
other requirement is the machine's (compilers, cmake, Python, numpy, x264); what
the conda-forge packages it stands in for would export (libgcc, libstdcxx,
__glibc, x264, ...) is added as machine.py declares it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

from . import BuildError, ccache
from .cache import cache_key, test_key
from .fetch import fetch_source, local_files
from .hermetic import (
    COMPILER_SONAMES,
    GLIBC_SONAMES,
    check_needed,
    provided_sonames,
    standin_pkgconfig,
    standin_sonames,
)
from .host import host_from_channel, install_host, run_exports_as_depends
from .machine import (
    ACTIVATES,
    ACTIVATION_VARIABLES,
    check_compilers,
    compiler_activation,
    compilers_in,
    glibc_export,
    host_exports,
)
from .pack import license_files
from .relocate import relocate
from .render import TARGET_PLATFORM, Rendered
from .specs import spec_name
from .testing import PY_VER, check_commands, python_env, run_tests

PREFIX_LENGTH = 255  # conda-build's placeholder length
HEARTBEAT = 60  # seconds between "still building" lines


def step(title: str) -> None:
    print(f"\n==== {title}", flush=True)


def _stream(cmd: list[str], log: Path, heartbeat: str | None = None, **kwargs) -> int:
    """Run cmd, copying its merged stdout/stderr to our stdout and to log. With a
    heartbeat, a step line every HEARTBEAT seconds says how long it has run:
    ``heartbeat`` is its text, with ``{minutes}`` for the elapsed minutes."""
    started, done = time.monotonic(), threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT):
            step(heartbeat.format(minutes=f"{(time.monotonic() - started) / 60:.0f}"))

    if heartbeat:
        threading.Thread(target=beat, daemon=True).start()
    try:
        return _copy_output(cmd, log, **kwargs)
    finally:
        done.set()


def _copy_output(cmd: list[str], log: Path, **kwargs) -> int:
    with (
        open(log, "a") as fh,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         errors="replace", bufsize=1, **kwargs) as proc,
    ):  # fmt: skip
        for line in proc.stdout:
            sys.stdout.write(line)
            fh.write(line)
    sys.stdout.flush()
    return proc.returncode


def extract(archive: Path, dest: Path, subdir: str | None = None) -> None:
    """Unpack into dest, dropping the single top-level directory if there is one;
    with subdir, dest gets that directory of the tree instead."""
    unpacked = dest.with_name(dest.name + ".unpack")
    shutil.rmtree(unpacked, ignore_errors=True)
    unpacked.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
    except tarfile.TarError as exc:
        raise BuildError(f"cannot unpack {archive.name}: {exc}") from None
    entries = list(unpacked.iterdir())
    top = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
    if subdir:
        top = top / subdir
        if not top.is_dir():
            shutil.rmtree(unpacked, ignore_errors=True)
            raise BuildError(f"{archive.name} has no {subdir}/ directory")
    top.rename(dest)
    shutil.rmtree(unpacked, ignore_errors=True)


def build_env(r: Rendered, prefix: Path, build_prefix: Path, src_dir: Path,
              root: Path) -> dict[str, str]:  # fmt: skip
    """conda-build's environment contract for build.sh (linux-64, no cross compiling),
    with the machine's compile cache in front of its compilers (ccache.py)."""
    env = {k: v for k, v in os.environ.items()
           if k != "LD_LIBRARY_PATH" and k not in ACTIVATION_VARIABLES}  # fmt: skip
    env.update(r.variant)
    env.update(compiler_activation(r, prefix, src_dir))
    env.update(
        PREFIX=str(prefix), BUILD_PREFIX=str(build_prefix), SRC_DIR=str(src_dir),
        RECIPE_DIR=str(r.recipe_dir), CPU_COUNT=str(os.cpu_count() or 1),
        PKG_NAME=r.name, PKG_VERSION=r.version, PKG_BUILDNUM=r.info["PKG_BUILDNUM"],
        PKG_HASH=r.pkg_hash, PKG_BUILD_STRING=r.build_string,
        target_platform=TARGET_PLATFORM, build_platform=TARGET_PLATFORM, SHLIB_EXT=".so",
        HOST="x86_64-conda-linux-gnu", CONDA_BUILD="1", CONDA_BUILD_CROSS_COMPILATION="0",
        CMAKE_ARGS=f"-DCMAKE_INSTALL_PREFIX={prefix} -DCMAKE_INSTALL_LIBDIR=lib "
                   f"-DCMAKE_PREFIX_PATH={prefix} -DCMAKE_BUILD_TYPE=Release",
        PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"),  # conda-build's unix_vars
        **python_env(prefix), **pip_env(prefix, build_prefix),
    )  # fmt: skip
    env.update(ccache.environment(root, prefix / "bin", os.environ.get("PATH", "/usr/bin:/bin")))
    return env


def pip_env(prefix: Path, build_prefix: Path) -> dict[str, str]:
    """What conda-build sets for pip in build.sh (build.py: no index, no dependencies,
    no build isolation, installed packages ignored, a private cache), and one stand-in:
    $PYTHON is the machine's interpreter, not one in PREFIX, so PIP_PREFIX sends
    ``$PYTHON -m pip install .`` to PREFIX/lib/pythonX.Y/site-packages and PREFIX/bin,
    where the prefix's own interpreter would have put it. Build tools (setuptools,
    Cython) are the machine's, as numpy is: tools/run.sh's runner extra."""
    return {
        "PIP_NO_INDEX": "True", "PIP_NO_DEPENDENCIES": "True", "PIP_IGNORE_INSTALLED": "True",
        "PIP_NO_BUILD_ISOLATION": "False",  # pip reads this name inverted: no isolation
        "PIP_CACHE_DIR": str(build_prefix / "pip_cache"), "PIP_PREFIX": str(prefix),
        "PIP_NO_COMPILE": "False",  # inverted too: no byte code
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
    }  # fmt: skip


def copy_local(root: Path, dest: Path) -> None:
    """A ``source: path:`` directory into SRC_DIR: the files fetch.local_files lists."""
    for rel in local_files(root):
        src, dst = root / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)
    dest.mkdir(parents=True, exist_ok=True)


# Where conda-build's noarch: python packages keep what a build put under the prefix
# (noarch_python.py): site-packages at the package's top, scripts in python-scripts/;
# the installer links them into the environment's own lib/pythonX.Y and bin.
NOARCH_PYTHON_DIRS = {f"lib/python{PY_VER}/site-packages/": "site-packages/",
                      "bin/": "python-scripts/"}  # fmt: skip


def package_path(r: Rendered, rel: str) -> str | None:
    """Where a prefix file goes in r's package; None for what is left out: byte code
    (it would embed the staging prefix, and an installer's prefix rewrite would corrupt
    it; Python writes its own on first import), and for noarch: python anything
    outside site-packages and bin (conda-build's noarch_python.py)."""
    if "__pycache__/" in rel or rel.endswith((".pyc", ".pyo")):
        return None
    if r.noarch != "python":
        return rel
    for staged, packed in NOARCH_PYTHON_DIRS.items():
        if rel.startswith(staged):
            return packed + rel[len(staged) :]
    return None


def _globbed(prefix: Path, patterns: list[str], own: set[str], what: str) -> set[str]:
    """The build's own files matched by glob patterns (``**`` spans folders), as
    conda-build expands an output's files: a folder matched alone brings nothing."""
    chosen = set()
    for pattern in patterns:
        matched = set(glob.glob(pattern, root_dir=prefix, recursive=True)) & own
        if not matched:
            raise BuildError(f"{what} {pattern} matches no file the build installed")
        chosen |= matched
    return chosen


def select_files(r: Rendered, prefix: Path, own: list[str]) -> list[str]:
    """An output's files: its ``files:`` (a list of globs, or ``include`` and
    ``exclude`` lists) over the build's own files; everything for a recipe without
    outputs, nothing for an output without files (a metapackage)."""
    if r.parent is None:
        return own
    spec = r.meta.get("files") or []
    include, exclude = (spec.get("include") or [], spec.get("exclude") or []) if isinstance(
        spec, dict) else (spec, [])  # fmt: skip
    mine = set(own)
    chosen = _globbed(prefix, [str(p) for p in include], mine, f"output {r.name}: files")
    chosen -= _globbed(prefix, [str(p) for p in exclude], mine, f"output {r.name}: exclude")
    return sorted(chosen)


def staging_prefix(out: Path) -> Path:
    """out/prefix_placehold_placehold..., PREFIX_LENGTH characters in all when it fits."""
    room = max(PREFIX_LENGTH - len(str(out)) - 1, len("prefix"))
    return out / ("prefix" + "_placehold" * 26)[: min(room, 255)]


def write_manifest(r: Rendered, out: Path, prefix: Path, source: dict, key: str,
                   files: list[str], depends: list[str] = (),
                   build_seconds: float | None = None) -> Path:  # fmt: skip
    """The package's record (``manifest.json``, or ``manifest.<name>.json`` for an
    output): its files (``files``, paths under the prefix, each with the path it has
    in the package), requirements (run: the recipe's and ``depends``, the run_exports,
    sorted as conda-build sorts them), about."""
    entries, text_prefix, binary_prefix = [], [], []
    needle = str(prefix).encode()
    for rel in files:
        packed = package_path(r, rel)
        path = prefix / rel
        if packed is None or (not path.is_symlink() and not path.is_file()):
            continue
        entry = {"path": packed} if packed == rel else {"path": packed, "staged": rel}
        if path.is_symlink():
            entries.append({**entry, "symlink": os.readlink(path)})
            continue
        data = path.read_bytes()
        entries.append({**entry, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        if needle in data:
            (binary_prefix if b"\0" in data else text_prefix).append(packed)
    requirements = dict(r.meta.get("requirements") or {})
    run = [str(s) for s in requirements.get("run") or []]
    if depends:
        requirements["run"] = sorted(dict.fromkeys(run + list(depends)))
    manifest = {
        "name": r.name, "version": r.version, "build_number": int(r.info["PKG_BUILDNUM"]),
        "build_string": r.build_string, "subdir": "noarch" if r.noarch else TARGET_PLATFORM,
        "noarch": r.noarch, "requirements": requirements,
        "run_exports": (r.meta.get("build") or {}).get("run_exports") or [],
        "track_features": [str(f) for f in (r.meta.get("build") or {}).get("track_features") or []],
        "about": r.meta.get("about") or {}, "source": source, "cache_key": key,
        "variant": r.variant, "staging_prefix": str(prefix),
        # Files that embed the staging prefix: future has_prefix entries.
        "has_prefix": {"text": text_prefix, "binary": binary_prefix},
        "build_seconds": None if build_seconds is None else round(build_seconds, 1),
        "files": entries,
    }  # fmt: skip
    path = out / manifest_name(r)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def manifest_name(r: Rendered) -> str:
    return "manifest.json" if r.parent is None else f"manifest.{r.name}.json"


def expected_minutes(r: Rendered, base: Path) -> str:
    """How long this build should take, for progress lines: the last build of the
    same package and build-string prefix here, else the recipe's own estimate."""
    flavour = r.build_string.split("_")[0]
    for manifest in sorted(base.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime,
                           reverse=True):  # fmt: skip
        record = json.loads(manifest.read_text())
        if record.get("build_seconds") and record["build_string"].split("_")[0] == flavour:
            return f"about {record['build_seconds'] / 60:.0f} min (the last build here)"
    hint = (r.meta.get("extra") or {}).get("build_minutes")
    if hint:
        return f"about {hint} min on 2 cores (the recipe's estimate)"
    return "no estimate yet"


def point_current(base: Path, key: str) -> None:
    tmp = base / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(key)
    os.replace(tmp, base / "current")


def build(r: Rendered, root: Path, cached_only: bool = False) -> Path:
    """Build r under root unless cached; with cached_only, a missing build is an error."""
    started = time.monotonic()
    if r.skip:
        raise BuildError(f"{r.name}: build/skip is true for this platform/variant")
    step(f"[1/5] render: {r.name} {r.version} {r.build_string}")
    for package in r.packages:  # before anything is built: such a test could never fail
        check_commands(package)
    check_compilers(r)
    print("variant used: " + (", ".join(f"{k}={r.variant[k]}" for k in r.used_keys) or "none"))
    print(
        "note: build requirements are the machine's; host requirements too, unless "
        "our channel holds them"
    )

    step("[2/5] fetch")
    archive, sha256, route = fetch_source(r.meta, r.recipe_dir)
    channel_dir = root.resolve() / "channel"
    host_specs, candidates = host_from_channel(r, channel_dir)
    host = [str(s) for s in (r.meta.get("requirements") or {}).get("host") or []]
    machine_exports = host_exports(r, [s for s in host if s not in host_specs])
    # A rebuilt dependency (a new candidate file) or another machine library changes the key.
    machine = [f"{e.source}={e.spec}" for e in machine_exports]
    key, tests = cache_key(r, sha256, candidates, machine), test_key(r)
    base = root.resolve() / r.recipe_dir.name
    out = base / key
    done = out / "DONE"
    if done.is_file() and done.read_text().split()[-1:] == [tests]:
        point_current(base, key)
        print(f"cached: {out} (DONE), nothing to build")
        return out
    if (out / "BUILT").is_file():
        print(f"cached: {out} (BUILT); the tests changed or did not pass: running them")
        return _test_and_finish(r, out, base, tests, started)
    if cached_only:
        raise BuildError(f"{r.name}: no finished build {out} and --cached-only was given")
    shutil.rmtree(out, ignore_errors=True)  # a failed earlier attempt
    work, prefix, build_prefix = out / "work", staging_prefix(out), out / "build_env"
    for d in (prefix, build_prefix):
        d.mkdir(parents=True)
    if prefix.name != "prefix":
        (out / "prefix").symlink_to(prefix.name)

    step(f"[3/5] build in {out}")
    host_files, channel_exports = install_host(r, prefix, channel_dir, host_specs)
    subdir = None
    if route == "substitute":  # the substitute may nest the upstream tree one level deeper
        offline = (r.meta.get("extra") or {}).get("offline_source") or {}
        subdir = offline["substitute"].get("subdir")
        if subdir:
            print(f"SUBSTITUTION: SRC_DIR is {subdir}/ of {archive.name}")
    if route == "path":
        copy_local(archive, work)
    else:
        extract(archive, work, subdir)
    for patch in (r.meta.get("source") or {}).get("patches") or []:
        print(f"build: applying {patch}")
        if _stream(["patch", "-p1", "--batch", "-i", str(r.recipe_dir / patch)],
                   out / "build.log", cwd=work) != 0:  # fmt: skip
            raise BuildError(f"patch {patch} does not apply (see {out / 'build.log'})")
    build_sh = r.recipe_dir / "build.sh"
    if not build_sh.is_file():
        raise BuildError(f"{build_sh} not found (only build.sh recipes are supported)")
    env = build_env(r, prefix, build_prefix, work, root.resolve())
    declared = [spec_name(s) for s in host if s not in host_specs]  # the machine's stand-ins
    env["PKG_CONFIG_LIBDIR"] = str(hermetic_pkgconfig(declared, prefix, out / "pkgconfig-host"))
    expected = expected_minutes(r, base)
    step(f"[3/5] build.sh: {r.name} {r.build_string}, {expected}")
    heartbeat = (
        f"[3/5] still building {r.name} {r.build_string}: {{minutes}} min so far, {expected}"
    )
    ccache.zero(env)
    code = _stream(["bash", "-e", str(build_sh)], out / "build.log", heartbeat, cwd=work, env=env)
    cached = ccache.summary(env)
    if cached:
        print(f"compile cache: {cached}")
    if code != 0:
        raise BuildError(f"build.sh failed with exit code {code} (log: {out / 'build.log'})")
    # conda-build copies about/license_file after the build and fails there when one is
    # missing: so does pack; checked here too, before the tests.
    licenses = license_files(r.meta.get("about") or {}, work, r.recipe_dir)
    print(f"licenses: {', '.join(name for _, name in licenses) or 'none'}")
    relocate(prefix, skip=host_files)
    own = sorted(p.relative_to(prefix).as_posix() for p in prefix.rglob("*")
                 if (p.is_symlink() or p.is_file())
                 and p.relative_to(prefix).as_posix() not in host_files)  # fmt: skip
    allowed = linkable_sonames(r, prefix, host_files, declared)
    checked = check_needed(prefix, own, allowed, f"{r.name} {r.build_string}")
    print(f"host: {checked} NEEDED entries checked, each provided by the package itself, a "
          "declared host package, glibc or a declared compiler's runtime")  # fmt: skip
    source = {"url": (r.meta.get("source") or {}).get("url") or str(archive), "sha256": sha256,
              "route": route, "filename": archive.name}  # fmt: skip
    claimed: set[str] = set()
    for package in r.packages:
        files = select_files(package, prefix, own)
        claimed |= set(files)
        glibc = glibc_export(package, prefix, files)  # read from the ELF files before the step
        step(f"[3/5] run_exports: {package.name} {package.build_string}")
        machine = [e for e in machine_exports if _declared(package, e.source)]
        channel = [e for e in channel_exports if _declared(package, e.source)]
        depends = run_exports_as_depends(package, out, channel, machine, glibc)
        write_manifest(package, out, prefix, source, key, files, depends,
                       build_seconds=time.monotonic() - started)  # fmt: skip
        if package.parent is not None:
            print(f"output {package.name}: {len(files)} files")
    if r.outputs:
        unclaimed = sorted(set(own) - claimed)
        print(f"outputs: {len(unclaimed)} installed files are in no output"
              + (f" (first: {', '.join(unclaimed[:5])})" if unclaimed else ""))  # fmt: skip
        write_manifest(r, out, prefix, source, key, own, [],
                       build_seconds=time.monotonic() - started)  # fmt: skip
    (out / "BUILT").write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z\n"))
    print(f"built in {time.monotonic() - started:.0f} s")
    return _test_and_finish(r, out, base, tests, started)


def hermetic_pkgconfig(declared: list[str], prefix: Path, folder: Path) -> Path:
    """The folder pkg-config is limited to (PKG_CONFIG_LIBDIR): stand-ins for the .pc
    files conda-forge's packages in the host environment ship (hermetic.py); the host
    packages from our channel are in PREFIX/lib/pkgconfig, on PKG_CONFIG_PATH."""
    channel_pc = [p.stem for p in (prefix / "lib" / "pkgconfig").glob("*.pc")]
    report = standin_pkgconfig(declared, folder, channel_pc)
    shown = ", ".join(f"{m} ({p})" for m, p in report.modules.items()) or "none"
    print(f"host: pkg-config sees {prefix / 'lib' / 'pkgconfig'} and the stand-ins {shown}")
    for line in report.unresolved:
        print(f"host: WARNING: {line}: pkg-config fails on it, as under conda-build")
    return folder


def linkable_sonames(r: Rendered, prefix: Path, host_files: set[str],
                     declared: list[str]) -> set[str]:  # fmt: skip
    """The libraries a package may link: the host packages' from our channel, the
    declared stand-ins' (their Debian -dev package's), glibc's and the runtimes of
    the compilers in build."""
    allowed = provided_sonames(prefix / f for f in host_files) | set(GLIBC_SONAMES)
    for name in declared:
        allowed |= standin_sonames(name)
    for _, compiler, _ in compilers_in(r, (r.meta.get("requirements") or {}).get("build")):
        for runtime in ACTIVATES.get(compiler, (compiler,)):
            allowed |= COMPILER_SONAMES.get(runtime, frozenset())
    return allowed


def _staged(manifest: Path) -> set[str]:
    return {e.get("staged", e["path"]) for e in json.loads(manifest.read_text())["files"]}


def output_test_prefix(r: Rendered, out: Path, staging: Path) -> Path:
    """Where an output's tests run: what conda-build's fresh test environment would
    hold, from the staging prefix by hard link. The output's own files, those of the
    sibling outputs its run requirements name (py-opencv's libopencv), and the host
    packages (which stand in for its other run requirements); not the files of the
    recipe's other outputs, nor those no output took."""
    built = _staged(out / "manifest.json")
    siblings = {o.name for o in (r.parent.packages if r.parent else [])}
    run = {spec_name(s) for s in (r.meta.get("requirements") or {}).get("run") or []}
    keep = set()
    for name in {r.name} | (run & siblings):
        keep |= _staged(out / f"manifest.{name}.json")
    prefix = out / f"test-{r.name}"
    shutil.rmtree(prefix, ignore_errors=True)
    for path in sorted(staging.rglob("*")):
        rel = path.relative_to(staging).as_posix()
        if (rel in built and rel not in keep) or not (path.is_file() or path.is_symlink()):
            continue
        target = prefix / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            target.symlink_to(os.readlink(path))
        else:
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
    prefix.mkdir(parents=True, exist_ok=True)
    return prefix


def _declared(r: Rendered, name: str) -> bool:
    """Whether r (an output, or the recipe) names the package ``name`` in host or build:
    an output takes the run_exports of its own requirements only, as conda-build does."""
    if r.parent is None:
        return True
    requirements = r.meta.get("requirements") or {}
    names = {spec_name(s) for key in ("host", "build") for s in requirements.get(key) or []}
    return name in names


def _test_and_finish(r: Rendered, out: Path, base: Path, tests: str, started: float) -> Path:
    step("[4/5] test")
    (out / "test.log").unlink(missing_ok=True)
    staging = (out / "prefix").resolve()
    for package in r.packages:
        prefix = staging
        if package.parent is not None:
            prefix = output_test_prefix(package, out, staging)
            print(f"test: output {package.name} {package.build_string} in {prefix}")
        run_tests(package, prefix, out / "test.log", src_dir=out / "work")
        if prefix != staging:
            shutil.rmtree(prefix, ignore_errors=True)

    step("[5/5] cache")
    (out / "DONE").write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z ") + tests + "\n")
    point_current(base, out.name)
    print(f"done in {time.monotonic() - started:.0f} s: {base / 'current' / 'prefix'}")
    return out
