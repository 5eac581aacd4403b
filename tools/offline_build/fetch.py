"""Fetch a recipe's source tarball by sha256.

Routes, in order: the local cache, the recipe's URL, Debian's source archive
(when the recipe names a Debian source package whose orig tarball is the same
file), pip (when the recipe names a release whose sdist on the Python package
index is the same file, ``extra/offline_source/pip_sdist``).  Every route is
checked against ``source.sha256``; a mismatch is a hard error and the bytes never
enter the cache.

A ``source: path:`` (a local directory, relative to the recipe) is copied as it
is, as conda-build copies it; in a git checkout only the files git tracks or
would track (``.gitignore`` applies), so the build never sees ``.build`` or
``.venv``. Its digest over names and contents stands in for a sha256.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from . import BuildError

URL_TIMEOUT = 15  # seconds; an offline machine fails at name resolution long before
LISTS_MAX_AGE = 24 * 3600
MACHINE_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
EXTRA_SUITES = "trixie sid"  # newer releases carry newer upstream versions


class Unavailable(Exception):
    """A route cannot deliver (no network, no such version): try the next one."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "accelerated-codecs"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _store(candidate: Path, sha256: str, target: Path, route: str) -> Path:
    actual = sha256_of(candidate)
    if actual != sha256:
        raise BuildError(
            f"sha256 mismatch for {target.name} from route {route}: "
            f"expected {sha256}, got {actual} (not cached)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(candidate, target)
    return target


def _url_route(url: str, dest: Path) -> Path:
    out = dest / "download"
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as resp, open(out, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors
        raise Unavailable(str(getattr(exc, "reason", exc))) from None
    return out


def _deb822(text: str) -> list[dict[str, str]]:
    """Stanzas of a deb822 file as {field: value}; continuation lines kept."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key.strip()] = value.strip()
        if fields:
            stanzas.append(fields)
    return stanzas


def _apt_state() -> tuple[Path, list[str]]:
    """Private deb-src apt configuration: the machine's package lists stay untouched."""
    state = cache_root() / "apt"
    if not MACHINE_SOURCES.is_file():
        raise Unavailable(f"{MACHINE_SOURCES} not found (only deb822 sources are supported)")
    machine = MACHINE_SOURCES.read_text()
    first = next((s for s in _deb822(machine) if "URIs" in s), None)
    if first is None:
        raise Unavailable(f"{MACHINE_SOURCES} has no stanza with URIs")
    extra = {"Types": "deb-src", "URIs": first["URIs"], "Suites": EXTRA_SUITES,
             "Components": first.get("Components", "main")}  # fmt: skip
    if "Signed-By" in first:
        extra["Signed-By"] = first["Signed-By"]
    text = (
        f"# Written by tools/offline_build from {MACHINE_SOURCES}\n"
        + re.sub(r"(?m)^Types:.*$", "Types: deb-src", machine).rstrip("\n")
        + "\n\n" + "".join(f"{k}: {v}\n" for k, v in extra.items())
    )  # fmt: skip
    sources = state / "sources.list.d" / "offline-build-deb-src.sources"
    stamp = state / "lists.updated"
    for sub in ("sources.list.d", "lists/partial", "cache/archives/partial"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    if not sources.is_file() or sources.read_text() != text:
        sources.write_text(text)
        stamp.unlink(missing_ok=True)
    options = [
        "-o", f"Dir::Etc::SourceParts={state / 'sources.list.d'}",
        "-o", "Dir::Etc::SourceList=/dev/null",
        "-o", f"Dir::State::Lists={state / 'lists'}",
        "-o", f"Dir::Cache={state / 'cache'}",
    ]  # fmt: skip
    if os.geteuid() == 0:  # the _apt user cannot enter root's private directories
        options += ["-o", "APT::Sandbox::User=root"]
    if not stamp.is_file() or time.time() - stamp.stat().st_mtime > LISTS_MAX_AGE:
        print(f"fetch: apt-get update (deb-src lists in {state / 'lists'})", flush=True)
        _run_apt(["apt-get", "update", "-q"], options)
        stamp.touch()
    return state, options


def _run_apt(cmd: list[str], options: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(
            [cmd[0], *options, *cmd[1:]], cwd=cwd, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise Unavailable(f"{cmd[0]} not found") from None
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise Unavailable(f"{' '.join(cmd)} failed ({proc.returncode}): {tail}")
    return proc.stdout


def upstream_version(debian_version: str) -> str:
    """1:3.1.3-4 -> 3.1.3 (drop the epoch and the Debian revision)."""
    version = re.sub(r"^\d+:", "", debian_version)
    return version.rsplit("-", 1)[0] if "-" in version else version


def _debian_route(package: str, version: str, dest: Path) -> Path:
    _, options = _apt_state()
    found = []
    for record in _run_apt(["apt-cache", "showsrc", package], options).split("\n\n"):
        fields = dict(re.findall(r"(?m)^(Package|Version): (\S+)", record))
        if fields.get("Package") == package and upstream_version(fields["Version"]) == version:
            found.append(fields["Version"])
    if not found:
        raise Unavailable(f"no Debian source of {package} has upstream version {version}")
    print(f"fetch: apt-get source --download-only {package}={found[0]}", flush=True)
    try:
        _run_apt(["apt-get", "source", "--download-only", f"{package}={found[0]}"], options, dest)
    except Unavailable as exc:
        # A mirror may serve the orig tarball but no longer the .dsc of that Debian
        # revision; only the orig tarball matters, and its sha256 is checked next.
        if not list(dest.glob("*.orig.tar.*")):
            raise
        print(f"fetch: note: {exc}; the orig tarball arrived and is checked by its sha256")
    origs = [p for p in dest.glob("*.orig.tar.*") if not p.name.endswith(".asc")]
    if len(origs) != 1:
        raise Unavailable(f"{package}={found[0]}: expected one orig tarball, got {origs}")
    return origs[0]


def _pip_route(requirement: str, dest: Path, filename: str | None = None) -> Path:
    """The sdist of requirement (name==version), as pip downloads it from its index.

    pip prepares an sdist's metadata before it keeps the file, and some sdists cannot
    do that here (PyAV's setup.py wants FFmpeg at that point). Then, with ``filename``
    known, the file is taken from the simple pages of the indexes pip says it looks
    in (its own configuration, printed by ``pip download -v``)."""
    name = re.split(r"[=<>!~ ]", requirement, maxsplit=1)[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name,
           "--dest", str(dest), "-v", requirement]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    sdists = [p for p in dest.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    if proc.returncode == 0 and len(sdists) == 1:
        return sdists[0]
    looked = re.search(r"^Looking in indexes: (.+)$", proc.stdout, re.MULTILINE)
    if filename and looked:
        for index in (u.strip() for u in looked.group(1).split(",")):
            page = f"{index.rstrip('/')}/{re.sub(r'[-_.]+', '-', name).lower()}/"
            try:
                with urllib.request.urlopen(page, timeout=URL_TIMEOUT) as resp:
                    html = resp.read().decode("utf-8", "replace")
            except (OSError, ValueError):
                continue
            for href in re.findall(r'href="([^"]+)"', html):
                link = urllib.parse.urljoin(page, href.replace("&amp;", "&"))
                if os.path.basename(urlparse(link).path) == filename:
                    print(
                        f"fetch: pip could not prepare {requirement}'s metadata here; "
                        f"taking {filename} from its index page {page}",
                        flush=True,
                    )
                    return _url_route(link.split("#")[0], dest)
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    raise Unavailable(f"pip download {requirement} failed ({proc.returncode}): {tail}")


Route = tuple[str, Callable[[Path], Path]]


def _fetch_one(filename: str, sha256: str, routes: list[Route]) -> tuple[Path, str] | None:
    target = cache_root() / "sources" / sha256 / filename
    if target.is_file():
        actual = sha256_of(target)
        if actual != sha256:
            raise BuildError(
                f"cached {target} is corrupt: expected sha256 {sha256}, got {actual} "
                "(delete it to fetch again)"
            )
        return target, "cache"
    (cache_root() / "sources").mkdir(parents=True, exist_ok=True)
    for route, deliver in routes:
        with tempfile.TemporaryDirectory(dir=cache_root() / "sources", prefix=".fetch-") as tmp:
            try:
                candidate = deliver(Path(tmp))
            except Unavailable as exc:
                print(f"fetch: route {route} unavailable: {exc}", flush=True)
                continue
            return _store(candidate, sha256, target, route), route.split()[0]
    return None


def local_files(root: Path) -> list[Path]:
    """The files of a local source directory, relative to it: git's view (tracked and
    untracked but not ignored) in a checkout, every file elsewhere."""
    proc = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=False,
    )  # fmt: skip
    if proc.returncode == 0:
        names = [n for n in proc.stdout.decode().split("\0") if n]
        return sorted(Path(n) for n in names if (root / n).is_file() or (root / n).is_symlink())
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def path_digest(root: Path) -> str:
    """sha256 over the names, modes and contents of a local source directory."""
    digest = hashlib.sha256()
    for rel in local_files(root):
        path = root / rel
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(f"{rel.as_posix()}\0{path.lstat().st_mode:o}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def local_source(meta: dict, recipe_dir: Path) -> Path | None:
    """The directory of a ``source: path:`` entry, or None for a url source."""
    source = meta.get("source") or {}
    if not isinstance(source, dict) or not source.get("path"):
        return None
    root = (Path(recipe_dir) / str(source["path"])).resolve()
    if not root.is_dir():
        raise BuildError(f"meta.yaml: source path {source['path']} is not a directory ({root})")
    return root


def _fetch_substitute(filename: str, substitute: dict, version: str) -> tuple[Path, str] | None:
    """The declared substitute for upstream's file: a pip sdist (``pip``) or the orig
    tarball of a Debian source package at the recipe's version (``debian``), checked
    by its own sha256, and announced in the log before it is used."""
    kinds = [k for k in ("pip", "debian") if substitute.get(k)]
    if len(kinds) != 1 or not substitute.get("sha256"):
        raise BuildError("extra/offline_source/substitute needs sha256 and one of pip, debian")
    origin = substitute[kinds[0]]
    what = (f"the sdist of {origin}" if kinds[0] == "pip"
            else f"Debian's orig tarball of {origin} {version}")  # fmt: skip
    print(f"SUBSTITUTION: {filename} is not available; building from {what} "
          f"(sha256 {substitute['sha256']}) instead: "
          f"{substitute.get('note', 'no note given')}")  # fmt: skip
    if kinds[0] == "pip":
        route = (f"pip {origin}", lambda d: _pip_route(origin, d))
        name = re.sub(r"\W+", "-", origin) + ".sdist"
    else:
        route = (f"debian {origin}", lambda d: _debian_route(origin, version, d))
        name = f"{origin}_{version}.orig-tarball"
    return _fetch_one(name, substitute["sha256"], [route])


def fetch_source(meta: dict, recipe_dir: Path | None = None) -> tuple[Path, str, str]:
    """Return (path in the cache, sha256 of the bytes, route that delivered them).

    The route is "substitute" when the bytes are not upstream's but the recipe's
    declared offline substitute (extra/offline_source/substitute), and "path" for a
    local directory (which is returned as it is, with its digest).
    """
    local = local_source(meta, recipe_dir) if recipe_dir is not None else None
    if local is not None:
        digest = path_digest(local)
        print(f"fetch: local source {local} ({len(local_files(local))} files, "
              f"digest {digest[:12]})")  # fmt: skip
        return local, digest, "path"
    source = meta.get("source") or {}
    if not isinstance(source, dict) or not source.get("url") or not source.get("sha256"):
        raise BuildError("meta.yaml: need one source with url and sha256, or a path")
    urls = source["url"] if isinstance(source["url"], list) else [source["url"]]
    filename = source.get("fn") or os.path.basename(urlparse(urls[0]).path)
    offline = (meta.get("extra") or {}).get("offline_source") or {}
    version = str(meta["package"]["version"])
    routes: list[Route] = [(f"url {u}", lambda d, u=u: _url_route(u, d)) for u in urls]
    if offline.get("debian_source"):
        debian = offline["debian_source"]
        routes.append((f"debian {debian}", lambda d: _debian_route(debian, version, d)))
    if offline.get("pip_sdist"):  # the same file as the url: checked by the same sha256
        sdist = str(offline["pip_sdist"])
        routes.append((f"pip {sdist}", lambda d: _pip_route(sdist, d, filename)))
    found = _fetch_one(filename, source["sha256"], routes)
    if found:
        print(f"fetch: {filename} ({source['sha256'][:12]}) delivered by route {found[1]}")
        return found[0], source["sha256"], found[1]
    substitute = offline.get("substitute")
    if substitute:  # offline bytes that differ from upstream: allowed, but never silently
        found = _fetch_substitute(filename, substitute, version)
        if found:
            print(f"fetch: substitute delivered by route {found[1]}: {found[0]}")
            return found[0], substitute["sha256"], "substitute"
    raise BuildError(f"no route delivered {filename} (sha256 {source['sha256']}); see above")
