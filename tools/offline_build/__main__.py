"""Command line: python -m tools.offline_build {render,fetch,build,pack,channel} RECIPE_DIR...
[options], python -m tools.offline_build env ENVIRONMENT_YML --prefix DIR, or
python -m tools.offline_build machine-deps."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

from . import BuildError
from .build import build, step
from .channel import fresh_prefix, index, install, test_installed
from .environment import install_environment
from .fetch import fetch_source
from .machine import HOST_LIBRARIES, missing_debian_packages
from .pack import pack
from .render import load_variant_values, recipe_variants, render_recipe

DEFAULT_CONFIG = Path("conda_build_config.yaml")


def channel(recipes: list[Path], values: dict, root: Path, cached_only: bool,
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
            variant = rendered.variant
            out = build(rendered, root, cached_only)
            step(f"pack: {rendered.name} {rendered.build_string}")
            pack(out, rendered, channel_dir)
            built[(rendered.name, rendered.build_string)] = (recipe, variant, out)
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
            test_installed(found[0], env, found[1], src_dir=found[2] / "work")
    print(f"channel: {len(built)} packages built and packed in {channel_dir}; {len(installs)} "
          f"environment{'s' if len(installs) != 1 else ''} installed and tested")  # fmt: skip


def check_host_plan(plan: list) -> None:
    """Refuse, before anything builds, a run in which a recipe's host requirement names
    a package this run builds but no build of it in the run matches (a ``--variant``
    that leaves out the layout or licence another recipe's host needs): without this
    the run fails at that recipe's host install, after every build before it."""
    from rattler import MatchSpec, Version, VersionSpec

    made: dict[str, list] = {}
    for rendered in plan:
        for text in (rendered.meta.get("requirements") or {}).get("host") or []:
            spec = MatchSpec(str(text))
            name = spec.name.normalized
            if name not in made:
                continue  # not ours in this run: the channel or the machine provides it
            version = VersionSpec(str(spec.version)) if spec.version else None
            if not any((version is None or version.matches(Version(v)))
                       and (spec.build is None or fnmatch.fnmatchcase(b, spec.build))
                       for v, b in made[name]):  # fmt: skip
                have = ", ".join(f"{name} {v} {b}" for v, b in made[name])
                raise BuildError(
                    f"{rendered.name} {rendered.build_string} needs {text} in its host "
                    f"environment, but this run builds only {have}: a --variant leaves "
                    "out the build it needs"
                )
        made.setdefault(rendered.name, []).append((rendered.version, rendered.build_string))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.offline_build",
        description="Build a conda-build recipe without conda: render, fetch, build, test.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("render", "print the rendered meta.yaml"),
        ("fetch", "fetch the source into the cache and print its path"),
        ("build", "render, fetch, build, relocate, test; cached by content"),
        ("pack", "build (cached), pack into ROOT/channel/linux-64 and index the channel"),
        ("channel", "pack each recipe, install all into ROOT/channel-test-env, test there"),
    ):  # fmt: skip
        sub = commands.add_parser(name, help=text, description=text)
        if name == "channel":
            sub.add_argument("--build-only", action="store_true",
                             help="build and pack every variant; install no test prefix")  # fmt: skip
        if name == "channel":
            sub.add_argument("recipes", type=Path, nargs="+", metavar="recipe",
                             help="recipe directories, built in this order, every variant")  # fmt: skip
            sub.add_argument("--install", action="append", default=[], metavar="SPECS",
                             help="comma-separated specs to install into one fresh test "
                                  "prefix (repeatable; default: every package by name)")  # fmt: skip
        else:
            sub.add_argument("recipe", type=Path, help="recipe directory (with meta.yaml)")
        sub.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                         help="override a conda_build_config.yaml value (repeatable)")  # fmt: skip
        sub.add_argument("-m", "--variant-config", type=Path, default=None,
                         help=f"variant file (default: ./{DEFAULT_CONFIG} if present)")  # fmt: skip
        if name in ("build", "pack", "channel"):
            sub.add_argument("--root", type=Path, default=Path(".build"),
                             help="output root (default: .build)")  # fmt: skip
            sub.add_argument("--cached-only", action="store_true",
                             help="fail instead of building a recipe that is not cached")  # fmt: skip
    text = "install an environment.yml's packages from ROOT/channel into a prefix (offline)"
    env = commands.add_parser("env", help=text, description=text)
    env.add_argument("file", type=Path, help="an environment.yml")
    env.add_argument("--prefix", type=Path, required=True, help="the environment to create")
    env.add_argument(
        "--root", type=Path, default=Path(".build"), help="output root (default: .build)"
    )
    text = "print the Debian packages that stand in for host libraries and are missing here"
    commands.add_parser("machine-deps", help=text, description=text + ": " + ", ".join(
        f"{lib.name} ({lib.debian})" for lib in HOST_LIBRARIES.values()))  # fmt: skip
    args = parser.parse_args(argv)
    try:
        if args.command == "machine-deps":
            for package in missing_debian_packages():
                print(package)
            return 0
        if args.command == "env":
            install_environment(args.file, args.prefix, args.root / "channel")
            return 0
        overrides = {}
        for item in args.variant:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise BuildError(f"--variant expects KEY=VALUE, got {item!r}")
            overrides[key] = value
        config = args.variant_config
        if config is None and DEFAULT_CONFIG.is_file():
            config = DEFAULT_CONFIG
        if config is not None and not config.is_file():
            raise BuildError(f"variant file {config} not found")
        values = load_variant_values(config, overrides)
        if args.command == "channel":
            installs = [
                [s.strip() for s in group.split(",") if s.strip()] for group in args.install
            ]
            channel(
                args.recipes,
                values,
                args.root,
                args.cached_only,
                None if args.build_only else installs,
            )
            return 0
        variant = {key: items[0] for key, items in values.items()}
        rendered = render_recipe(args.recipe, variant)
        if args.command == "render":
            sys.stdout.write(rendered.text)
        elif args.command == "fetch":
            print(fetch_source(rendered.meta)[0])
        elif args.command == "pack":
            out = build(rendered, args.root, args.cached_only)
            step(f"pack: {rendered.name}")
            pack(out, rendered, args.root / "channel")
            index(args.root / "channel")
        else:
            build(rendered, args.root, args.cached_only)
    except BuildError as exc:
        sys.stdout.flush()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
