"""The benchmark environments: conda prefixes that ``bash tools/run.sh main``
solves and installs from our channel, so the suites measure our packages.

    bench       environment.yml: libjpeg-turbo, OpenCV on turbo, the GPL FFmpeg
    bench-ijg   environment-ijg.yml: OpenCV on IJG libjpeg 9f, the study's
                "OpenCV without turbo"

tools/run.sh names each prefix in an environment variable. Python packages in
a prefix are used from this interpreter by putting the prefix's site-packages
first on ``sys.path``, in a process of their own: two ``cv2`` builds cannot
share one process.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

VARIABLES = {"bench": "BENCH_PREFIX", "bench-ijg": "BENCH_IJG_PREFIX"}
FILES = {"bench": "environment.yml", "bench-ijg": "environment-ijg.yml"}


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


def get(role: str) -> Environment:
    """The installed environment of that role, or EnvironmentUnavailable saying why."""
    variable = VARIABLES[role]
    value = os.environ.get(variable)
    if not value:
        raise EnvironmentUnavailable(
            f"${variable} is not set: `bash tools/run.sh main` installs the {role} environment "
            f"({FILES[role]}) from our channel and sets it"
        )
    prefix = Path(value).resolve()
    if not (prefix / "conda-meta").is_dir():
        raise EnvironmentUnavailable(
            f"${variable}={value} is not a conda environment (no conda-meta)"
        )
    return Environment(role, prefix)


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
