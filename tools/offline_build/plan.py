"""A run over recipes: build and pack every variant of every recipe into our channel,
then install spec sets from it into fresh prefixes and test what they installed.

The plan (every rendered variant, in order) is checked before anything builds: a
host requirement on a package of the run must have a build in the run.
"""

from __future__ import annotations

from pathlib import Path

from . import BuildError
from .build import build, step
from .channel import fresh_prefix, index, install, test_installed
from .pack import pack
from .render import Rendered, recipe_variants, render_recipe
from .specs import match_spec, matches


def build_and_pack(rendered: Rendered, root: Path, cached_only: bool) -> None:
    """Build one rendered recipe (cached), pack it into ``<root>/channel`` and index that."""
    out = build(rendered, root, cached_only)
    for package in rendered.packages:
        step(f"pack: {package.name} {package.build_string}")
        pack(out, package, root / "channel")
    index(root / "channel")


def build_channel(recipes: list[Path], values: dict, root: Path, cached_only: bool,
                  installs: list[list[str]] | None) -> None:  # fmt: skip
    """Build and pack every variant of every recipe in order (each recipe's host
    packages come from the channel as it stands), then install each spec set into a
    fresh prefix and run there the tests of every package it installed. With
    ``installs`` None, stop after packing."""
    channel_dir = root / "channel"
    built: dict[tuple[str, str], tuple[Path, dict, Path]] = {}  # (name, build) -> recipe
    plan = [[render_recipe(recipe, variant) for variant in recipe_variants(recipe, values)]
            for recipe in recipes]  # fmt: skip
    check_host_plan([r for renders in plan for r in renders])
    for recipe, renders in zip(recipes, plan, strict=True):
        for rendered in renders:
            if rendered.skip:  # as conda-build does: nothing to build, said in one line
                print(f"skipped: {rendered.name} {rendered.build_string}: build/skip is true "
                      "for this platform")  # fmt: skip
                continue
            out = build(rendered, root, cached_only)
            for package in rendered.packages:
                step(f"pack: {package.name} {package.build_string}")
                pack(out, package, channel_dir)
                built[(package.name, package.build_string)] = (recipe, rendered.variant, out)
        step(f"index: {channel_dir}")
        index(channel_dir)
    if installs is None:
        print(f"channel: {len(built)} packages built and packed in {channel_dir}")
        return
    installs = installs or [list(dict.fromkeys(name for name, _ in built))]
    for number, specs in enumerate(installs):
        env = fresh_prefix(root / ("channel-test-env" + (f"-{number}" if number else "")))
        step(f"install: {', '.join(specs)} into {env}")
        records = install(channel_dir, specs, env)
        for record in records:
            found = built.get((record.name.normalized, str(record.build)))
            if found is None:
                raise BuildError(f"installed {record.name.normalized} {record.build} is not "
                                 "one of the builds just packed")  # fmt: skip
            step(f"test installed: {record.name.normalized} {record.build} in {env}")
            test_installed(found[0], env, found[1], src_dir=found[2] / "work",
                           name=record.name.normalized)  # fmt: skip
    print(f"channel: {len(built)} packages built and packed in {channel_dir}; {len(installs)} "
          f"environment{'s' if len(installs) != 1 else ''} installed and tested")  # fmt: skip


def check_host_plan(plan: list) -> None:
    """Refuse, before anything builds, a run in which a recipe's host requirement names
    a package this run builds but no build of it in the run matches (a ``--variant``
    that leaves out the layout or licence another recipe's host needs): without this
    the run fails at that recipe's host install, after every build before it."""
    made: dict[str, list] = {}
    for rendered in plan:
        for text in (rendered.meta.get("requirements") or {}).get("host") or []:
            spec = match_spec(text)
            name = spec.name.normalized
            if name not in made:
                continue  # not ours in this run: the channel or the machine provides it
            if not any(matches(text, v, b) for v, b in made[name]):
                have = ", ".join(f"{name} {v} {b}" for v, b in made[name])
                raise BuildError(
                    f"{rendered.name} {rendered.build_string} needs {text} in its host "
                    f"environment, but this run builds only {have}: a --variant leaves "
                    "out the build it needs"
                )
        for package in rendered.packages:
            made.setdefault(package.name, []).append((package.version, package.build_string))
