"""Command line: python -m tools.offline_build {render,fetch,build,pack,channel} RECIPE_DIR...
[options], python -m tools.offline_build env ENVIRONMENT_YML --prefix DIR, or
python -m tools.offline_build machine-deps."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BuildError
from .build import build
from .environment import install_environment
from .fetch import fetch_source
from .machine import HOST_LIBRARIES, missing_debian_packages
from .plan import build_and_pack, build_channel
from .render import load_variant_values, render_recipe

DEFAULT_CONFIG = Path("conda_build_config.yaml")


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
    text = ("install an environment.yml's packages (or --spec ones) from ROOT/channel into a "
            "prefix (offline); one with Python packages gets its own bin/python")  # fmt: skip
    env = commands.add_parser("env", help=text, description=text)
    env.add_argument("file", type=Path, nargs="?", default=None, help="an environment.yml")
    env.add_argument("--spec", action="append", default=[], metavar="SPEC",
                     help="a package spec to install too (repeatable; conda's forms)")  # fmt: skip
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
            if args.file is None and not args.spec:
                raise BuildError("env needs an environment.yml or at least one --spec")
            install_environment(args.file, args.prefix, args.root / "channel", args.spec)
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
            build_channel(
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
            build_and_pack(rendered, args.root, args.cached_only)
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
