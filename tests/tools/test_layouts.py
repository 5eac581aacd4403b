"""libjpeg-turbo's two layouts cannot be confused: each one's run_exports pins its own
layout, so py-rattler never hands a consumer of one the other, even when the other
has the higher build number. The real recipe is only rendered; the channel holds
repodata records made from what it renders."""

import asyncio
import fnmatch
import json
from pathlib import Path

import pytest
import rattler
import rattler.exceptions

from tools.offline_build.render import load_variant_values, recipe_variants, render_recipe

ROOT = Path(__file__).resolve().parents[2]
LAYOUTS = ("standard", "prefixed")


def rendered_layouts():
    values = load_variant_values(ROOT / "conda_build_config.yaml", {})
    found = {}
    for variant in recipe_variants(ROOT / "recipes" / "libjpeg-turbo", values):
        r = render_recipe(ROOT / "recipes" / "libjpeg-turbo", variant)
        found[variant["libjpeg_turbo_layout"]] = r
    assert set(found) == set(LAYOUTS)
    return found


def record(name, version, build, number, depends=(), constrains=()):
    return {"name": name, "version": version, "build": build, "build_number": number,
            "depends": list(depends), "constrains": list(constrains), "subdir": "linux-64",
            "license": "", "timestamp": 0}  # fmt: skip


def write_channel(path, records):
    for subdir, entries in (("linux-64", records), ("noarch", [])):
        (path / subdir).mkdir(parents=True, exist_ok=True)
        packages = {f"{r['name']}-{r['version']}-{r['build']}.conda": r for r in entries}
        repodata = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": packages}
        (path / subdir / "repodata.json").write_text(json.dumps(repodata))
    return path


def solve(channel_dir, specs, cache):
    async def run():
        return await rattler.solve(
            [rattler.Channel(channel_dir.as_uri())], [rattler.MatchSpec(s) for s in specs],
            gateway=rattler.Gateway(cache_dir=cache), platforms=["linux-64", "noarch"],
            virtual_packages=[], channel_relations="disabled",
        )  # fmt: skip

    return {r.name.normalized: str(r.build) for r in asyncio.run(run())}


def turbo_channel(tmp_path, favoured, exports):
    """Both layouts (the favoured one with the higher build number, to tempt the
    solver) and one consumer per layout whose depends are that layout's run_exports."""
    layouts = rendered_layouts()
    records = []
    for layout, r in layouts.items():
        number = 100 if layout == favoured else 0
        build = r.build_string.rsplit("_", 1)[0] + f"_{number}"
        records.append(record(r.name, r.version, build, number))
        records.append(record(f"consumer-of-{layout}", "1.0", "0", 0, exports(r)))
    return write_channel(tmp_path / f"channel-{favoured}", records)


def run_exports(r):
    return [str(s) for s in r.meta["build"]["run_exports"]]


def test_each_layout_exports_a_pin_on_itself():
    layouts = rendered_layouts()
    for layout, r in layouts.items():
        assert run_exports(r) == [f"libjpeg-turbo >=3.1.3,<4.0a0 {layout}_*"]
        assert r.build_string.startswith(f"{layout}_h")
        spec = rattler.MatchSpec(run_exports(r)[0])
        for other, o in layouts.items():
            assert fnmatch.fnmatchcase(o.build_string, spec.build) is (other == layout)


@pytest.mark.parametrize("favoured", LAYOUTS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_consumer_of_one_layout_never_receives_the_other(tmp_path, layout, favoured):
    channel_dir = turbo_channel(tmp_path, favoured, run_exports)
    got = solve(channel_dir, [f"consumer-of-{layout}"], tmp_path / "cache")
    assert got["libjpeg-turbo"].startswith(f"{layout}_h"), got
    other = next(o for o in LAYOUTS if o != layout)
    with pytest.raises(rattler.exceptions.SolverError):
        solve(channel_dir, [f"consumer-of-{layout}", f"libjpeg-turbo * {other}_*"],
              tmp_path / "cache")  # fmt: skip


def test_without_the_layout_pin_the_solver_would_hand_over_the_other(tmp_path):
    """What the run_exports were before: a version range alone. The favoured
    (higher-numbered) prefixed build then goes to a consumer linked against standard."""

    def unpinned(r):
        return [run_exports(r)[0].rsplit(" ", 1)[0]]

    channel_dir = turbo_channel(tmp_path, "prefixed", unpinned)
    got = solve(channel_dir, ["consumer-of-standard"], tmp_path / "cache")
    assert got["libjpeg-turbo"].startswith("prefixed_h")
