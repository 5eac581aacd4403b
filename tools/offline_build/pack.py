"""Pack one successful build into a .conda that conda and rattler can install.

Input: ``<root>/<recipe>/<key>/`` with ``prefix/``, ``manifest.json`` and ``DONE``.
Output: ``<channel>/<subdir>/<name>-<version>-<build>.conda`` whose ``info/`` has
index.json, paths.json (v1), has_prefix, files, about.json, run_exports.json,
licenses/ (``about/license_file``) and, when the rendered recipe is given,
recipe/meta.yaml and test/. A recipe with outputs packs each from its
``manifest.<name>.json``. A ``noarch: python`` package goes to ``noarch/``, with
``noarch: python`` and no arch or platform in index.json, and the
``info/link.json`` that tells an installer to link site-packages/ and
python-scripts/ into the environment's Python (conda-build's noarch_python.py).

``about/license_file`` follows conda-build (build.py, ``copy_license`` and
``generic_copy``): a path or a list of paths; each is looked up in the source tree
(SRC_DIR, the build's ``work/``) first, then in the recipe directory; a directory
must be written with a trailing ``/``; a missing one is an error; each lands at
its own relative path under info/licenses/, except an absolute path or one
starting with ``.``, which becomes ``LICENSE<n>.txt`` (``LICENSE<n>`` for a
directory), n counting from 0. An empty string is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from conda_package_handling import api as cph

from . import BuildError
from .render import TARGET_PLATFORM, Rendered
from .testing import write_test_dir

SUBDIR_DIRS = (TARGET_PLATFORM, "noarch")
PACK_FORMAT = "pack 3: outputs, noarch"  # in the .packed-from stamp: a change repacks


def _dump(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _paths(tree: Path, placeholder: str) -> list[dict]:
    """paths.json entries for every file and symlink under tree (info/ excluded)."""
    needle = placeholder.encode()
    entries = []
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree).as_posix()
        if rel == "info" or rel.startswith("info/"):
            continue
        if path.is_symlink():
            entry = {"_path": rel, "path_type": "softlink"}
            if path.is_file():  # conda-build hashes what the link points at
                data = path.read_bytes()
                entry.update(sha256=hashlib.sha256(data).hexdigest(), size_in_bytes=len(data))
            entries.append(entry)
        elif path.is_file():
            data = path.read_bytes()
            entry = {"_path": rel, "path_type": "hardlink",
                     "sha256": hashlib.sha256(data).hexdigest(), "size_in_bytes": len(data)}  # fmt: skip
            if needle in data:
                entry.update(file_mode="binary" if b"\0" in data else "text",
                             prefix_placeholder=placeholder)  # fmt: skip
                if entry["file_mode"] == "binary":
                    print(f"pack: note: {rel} embeds the staging prefix in binary data; "
                          f"installs need a prefix no longer than {len(placeholder)} chars")  # fmt: skip
            entries.append(entry)
    return entries


def _run_exports(value) -> dict:
    if isinstance(value, dict):
        return {k: [str(s) for s in v] for k, v in value.items()}
    return {"weak": [str(s) for s in value]} if value else {}


def license_files(about: dict, src_dir: Path, recipe_dir: Path | None) -> list[tuple[Path, str]]:
    """(source, path under info/licenses/) for each about/license_file entry, by
    conda-build's rules (see the module docstring)."""
    entries = about.get("license_file") or []
    entries = [entries] if isinstance(entries, str) else list(entries)
    found, count = [], 0
    for entry in (str(e) for e in entries):
        if entry == "":
            continue
        src = Path(src_dir) / entry
        if not src.exists() and recipe_dir is not None:
            src = Path(recipe_dir) / entry
        if src.is_dir() and not entry.endswith("/"):
            raise BuildError(f"about/license_file: {entry} is a directory; write it as "
                             f"{entry}/ (conda-build requires the trailing slash)")  # fmt: skip
        if not src.exists():
            raise BuildError(f"about/license_file: {entry} is neither in the source tree "
                             f"{src_dir} nor in the recipe directory {recipe_dir}")  # fmt: skip
        if os.path.isabs(entry) or entry.startswith("."):
            name = f"LICENSE{count}{'.txt' if src.is_file() else ''}"
            count += 1
        else:
            name = entry.rstrip("/")
        found.append((src, name))
    return found


def _write_licenses(info: Path, manifest: dict, build_dir: Path, r: Rendered | None) -> None:
    about = manifest.get("about") or {}
    for src, name in license_files(about, build_dir / "work", r.recipe_dir if r else None):
        dst = info / "licenses" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def _write_test(info: Path, r: Rendered, src_dir: Path | None) -> None:
    """info/test/: what conda-build's test directory holds (the test files and
    source files, and run_test.sh and run_test.py as the runner runs them)."""
    (info / "test").mkdir(parents=True, exist_ok=True)
    write_test_dir(r, info / "test", src_dir)
    if not any((info / "test").iterdir()):
        (info / "test").rmdir()


