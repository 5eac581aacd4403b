"""A local file:// channel: index it, install from it offline, test what got installed.

Indexing, solving and installing are py-rattler's (``rattler.index.index_fs``,
``rattler.solve``, ``rattler.install``); only the local channel is ever queried.
What it cannot supply is the machine's own: Python and numpy (the running
interpreter's versions; the tests run that interpreter), the compilers' runtimes
and the host libraries machine.py declares (libgcc, libstdcxx, x264, ...). They are
offered to the solver as virtual packages (see ``machine_packages``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import platform
import shutil
import tempfile
from pathlib import Path

import rattler
import rattler.exceptions
from rattler.index import index_fs

from . import BuildError
from .machine import PYTHON_ABI_TAG, PYTHON_ABI_VERSION, machine_versions
from .pack import SUBDIR_DIRS
from .render import TARGET_PLATFORM, render_recipe
from .specs import match_spec
from .testing import run_tests


def index(channel_dir: Path) -> None:
    """Write repodata.json for linux-64 and noarch (noarch is created empty if missing)."""
    channel_dir = Path(channel_dir).resolve()
    for sub in SUBDIR_DIRS:
        (channel_dir / sub).mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel_dir, write_zst=False, write_shards=False, force=True))
    for sub in SUBDIR_DIRS:
        repodata = json.loads((channel_dir / sub / "repodata.json").read_text())
        count = len(repodata.get("packages", {})) + len(repodata.get("packages.conda", {}))
        print(f"index: {channel_dir / sub / 'repodata.json'} ({count} packages)")


def _check_prefix_replaced(target: Path) -> int:
    """Every installed file that had a prefix placeholder must now name target instead."""
    checked = 0
    for record in sorted((target / "conda-meta").glob("*.json")):
        for entry in json.loads(record.read_text()).get("paths_data", {}).get("paths", []):
            placeholder = entry.get("prefix_placeholder")
            if not placeholder or entry.get("file_mode") != "text":
                continue
            data = (target / entry["_path"]).read_bytes()
            if placeholder.encode() in data or str(target).encode() not in data:
                raise BuildError(f"{entry['_path']}: prefix {placeholder} was not replaced "
                                 f"by {target}")  # fmt: skip
            checked += 1
    return checked


def machine_packages() -> list[rattler.GenericVirtualPackage]:
    """The running interpreter's Python and numpy, the machine's compiler runtimes and
    host libraries (machine.machine_versions), as packages the solver may count on."""
    versions = {"python": platform.python_version()}
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        versions["numpy"] = importlib.metadata.version("numpy")
    versions.update(machine_versions())
    machine = rattler.BuildString("machine")
    packages = [
        rattler.GenericVirtualPackage(rattler.PackageName(name), rattler.Version(v), machine)
        for name, v in versions.items()
    ]
    packages.append(rattler.GenericVirtualPackage(  # its build string carries the ABI tag
        rattler.PackageName("python_abi"), rattler.Version(PYTHON_ABI_VERSION),
        rattler.BuildString(f"0_{PYTHON_ABI_TAG}")))  # fmt: skip
    return packages


def machine_python_record() -> rattler.RepoDataRecord:
    """The machine's interpreter as a package record, for the installer only.

    A noarch: python package is linked into the environment's lib/pythonX.Y and bin,
    and an installer learns X.Y from the python record among the packages it links.
    Here Python is the machine's, offered to the solver as a virtual package, so no
    such record exists: this one stands in for it, and ``install`` passes it with
    ``ignored_packages={"python"}``, so that nothing is fetched or linked for it."""
    version = platform.python_version()
    record = rattler.PackageRecord(
        name="python", version=version, build=rattler.BuildString("machine"),
        build_number=0, subdir=TARGET_PLATFORM, arch="x86_64", platform="linux",
    )  # fmt: skip
    name = f"python-{version}-machine.conda"
    return rattler.RepoDataRecord(record, name, f"file:///machine/{name}", "file:///machine/")


def _run_exports(package_dir: Path) -> dict[str, list[str]]:
    path = package_dir / "info" / "run_exports.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def install(channel_dir: Path, specs: list[str], target_prefix: Path,
            run_exports: dict | None = None) -> list:  # fmt: skip
    """Solve specs against the local channel only and install into a fresh target_prefix.

    Returns the installed rattler.RepoDataRecord list. When run_exports is a dict,
    it receives each installed package's info/run_exports.json, by name.
    """
    channel_dir, target = Path(channel_dir).resolve(), Path(target_prefix).resolve()
    if target.exists() and any(target.iterdir()):
        raise BuildError(f"{target} is not empty; install wants a fresh prefix")
    channel, machine = rattler.Channel(channel_dir.as_uri()), machine_packages()

    async def solve_and_install(cache: Path) -> list:
        records = await rattler.solve(
            # Lenient parsing takes conda's `name=version=build` form (ffmpeg=*=gpl*) too.
            [channel], [match_spec(spec) for spec in specs],
            gateway=rattler.Gateway(cache_dir=cache / "repodata"),
            platforms=[TARGET_PLATFORM, "noarch"],
            virtual_packages=[*rattler.VirtualPackage.detect(), *machine],
            channel_relations="disabled",
        )  # fmt: skip
        linked, ignored = records, None
        if any(r.noarch.python for r in records):
            linked, ignored = [*records, machine_python_record()], {"python"}
        await rattler.install(linked, target, cache_dir=cache / "pkgs", show_progress=False,
                              ignored_packages=ignored)  # fmt: skip
        if run_exports is not None:
            for record in records:
                name = f"{record.name.normalized}-{record.version}-{record.build}"
                run_exports[record.name.normalized] = _run_exports(cache / "pkgs" / name)
        return records

    print(f"install: solving {', '.join(specs)} against {channel_dir.as_uri()} only; "
          "from the machine: " + ", ".join(f"{p.name.normalized} {p.version}"
                                            for p in machine))  # fmt: skip
    # A private package cache: a repacked file of the same name is never served stale.
    with tempfile.TemporaryDirectory(prefix="offline-build-rattler-") as tmp:
        try:
            records = asyncio.run(solve_and_install(Path(tmp)))
        except rattler.exceptions.SolverError as exc:
            raise BuildError(f"cannot satisfy {', '.join(specs)} from {channel_dir}:\n"
                             f"{str(exc).strip()}") from None  # fmt: skip
        except (rattler.exceptions.InstallerError, rattler.exceptions.TransactionError,
                rattler.exceptions.LinkError) as exc:  # fmt: skip
            raise BuildError(f"install into {target} failed: {str(exc).strip()}") from None
    for record in records:
        print(f"install: {record.name.normalized} {record.version} {record.build} "
              f"-> {target}")  # fmt: skip
    print(f"install: prefix replaced in {_check_prefix_replaced(target)} text files")
    return records


def test_installed(recipe_dir: Path, prefix: Path, variant: dict[str, str],
                   src_dir: Path | None, name: str | None) -> None:  # fmt: skip
    """Run the tests of the recipe's package ``name`` (the recipe itself, or one of its
    outputs) against an installed prefix (no LD_LIBRARY_PATH); test/source_files come
    from src_dir, the source tree of the build that was packed."""
    prefix = Path(prefix).resolve()
    r = render_recipe(Path(recipe_dir), variant)
    r = r.package(name) if name else r
    log = prefix.parent / f"{prefix.name}.{r.name}.test.log"
    log.unlink(missing_ok=True)
    print(f"test: {r.name} in the installed prefix {prefix} (log: {log})")
    run_tests(r, prefix, log, src_dir=src_dir)


def fresh_prefix(path: Path) -> Path:
    path = Path(path).resolve()
    shutil.rmtree(path, ignore_errors=True)
    return path
