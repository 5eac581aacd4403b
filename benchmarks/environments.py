"""The benchmark environments: conda prefixes that ``bash tools/run.sh main``
solves and installs from our channel, so the suites measure our packages.

    bench       environment.yml: libjpeg-turbo, OpenCV on turbo, the GPL FFmpeg
    bench-ijg   environment-ijg.yml: OpenCV on IJG libjpeg 9f, the study's
                "OpenCV without turbo"

The suites find them where tools/run.sh installs them, ``.build/envs/<role>`` in
this checkout, so ``python -m benchmarks jpeg`` run by hand measures the same
packages as the main job. An environment variable (``$BENCH_PREFIX``,
``$BENCH_IJG_PREFIX``) overrides the place. Python packages in a prefix are used
from this interpreter by putting the prefix's site-packages first on
``sys.path``, in a process of their own: two ``cv2`` builds cannot share one
process.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

VARIABLES = {"bench": "BENCH_PREFIX", "bench-ijg": "BENCH_IJG_PREFIX"}
FILES = {"bench": "environment.yml", "bench-ijg": "environment-ijg.yml"}
# Where `bash tools/run.sh main` installs them (tools/run.sh's BENCH_ENV, BENCH_IJG_ENV).
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / ".build" / "envs"
MAKE = "bash tools/run.sh main"


class EnvironmentUnavailable(RuntimeError):
    """A benchmark environment is not installed here; the message says how to get it."""


@dataclass(frozen=True)
class Environment:
    role: str
    prefix: Path

    @property
    def site_packages(self) -> Path:
        return (
            self.prefix
            / "lib"
            / f"python{sys.version_info.major}.{sys.version_info.minor}"
            / "site-packages"
        )

    def executable(self, name: str) -> Path:
        path = self.prefix / "bin" / name
        if not os.access(path, os.X_OK):
            raise EnvironmentUnavailable(
                f"{path} is not an executable in the {self.role} environment"
            )
        return path

    def library(self, soname: str) -> Path:
        path = self.prefix / "lib" / soname
        if not path.exists():
            raise EnvironmentUnavailable(f"{path} is not in the {self.role} environment")
        return path

    def packages(self) -> dict[str, dict]:
        """What conda-meta records: name -> version, build string, channel and the files' place."""
        found = {}
        for record in sorted((self.prefix / "conda-meta").glob("*.json")):
            data = json.loads(record.read_text())
            if "name" not in data:  # our own stamp, not a package record
                continue
            found[data["name"]] = {
                "version": data.get("version"), "build": data.get("build"),
                "build_number": data.get("build_number"), "channel": data.get("channel"),
                "prefix": str(self.prefix), "record": str(record),
            }  # fmt: skip
        return found


def place(role: str) -> tuple[Path, str]:
    """Where the environment of that role is looked for, and why there: the
    variable's value when it is set, else the checkout's .build/envs/<role>."""
    variable = VARIABLES[role]
    value = os.environ.get(variable)
    if value:
        return Path(value).resolve(), f"${variable}={value}"
    return DEFAULT_ROOT / role, f"the default place ({FILES[role]}; ${variable} overrides it)"


def get(role: str) -> Environment:
    """The installed environment of that role, or EnvironmentUnavailable saying why
    and with which command to make it."""
    prefix, why = place(role)
    if not (prefix / "conda-meta").is_dir():
        what = "is not a conda environment (no conda-meta)" if prefix.exists() else "does not exist"
        raise EnvironmentUnavailable(
            f"the {role} environment {prefix} {what}: {why}. `{MAKE}` solves and installs it "
            f"({FILES[role]}) from our channel"
        )
    return Environment(role, prefix)


def installed(role: str) -> Environment | None:
    """The environment of that role when it is installed here, else None (``get`` says
    why): for what only changes when ours is there."""
    try:
        return get(role)
    except EnvironmentUnavailable:
        return None


def turbojpeg_library() -> str | None:
    """The libturbojpeg the suites measure: $TURBOJPEG_LIB, else the bench
    environment's (our libjpeg-turbo package), else None (turbojpeg's own search)."""
    if os.environ.get("TURBOJPEG_LIB"):
        return os.environ["TURBOJPEG_LIB"]
    bench = installed("bench")
    lib = bench.prefix / "lib" / "libturbojpeg.so.0" if bench else None
    return str(lib) if lib is not None and lib.exists() else None


def provenance() -> dict:
    """Every benchmark environment there is: its prefix and its packages' builds."""
    record = {}
    for role in VARIABLES:
        try:
            env = get(role)
        except EnvironmentUnavailable as exc:
            record[role] = {"unavailable": str(exc)}
        else:
            record[role] = {
                "prefix": str(env.prefix),
                "file": FILES[role],
                "packages": env.packages(),
            }
    return record