def write_info(tree: Path, manifest: dict, timestamp_ms: int, r: Rendered | None,
               build_dir: Path | None = None) -> None:  # fmt: skip
    info = tree / "info"
    if build_dir is not None:
        _write_licenses(info, manifest, build_dir, r)
    placeholder = manifest["staging_prefix"]
    paths = _paths(tree, placeholder)
    requirements = manifest.get("requirements") or {}
    about = manifest.get("about") or {}
    index = {
        "name": manifest["name"], "version": manifest["version"],
        "build": manifest["build_string"], "build_number": manifest["build_number"],
        "depends": [str(s) for s in requirements.get("run") or []],
        "constrains": [str(s) for s in requirements.get("run_constrained") or []],
        "license": str(about.get("license", "")), "subdir": TARGET_PLATFORM,
        "platform": "linux", "arch": "x86_64", "timestamp": timestamp_ms,
    }  # fmt: skip
    if manifest.get("track_features"):  # conda-build writes them space-separated
        index["track_features"] = " ".join(manifest["track_features"])
    noarch = manifest.get("noarch")
    if noarch:
        index.update(noarch=noarch, subdir="noarch", platform=None, arch=None)
    if noarch == "python":
        _dump(info / "link.json", {"noarch": {"type": "python"}, "package_metadata_version": 1})
    _dump(info / "index.json", index)
    _dump(info / "paths.json", {"paths": paths, "paths_version": 1})
    _dump(info / "about.json", about)
    _dump(info / "run_exports.json", _run_exports(manifest.get("run_exports")))
    (info / "files").write_text("".join(f"{p['_path']}\n" for p in paths))
    prefixed = [p for p in paths if "prefix_placeholder" in p]
    if prefixed:
        (info / "has_prefix").write_text("".join(
            f"{p['prefix_placeholder']} {p['file_mode']} {p['_path']}\n" for p in prefixed
        ))  # fmt: skip
    if r is not None:
        (info / "recipe").mkdir(parents=True, exist_ok=True)
        (info / "recipe" / "meta.yaml").write_text(r.text)
        _write_test(info, r, build_dir / "work" if build_dir is not None else None)


def pack(build_dir: Path, rendered: Rendered | None = None,
         channel_dir: Path | None = None) -> Path:  # fmt: skip
    """Write the .conda of one DONE build; return its path.

    channel_dir defaults to ``<root>/channel`` for a build in ``<root>/<recipe>/<key>``.
    Without ``rendered``, info/recipe and info/test are left out.
    """
    build_dir = Path(build_dir).resolve()
    if not (build_dir / "DONE").is_file():
        raise BuildError(f"{build_dir} is not a finished build (no DONE stamp)")
    record = "manifest.json"
    if rendered is not None and rendered.parent is not None:
        record = f"manifest.{rendered.name}.json"
    manifest = json.loads((build_dir / record).read_text())
    if rendered is not None:
        got = (rendered.name, rendered.version, rendered.build_string)
        want = (manifest["name"], manifest["version"], manifest["build_string"])
        if got != want:
            raise BuildError(f"rendered recipe {got} does not match the build {want}")
    channel_dir = Path(channel_dir or build_dir.parents[1] / "channel").resolve()
    for sub in SUBDIR_DIRS:
        (channel_dir / sub).mkdir(parents=True, exist_ok=True)
    name = f"{manifest['name']}-{manifest['version']}-{manifest['build_string']}.conda"
    out = channel_dir / ("noarch" if manifest.get("noarch") else TARGET_PLATFORM) / name
    # What this package is packed from: the build (its DONE stamp holds the tests' key)
    # and the rendered recipe. A repeat with the same sources leaves the file alone.
    source = "\n".join(
        [
            PACK_FORMAT,
            str(build_dir),
            (build_dir / "DONE").read_text().strip(),
            hashlib.sha256(rendered.text.encode()).hexdigest() if rendered else "",
        ]
    )
    stamp = out.with_name(out.name + ".packed-from")
    if out.is_file() and stamp.is_file() and stamp.read_text() == source:
        print(f"pack: {out} is up to date")
        return out
    timestamp_ms = int((build_dir / "DONE").stat().st_mtime * 1000)
    with tempfile.TemporaryDirectory(dir=channel_dir, prefix=".pack-") as tmp:
        tree = Path(tmp) / "pkg"
        for entry in manifest["files"]:  # the package's own files, not its host deps'
            src = build_dir / "prefix" / entry.get("staged", entry["path"])
            dst = tree / entry["path"]
            dst.parent.mkdir(parents=True, exist_ok=True)
            if "symlink" in entry:
                dst.symlink_to(entry["symlink"])
            else:
                shutil.copy2(src, dst)
        write_info(tree, manifest, timestamp_ms, rendered, build_dir)
        files = sorted(
            p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_symlink() or p.is_file()
        )
        partial = Path(tmp) / name
        cph.create(str(tree), files, str(partial))
        os.replace(partial, out)
    stamp.write_text(source)
    print(f"pack: {out} ({out.stat().st_size} bytes, {len(files)} files)")
    return out
