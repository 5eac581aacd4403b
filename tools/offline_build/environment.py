"""An environment file (conda's environment.yml) installed from our channel.

conda would take every dependency from the file's channels. Offline, only our
channel exists, so the specs split three ways, and each is printed:
- packages our channel builds: solved and installed with py-rattler;
- ``python`` and ``numpy``: the machine's, offered to the solver (see
  ``channel.machine_packages``);
- everything else, and the ``pip:`` list: not installed here. tools/run.sh puts the
  Python ones in the virtualenv from pip.

The prefix remembers what it was solved from; a repeat with the same specs and
the same channel contents changes nothing.

An environment that holds Python packages gets a Python of its own, as a conda
environment has one: ``machine_python`` makes the prefix a virtual environment of
the machine's interpreter (``bin/python``, ``pyvenv.cfg``, pip), whose
site-packages is the prefix's own ``lib/pythonX.Y/site-packages``, and links the
machine's numpy into it (numpy is the machine's, as the solver was told). So
``<prefix>/bin/python`` sees our packages and numpy, and nothing of the
virtualenv or checkout it was made from.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path

from . import BuildError
from .channel import fresh_prefix, install, machine_packages
from .pack import SUBDIR_DIRS
from .render import load_yaml
from .specs import spec_name

STAMP = "conda-meta/offline-build-environment.json"


@dataclass
class EnvironmentFile:
    path: Path
    name: str | None
    channels: list[str]
    conda: list[str]  # every conda spec, as written
    pip: list[str] = field(default_factory=list)


def read_environment_file(path: Path) -> EnvironmentFile:
    """The name, channels, conda specs and pip specs of an environment.yml."""
    data = load_yaml(Path(path).read_text(), str(path)) or {}
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise BuildError(f"{path}: no dependencies list")
    conda, pip = [], []
    for item in data["dependencies"]:
        if isinstance(item, dict) and set(item) == {"pip"}:
            pip += [str(s) for s in item["pip"]]
        elif isinstance(item, str):
            conda.append(item)
        else:
            raise BuildError(f"{path}: cannot read the dependency {item!r}")
    return EnvironmentFile(Path(path), data.get("name"), [str(c) for c in data.get("channels") or []],
                           conda, pip)  # fmt: skip


def channel_names(channel_dir: Path) -> set[str]:
    """Package names the channel's index holds."""
    names = set()
    for sub in SUBDIR_DIRS:
        path = Path(channel_dir) / sub / "repodata.json"
        if path.is_file():
            repodata = json.loads(path.read_text())
            for key in ("packages", "packages.conda"):
                names |= {record["name"] for record in repodata.get(key, {}).values()}
    return names


def split_specs(env: EnvironmentFile, channel_dir: Path) -> tuple[list[str], list[str], list[str]]:
    """(from our channel, from the machine, left to pip or conda-forge)."""
    ours, machine_names = (
        channel_names(channel_dir),
        {p.name.normalized for p in machine_packages()},
    )
    channel, machine, elsewhere = [], [], []
    for spec in env.conda:
        name = spec_name(spec)
        (channel if name in ours else machine if name in machine_names else elsewhere).append(spec)
    return channel, machine, elsewhere


def _fingerprint(specs: list[str], channel_dir: Path) -> str:
    digest = hashlib.sha256("\n".join(specs).encode())
    for sub in SUBDIR_DIRS:
        path = Path(channel_dir) / sub / "repodata.json"
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def machine_python(prefix: Path) -> Path | None:
    """Make prefix a virtual environment of this interpreter, with the machine's numpy
    linked into its site-packages; None (and nothing done) when prefix holds no Python
    packages. Returns its bin/python."""
    prefix = Path(prefix)
    site = prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / (
        "site-packages")  # fmt: skip
    if not site.is_dir():
        return None
    base = Path(getattr(sys, "_base_executable", sys.executable))
    venv.EnvBuilder(with_pip=True, symlinks=True, clear=False).create(prefix)
    python = prefix / "bin" / "python"
    if base.resolve() != python.resolve():
        print(f"environment: {python} is {base} (the machine's Python, as a virtual environment)")
    numpy = importlib.metadata.distribution("numpy")
    tops = {Path(str(f)).parts[0] for f in numpy.files or []}
    root = Path(numpy.locate_file(""))
    for top in sorted(t for t in tops if t != ".." and (root / t).exists()):
        link = site / top
        if not link.exists():
            link.symlink_to(root / top)
    print(f"environment: the machine's numpy {numpy.version} linked into {site}")
    return python


def install_environment(env_file: Path | None, prefix: Path, channel_dir: Path,
                        specs: list[str] = ()) -> list[dict]:  # fmt: skip
    """Install what the file (and ``specs``) ask of our channel into prefix; returns the
    installed records (name, version, build) and leaves the prefix as it is when up
    to date. An environment with Python packages gets its own bin/python."""
    if env_file is None:
        env = EnvironmentFile(Path("<command line>"), None, [], list(specs))
        env_file = env.path
    else:
        env = read_environment_file(env_file)
        env.conda += list(specs)
    channel, machine, elsewhere = split_specs(env, channel_dir)
    if not channel:
        raise BuildError(f"{env_file}: none of its packages is in {channel_dir}")
    print(f"environment: {env_file} -> {prefix}")
    print(f"environment: from our channel: {', '.join(channel)}")
    print(f"environment: the machine's: {', '.join(machine) or 'none'}")
    print(f"environment: not from conda here (pip into the virtualenv): "
          f"{', '.join(elsewhere + env.pip) or 'none'}")  # fmt: skip
    specs = channel + machine
    fingerprint = _fingerprint(specs, channel_dir)
    stamp = Path(prefix) / STAMP
    if stamp.is_file():
        recorded = json.loads(stamp.read_text())
        if recorded.get("fingerprint") == fingerprint:
            print(f"environment: {prefix} is up to date")
            return recorded["packages"]
    records = install(channel_dir, specs, fresh_prefix(prefix))
    machine_python(prefix)
    packages = [{"name": r.name.normalized, "version": str(r.version), "build": str(r.build)}
                for r in records]  # fmt: skip
    stamp.write_text(
        json.dumps(
            {
                "file": str(env_file),
                "specs": specs,
                "fingerprint": fingerprint,
                "packages": packages,
            },
            indent=1,
        )
    )
    return packages
