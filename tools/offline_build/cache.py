"""The cache key of a build and the key of its tests.

A build is kept under ``<root>/<recipe>/<cache_key>/``: the key covers what the
build reads (the rendered recipe but its tests, the recipe's files but the test
files, the source, the variant keys the recipe uses, the host packages it could
pick and the machine's stand-ins), so changed tests rerun on the existing build;
its ``DONE`` stamp holds the ``test_key`` of the tests that passed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .render import Rendered

RUNNER_VERSION = "7"  # part of the cache key: bump when the build contract changes


def _tests(r: Rendered) -> list:
    """The test sections: the recipe's, then each output's."""
    return [r.meta.get("test") or {}, *((o.get("test") or {}) for o in r.meta.get("outputs") or [])]


def _test_files(r: Rendered) -> set[Path]:
    """Recipe files only the tests read: test/files entries, run_test.sh and run_test.py."""
    names = [f for test in _tests(r) for f in test.get("files") or []]
    names += ["run_test.sh", "run_test.py"]
    found = set()
    for name in names:
        path = r.recipe_dir / name
        found |= {path} if path.is_file() else set(path.rglob("*"))
    return {p for p in found if p.is_file()}


class _Digest:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def add(self, label: str, data: bytes) -> None:
        self.digest.update(f"{label}\0{len(data)}\0".encode() + data)

    def add_files(self, r: Rendered, paths) -> None:
        for path in sorted(paths):
            self.add(f"file {path.relative_to(r.recipe_dir).as_posix()}", path.read_bytes())


def test_key(r: Rendered) -> str:
    """What the tests read: the rendered test section and the test files."""
    d = _Digest()
    d.add("test", json.dumps(_tests(r), sort_keys=True).encode())
    d.add_files(r, _test_files(r))
    return d.digest.hexdigest()[:12]


def cache_key(r: Rendered, source_sha256: str, host_packages: list[str] = (),
              machine: list[str] = ()) -> str:  # fmt: skip
    """What the build reads: the rendered recipe but its tests, the recipe's files
    (build.sh, patches) but the test files, the source, the variant, the host packages
    and the machine's stand-ins for host requirements."""
    d = _Digest()
    add = d.add
    add("runner", RUNNER_VERSION.encode())
    meta = {k: v for k, v in r.meta.items() if k != "test"}
    if meta.get("outputs"):  # an output's tests are tests too
        meta["outputs"] = [{k: v for k, v in o.items() if k != "test"} for o in meta["outputs"]]
    if "build_minutes" in (meta.get("extra") or {}):  # a progress hint, not an input
        meta["extra"] = {k: v for k, v in meta["extra"].items() if k != "build_minutes"}
    add("meta.yaml (rendered, without test)", json.dumps(meta, sort_keys=True).encode())
    skip = _test_files(r) | {r.recipe_dir / "meta.yaml"}  # meta.yaml: as rendered, above
    d.add_files(r, (p for p in r.recipe_dir.rglob("*") if p.is_file() and p not in skip))
    add("source", source_sha256.encode())
    # Only the keys the recipe uses, as conda-build hashes them: a key added to
    # conda_build_config.yaml for another recipe rebuilds nothing here.
    add("variant", json.dumps({k: r.variant[k] for k in r.used_keys}, sort_keys=True).encode())
    if host_packages:  # absent for recipes without host packages from our channel
        add("host packages", " ".join(host_packages).encode())
    if machine:  # absent for recipes without host requirements from the machine
        add("machine", " ".join(machine).encode())
    return d.digest.hexdigest()[:12]
