"""The host environment: the host requirements our channel holds, installed into
PREFIX before build.sh runs, as conda-build installs them; and the run_exports of the
host and build requirements, which become the package's run requirements."""

from __future__ import annotations

import json
from pathlib import Path

from .channel import install
from .machine import RunExport, compiler_exports
from .render import TARGET_PLATFORM, Rendered
from .specs import spec_name


def _channel_packages(channel_dir: Path) -> dict[str, str]:
    """{file name: package name} of the channel's linux-64 packages."""
    repodata = channel_dir / TARGET_PLATFORM / "repodata.json"
    if not repodata.is_file():
        return {}
    packages = json.loads(repodata.read_text()).get("packages.conda", {})
    return {filename: p["name"] for filename, p in packages.items()}


def host_from_channel(r: Rendered, channel_dir: Path) -> tuple[list[str], list[str]]:
    """The host requirements our channel holds (the rest are the machine's), and the
    channel's files of those packages: the candidates a host install may pick from."""
    host = [str(s) for s in (r.meta.get("requirements") or {}).get("host") or []]
    packages = _channel_packages(channel_dir)
    specs = [s for s in host if spec_name(s) in set(packages.values())]
    names = {spec_name(s) for s in specs}
    return specs, sorted(f for f, name in packages.items() if name in names)


def install_host(r: Rendered, prefix: Path, channel_dir: Path,
                 specs: list[str]) -> tuple[set[str], list[RunExport]]:  # fmt: skip
    """Install specs (the host requirements our channel holds) into prefix.

    Returns the paths they put there (relative to prefix) and their run_exports.
    """
    if not specs:
        return set(), []
    exports: dict[str, dict] = {}
    install(channel_dir, specs, prefix, run_exports=exports)
    found = [
        RunExport(spec, name, "", strong=kind == "strong")
        for name, kinds in sorted(exports.items())
        for kind in ("weak", "strong")
        for spec in kinds.get(kind) or []
    ]
    present = {p.relative_to(prefix).as_posix() for p in prefix.rglob("*")
               if p.is_symlink() or p.is_file()}  # fmt: skip
    return present, found


def apply_run_exports(r: Rendered, kind: str, exports: list[RunExport]) -> list[str]:
    """The run requirements exports add, minus build/ignore_run_exports (by the
    exported name) and build/ignore_run_exports_from (by the exporting package);
    each printed in the build log."""
    build = r.meta.get("build") or {}
    ignored = {str(n) for n in build.get("ignore_run_exports") or []}
    ignored_from = {spec_name(n) for n in build.get("ignore_run_exports_from") or []}
    depends = []
    for export in exports:
        if r.noarch and not export.strong:
            print(f"{kind}: weak run_export {export.spec} of {export.source} not applied "
                  f"(noarch: {r.noarch} takes strong run_exports only)")  # fmt: skip
            continue
        if export.source in ignored_from or spec_name(export.spec) in ignored:
            key = (
                "ignore_run_exports_from" if export.source in ignored_from else "ignore_run_exports"
            )
            print(f"{kind}: run_export {export.spec} of {export.source} ignored (build/{key})")
            continue
        why = f" ({export.why})" if export.why else ""
        print(f"{kind}: run_export of {export.source}: {export.spec}{why}")
        depends.append(export.spec)
    return depends


def run_exports_as_depends(r: Rendered, out: Path, channel: list[RunExport],
                           machine: list[RunExport], glibc: list[RunExport]) -> list[str]:  # fmt: skip
    """What conda-build would add to run: the run_exports of the host packages (ours,
    and the machine's stand-ins for conda-forge's), the compilers' and the stdlib's;
    printed and written to the build log."""
    depends = apply_run_exports(r, "host", channel + machine)
    depends += apply_run_exports(r, "build", compiler_exports(r) + glibc)
    with open(out / "build.log", "a") as fh:
        fh.write("run_exports added to run: " + (", ".join(depends) or "none") + "\n")
    return depends
