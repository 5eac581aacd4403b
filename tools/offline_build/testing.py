"""Run a recipe's tests against a prefix: the staging one, or an installed one.

conda-build runs ``test/commands`` (and ``test/imports``) in a fresh environment
that holds the package and its run requirements. Here the prefix is used as
it is, with no LD_LIBRARY_PATH (rpaths must do), and the machine's Python
stands in for the environment's: its directory goes on PATH and the prefix's
site-packages on PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import BuildError
from .render import TARGET_PLATFORM, Rendered

PY_VER = f"{sys.version_info.major}.{sys.version_info.minor}"


def site_packages(prefix: Path) -> Path:
    """Where a conda environment keeps Python packages (conda-build's SP_DIR)."""
    return Path(prefix) / "lib" / f"python{PY_VER}" / "site-packages"


def python_env(prefix: Path) -> dict[str, str]:
    """conda-build's Python names, pointing at the machine's interpreter."""
    return {"PYTHON": sys.executable, "PY_VER": PY_VER, "SP_DIR": str(site_packages(prefix))}


def test_env(r: Rendered, prefix: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    path = f"{prefix}/bin:{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.update(python_env(prefix), PREFIX=str(prefix), SHLIB_EXT=".so", PKG_NAME=r.name,
               PKG_VERSION=r.version, target_platform=TARGET_PLATFORM, PATH=path)  # fmt: skip
    if site_packages(prefix).is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site_packages(prefix)), env.get("PYTHONPATH")) if p
        )
    return env


def run_tests(r: Rendered, prefix: Path, log: Path) -> None:
    test = r.meta.get("test") or {}
    commands = [f"python -c 'import {name}'" for name in test.get("imports") or []]
    commands += [str(c) for c in test.get("commands") or []]
    ignored = [k for k in ("requires", "source_files") if test.get(k)]
    if ignored:
        print(f"test: note: test/{', test/'.join(ignored)} not supported here, ignored "
              "(the machine's tools are used)")  # fmt: skip
    env = test_env(r, prefix)
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
