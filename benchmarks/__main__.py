"""python -m benchmarks demo [--out DIR] [--full]

The main job: benchmark our JPEG codec against its peers and tjbench on the
embedded photos, then write a Markdown report with the target ratios and the
figures. The JPEG roundtrip and video suites will join here as subcommands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from .codec_speed import plots, summary

SUITE = Path(__file__).parent / "codec_speed"


def demo(out: Path, full: bool) -> int:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "codec_speed.json"
    timing = [] if full else ["--benchmark-max-time=0.15", "--benchmark-min-rounds=5"]
    code = pytest.main([str(SUITE), "--benchmark-only", f"--benchmark-json={json_path}",
                        "-o", "testpaths=", "-q", "-p", "no:cacheprovider", *timing])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not json_path.exists():
        print(f"the benchmark run failed (pytest exit code {int(code)})", file=sys.stderr)
        return int(code) or 1
    figures = plots.make_figures(json_path, out)
    report = summary.render(json_path)
    report += "\n## Figures\n\n" + "".join(f"![{p.stem}]({p.name})\n\n" for p in figures)
    (out / "report.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"report: {out / 'report.md'}; figures: {', '.join(str(p) for p in figures)}")
    return 0 if code == pytest.ExitCode.OK else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="codec speed vs peers and tjbench, with a report and plots")
    run.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: results)")
    run.add_argument("--full", action="store_true", help="pytest-benchmark's default timing (slower, steadier)")
    args = parser.parse_args(argv)
    return demo(args.out, args.full)


if __name__ == "__main__":
    raise SystemExit(main())
