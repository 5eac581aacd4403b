"""Command line: python -m tools.offline_build {render,fetch,build} RECIPE_DIR [options]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import BuildError
from .build import build
from .fetch import fetch_source
from .render import load_variant, render_recipe

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
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("recipe", type=Path, help="recipe directory (with meta.yaml)")
        sub.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                         help="override a conda_build_config.yaml value (repeatable)")  # fmt: skip
        sub.add_argument("-m", "--variant-config", type=Path, default=None,
                         help=f"variant file (default: ./{DEFAULT_CONFIG} if present)")  # fmt: skip
        if name == "build":
            sub.add_argument("--root", type=Path, default=Path(".build"),
                             help="output root (default: .build)")  # fmt: skip
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
        rendered = render_recipe(args.recipe, load_variant(config, overrides))
        if args.command == "render":
            sys.stdout.write(rendered.text)
        elif args.command == "fetch":
            print(fetch_source(rendered.meta)[0])
        else:
            build(rendered, args.root)
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
