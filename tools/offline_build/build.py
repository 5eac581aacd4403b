"""Build, relocate, test and cache one rendered recipe.

Layout under ``<root>/<recipe>/<key>/``: ``work/`` (SRC_DIR), ``prefix/``
(the staging PREFIX), ``build.log``, ``test.log``, ``manifest.json`` and a
``DONE`` stamp once the tests passed.  ``<root>/<recipe>/current`` points at
the last successful key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from . import BuildError
from .fetch import fetch_source
from .render import TARGET_PLATFORM, Rendered

RUNNER_VERSION = "1"  # part of the cache key: bump when the build contract changes


def step(title: str) -> None:
    print(f"\n==== {title}", flush=True)


def cache_key(r: Rendered, source_sha256: str) -> str:
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode() + data)

    add("runner", RUNNER_VERSION.encode())
    add("meta.yaml (rendered)", r.text.encode())
    for path in sorted(p for p in r.recipe_dir.rglob("*") if p.is_file()):  # build.sh included
        add(f"file {path.relative_to(r.recipe_dir).as_posix()}", path.read_bytes())
    add("source", source_sha256.encode())
    add("variant", json.dumps(r.variant, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _stream(cmd: list[str], log: Path, **kwargs) -> int:
    """Run cmd, copying its merged stdout/stderr to our stdout and to log."""
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


def extract(archive: Path, dest: Path) -> None:
    """Unpack into dest, dropping the single top-level directory if there is one."""
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
    top.rename(dest)
    shutil.rmtree(unpacked, ignore_errors=True)


def build_env(r: Rendered, prefix: Path, build_prefix: Path, src_dir: Path) -> dict[str, str]:
    """conda-build's environment contract for build.sh (linux-64, no cross compiling)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    env.update(r.variant)
    env.update(
        PREFIX=str(prefix), BUILD_PREFIX=str(build_prefix), SRC_DIR=str(src_dir),
        RECIPE_DIR=str(r.recipe_dir), CPU_COUNT=str(os.cpu_count() or 1),
        PKG_NAME=r.name, PKG_VERSION=r.version, PKG_BUILDNUM=r.info["PKG_BUILDNUM"],
        PKG_HASH=r.pkg_hash, PKG_BUILD_STRING=r.build_string,
        target_platform=TARGET_PLATFORM, build_platform=TARGET_PLATFORM, SHLIB_EXT=".so",
        HOST="x86_64-conda-linux-gnu", CONDA_BUILD="1", CONDA_BUILD_CROSS_COMPILATION="0",
        CMAKE_ARGS=f"-DCMAKE_INSTALL_PREFIX={prefix} -DCMAKE_INSTALL_LIBDIR=lib "
                   f"-DCMAKE_PREFIX_PATH={prefix} -DCMAKE_BUILD_TYPE=Release",
        PATH=f"{prefix}/bin:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )  # fmt: skip
    return env


def ensure_patchelf() -> str:
    found = shutil.which("patchelf")
    if found:
        return found
    command = ["apt-get", "install", "-y", "patchelf"]
    if os.geteuid() != 0:
        raise BuildError(f"patchelf is not installed; run: sudo {' '.join(command)}")
    print(f"relocate: patchelf missing, running: {' '.join(command)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(command, env=env, check=False).returncode == 0
    if not installed or not shutil.which("patchelf"):
        raise BuildError(f"could not install patchelf ({' '.join(command)} failed)")
    return shutil.which("patchelf")


def is_dynamic_elf(path: Path) -> bool:
    """64-bit little-endian executable or shared object with a PT_DYNAMIC segment."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4:6] != b"\x02\x01":
            return False
        if struct.unpack_from("<H", head, 16)[0] not in (2, 3):  # ET_EXEC, ET_DYN
            return False
        (phoff,) = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 2 for i in range(phnum))


def relocate(prefix: Path) -> None:
    """What conda-build's post-processing does to rpaths: $ORIGIN-relative to lib/."""
    patchelf = ensure_patchelf()
    for sub in ("bin", "lib"):
        for path in sorted((prefix / sub).rglob("*")):
            if path.is_symlink() or not path.is_file() or not is_dynamic_elf(path):
                continue
            rel = os.path.relpath(prefix / "lib", path.parent)
            entries = ["$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"]
            # Like conda-build: the build's own entries that point inside the prefix
            # become $ORIGIN-relative (a nested layout needs them); others go.
            current = subprocess.run([patchelf, "--print-rpath", str(path)], capture_output=True,
                                     text=True, check=False).stdout.strip()  # fmt: skip
            for entry in filter(None, current.split(":")):
                if entry.startswith(str(prefix)):
                    entry = "$ORIGIN/" + os.path.relpath(entry, path.parent)
                if entry.startswith("$ORIGIN") and entry not in entries:
                    entries.append(entry)
            rpath = ":".join(entries)
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
            proc = subprocess.run([patchelf, "--force-rpath", "--set-rpath", rpath, str(path)],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            if proc.returncode != 0:
                raise BuildError(f"patchelf failed on {path}: {proc.stderr.strip()}")
            print(f"relocate: {path.relative_to(prefix)} rpath={rpath}")


def write_manifest(r: Rendered, out: Path, prefix: Path, source: dict, key: str) -> None:
    files, text_prefix, binary_prefix = [], [], []
    needle = str(prefix).encode()
    for path in sorted(prefix.rglob("*")):
        rel = path.relative_to(prefix).as_posix()
        if path.is_symlink():
            files.append({"path": rel, "symlink": os.readlink(path)})
        elif path.is_file():
            data = path.read_bytes()
            files.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest(),
                          "size": len(data)})  # fmt: skip
            if needle in data:
                (binary_prefix if b"\0" in data else text_prefix).append(rel)
    manifest = {
        "name": r.name, "version": r.version, "build_number": int(r.info["PKG_BUILDNUM"]),
        "build_string": r.build_string, "subdir": TARGET_PLATFORM,
        "requirements": r.meta.get("requirements") or {},
        "run_exports": (r.meta.get("build") or {}).get("run_exports") or [],
        "about": r.meta.get("about") or {}, "source": source, "cache_key": key,
        "variant": r.variant, "staging_prefix": str(prefix),
        # Files that embed the staging prefix: future has_prefix entries.
        "has_prefix": {"text": text_prefix, "binary": binary_prefix},
        "files": files,
    }  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def run_tests(r: Rendered, prefix: Path, log: Path) -> None:
    test = r.meta.get("test") or {}
    commands = [str(c) for c in test.get("commands") or []]
    ignored = [k for k in ("requires", "imports", "source_files") if test.get(k)]
    if ignored:
        print(f"test: note: test/{', test/'.join(ignored)} not supported here, ignored")
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}  # rpaths must do
    env.update(PREFIX=str(prefix), SHLIB_EXT=".so", PKG_NAME=r.name, PKG_VERSION=r.version,
               target_platform=TARGET_PLATFORM, PATH=f"{prefix}/bin:{env.get('PATH', '')}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix=f"offline-build-test-{r.name}-") as tmp:
        for name in test.get("files") or []:
            src, dst = r.recipe_dir / name, Path(tmp) / name
            if not src.exists():
                raise BuildError(f"test file {name} not found in {r.recipe_dir}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
        if (r.recipe_dir / "run_test.sh").is_file():
            commands.append(f"bash -e {r.recipe_dir / 'run_test.sh'}")
        for command in commands:
            proc = subprocess.run(["bash", "-e", "-c", command], cwd=tmp, env=env, text=True,
                                  errors="replace", stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, check=False)  # fmt: skip
            report = f"+ {command}\n{proc.stdout}"
            sys.stdout.write(report)
            with open(log, "a") as fh:
                fh.write(report)
            if proc.returncode != 0:
                output = "\n".join(proc.stdout.rstrip().splitlines()[-20:])
                raise BuildError(f"test command failed (exit {proc.returncode}): {command}"
                                 + (f"\n{output}" if output else ""))  # fmt: skip
    print(f"test: {len(commands)} commands passed")


def point_current(base: Path, key: str) -> None:
    tmp = base / f".current.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(key)
    os.replace(tmp, base / "current")


def build(r: Rendered, root: Path, cached_only: bool = False) -> Path:
    """Build r under root unless cached; with cached_only, a missing build is an error."""
    started = time.monotonic()
    skip = str((r.meta.get("build") or {}).get("skip", "")).lower()
    if skip in ("true", "yes", "1"):
        raise BuildError(f"{r.name}: build/skip is true for this platform/variant")
    step(f"[1/5] render: {r.name} {r.version} {r.build_string}")
    print("variant used: " + (", ".join(f"{k}={r.variant[k]}" for k in r.used_keys) or "none"))
    print("note: requirements are not installed; the machine's own tools are used")

    step("[2/5] fetch")
    archive, sha256, route = fetch_source(r.meta)
    key = cache_key(r, sha256)
    base = root.resolve() / r.recipe_dir.name
    out = base / key
    if (out / "DONE").is_file():
        point_current(base, key)
        print(f"cached: {out} (DONE), nothing to build")
        return out
    if cached_only:
        raise BuildError(f"{r.name}: no finished build {out} and --cached-only was given")
    shutil.rmtree(out, ignore_errors=True)  # a failed earlier attempt
    work, prefix, build_prefix = out / "work", out / "prefix", out / "build_env"
    for d in (prefix, build_prefix):
        d.mkdir(parents=True)

    step(f"[3/5] build in {out}")
    extract(archive, work)
    for patch in (r.meta.get("source") or {}).get("patches") or []:
        print(f"build: applying {patch}")
        if _stream(["patch", "-p1", "--batch", "-i", str(r.recipe_dir / patch)],
                   out / "build.log", cwd=work) != 0:  # fmt: skip
            raise BuildError(f"patch {patch} does not apply (see {out / 'build.log'})")
    build_sh = r.recipe_dir / "build.sh"
    if not build_sh.is_file():
        raise BuildError(f"{build_sh} not found (only build.sh recipes are supported)")
    env = build_env(r, prefix, build_prefix, work)
    code = _stream(["bash", "-e", str(build_sh)], out / "build.log", cwd=work, env=env)
    if code != 0:
        raise BuildError(f"build.sh failed with exit code {code} (log: {out / 'build.log'})")
    relocate(prefix)
    source = {"url": r.meta["source"]["url"], "sha256": sha256, "route": route,
              "filename": archive.name}  # fmt: skip
    write_manifest(r, out, prefix, source, key)

    step("[4/5] test")
    run_tests(r, prefix, out / "test.log")

    step("[5/5] cache")
    (out / "DONE").write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z\n"))
    point_current(base, key)
    print(f"done in {time.monotonic() - started:.0f} s: {base / 'current' / 'prefix'}")
    return out
