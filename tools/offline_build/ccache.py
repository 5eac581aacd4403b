"""The machine's compile cache (ccache) in front of the machine's compilers.

Two builds of one source in different variants compile mostly the same files:
both FFmpeg licence families, both libjpeg-turbo layouts, OpenCV on turbo and on
IJG libjpeg (only imgcodecs' JPEG codec differs).  ccache hands the second build
the first one's objects wherever the preprocessed source and the flags are equal.

Every build lives at ``<root>/<recipe>/<key>/`` with the same shape (work/,
prefix_placehold..., build_env/), so with ``<root>`` as ccache's base directory
the paths it hashes, relative to the compiler's working directory, are the same
in every build.  The cache lives in ``<root>/ccache``, beside the builds.

conda-build does not do this; nothing of it reaches a package but the objects the
compiler would have written anyway.  It is used when Debian's ccache is installed
(``/usr/lib/ccache`` holds its gcc/g++/cc/c++ links) and OFFLINE_BUILD_CCACHE is
not 0.  Otherwise ccache is disabled outright, so that a build system that looks
for ccache itself (OpenCV's ENABLE_CCACHE) does not use a cache of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

MASQUERADE = Path("/usr/lib/ccache")


def wanted() -> bool:
    return (
        os.environ.get("OFFLINE_BUILD_CCACHE", "1") != "0"
        and shutil.which("ccache") is not None
        and (MASQUERADE / "gcc").exists()
    )


def environment(root: Path, prefix_bin: Path, path: str) -> dict[str, str]:
    """The variables a build gets: PATH (the host prefix's bin/, then ccache's compiler
    links, then ``path``) and ccache's settings; or CCACHE_DISABLE when it is not used."""
    if not wanted():
        return {"PATH": f"{prefix_bin}:{path}", "CCACHE_DISABLE": "1"}
    return {
        "PATH": f"{prefix_bin}:{MASQUERADE}:{path}",
        "CCACHE_DIR": str(root / "ccache"),
        "CCACHE_BASEDIR": str(root),
        # Without -g (all our recipes build Release / --disable-debug) the working
        # directory is not in the objects; with -g it would only name the first build's.
        "CCACHE_NOHASHDIR": "1",
        "CCACHE_MAXSIZE": "5G",
    }


def zero(env: dict[str, str]) -> None:
    if "CCACHE_DIR" in env:
        subprocess.run(["ccache", "--zero-stats"], env=env, capture_output=True, check=False)


def summary(env: dict[str, str]) -> str | None:
    """'N of M compiles from the cache' since zero(), or None when the cache is off."""
    if "CCACHE_DIR" not in env:
        return None
    out = subprocess.run(["ccache", "--print-stats"], env=env, capture_output=True, text=True,
                         check=False).stdout  # fmt: skip
    stats = dict(re.findall(r"^(\w+)\t(\d+)$", out, flags=re.MULTILINE))
    hits = sum(int(stats.get(k, 0)) for k in ("direct_cache_hit", "preprocessed_cache_hit"))
    misses = int(stats.get("cache_miss", 0))
    return f"{hits} of {hits + misses} compiles from the cache ({env['CCACHE_DIR']})"
