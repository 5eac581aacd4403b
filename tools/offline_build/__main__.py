"""Command line: python -m tools.offline_build {render,fetch,build,pack,channel} RECIPE_DIR...
[options]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BuildError
from .build import build, step
from .channel import fresh_prefix, index, install, test_installed
from .fetch import fetch_source
from .pack import pack
from .render import load_variant, render_recipe

DEFAULT_CONFIG = Path("conda_build_config.yaml")


def channel(recipes: list[Path], variant: dict, root: Path, cached_only: bool) -> None:
    """Build and pack every recipe, index ROOT/channel, install all, test in the install."""
    channel_dir, env = root / "channel", fresh_prefix(root / "channel-test-env")
    names, specs = [], []
    for recipe in recipes:
        rendered = render_recipe(recipe, variant)
        out = build(rendered, root, cached_only)
        step(f"pack: {rendered.name}")
        pack(out, rendered, channel_dir)
        names.append(rendered.name)  # the exact build just packed, not another one
        specs.append(f"{rendered.name} =={rendered.version} {rendered.build_string}")
    step(f"index: {channel_dir}")
    index(channel_dir)
    step(f"install: {', '.join(names)} into {env}")
    install(channel_dir, specs, env)
    for recipe in recipes:
        step(f"test installed: {recipe}")
        test_installed(recipe, env, variant)
    print(f"channel: {len(names)} packages built, packed, installed and tested in {env}")


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
            sub.add_argument("recipes", type=Path, nargs="+", metavar="recipe",
                             help="recipe directories, built in this order")  # fmt: skip
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
    args = parser.parse_args(argv)
    try:
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
        variant = load_variant(config, overrides)
        if args.command == "channel":
            channel(args.recipes, variant, args.root, args.cached_only)
            return 0
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
