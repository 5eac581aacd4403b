"""Build-string variants, as recipes/ffmpeg uses them: the solver picks the
variant a build-string glob asks for, and the +100 build number wins otherwise."""

import shutil

import pytest

from tools.offline_build import channel
from tools.offline_build.__main__ import main
from tools.offline_build.pack import pack
from tools.offline_build.render import load_variant, render_recipe

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)


@pytest.fixture
def channel_with_both_flavors(recipe):
    meta = recipe / "meta.yaml"
    meta.write_text(
        meta.read_text().replace(
            "  number: 0\n", "  number: {{ 100 if flavor == 'fancy' else 0 }}\n"
        )
    )
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    builds = {}
    for flavor in ("plain", "fancy"):
        assert (
            main(
                [
                    "build",
                    str(recipe),
                    "-m",
                    str(config),
                    "--root",
                    str(root),
                    "--variant",
                    f"flavor={flavor}",
                ]
            )
            == 0
        )
        rendered = render_recipe(recipe, load_variant(config, {"flavor": flavor}))
        pack((root / "hello" / "current").resolve(), rendered)
        builds[flavor] = rendered.build_string
    channel.index(root / "channel")
    return root / "channel", builds


@pytest.mark.parametrize(
    ("spec", "flavor"),
    [("hello", "fancy"), ("hello=*=plain*", "plain"), ("hello=*=fancy*", "fancy")],
)
def test_the_solver_picks_the_asked_variant(channel_with_both_flavors, spec, flavor, tmp_path):
    channel_dir, builds = channel_with_both_flavors
    assert builds["plain"].startswith("plain_")
    assert builds["plain"].endswith("_0")
    assert builds["fancy"].startswith("fancy_")
    assert builds["fancy"].endswith("_100")
    (record,) = channel.install(channel_dir, [spec], tmp_path / "env")
    assert str(record.build) == builds[flavor]


def test_a_variant_filter_that_starves_a_later_recipe_is_refused_before_any_build(tmp_path):
    """run.sh once built the channel with --variant libjpeg_turbo_layout=standard: the
    turbo OpenCV's host needs the prefixed layout, so a fresh machine failed at that
    host install after 16 minutes of builds. The plan is now checked first."""
    from pathlib import Path

    from tools.offline_build import BuildError
    from tools.offline_build.plan import check_host_plan
    from tools.offline_build.render import load_variant_values, recipe_variants

    repo = Path(__file__).resolve().parents[2]
    recipes = [repo / "recipes" / n for n in ("libjpeg-turbo", "libjpeg", "ffmpeg", "opencv")]
    config = repo / "conda_build_config.yaml"

    def plan(overrides):
        values = load_variant_values(config, overrides)
        return [render_recipe(r, v) for r in recipes for v in recipe_variants(r, values)]

    check_host_plan(plan({}))  # every variant: each host requirement is built first
    with pytest.raises(BuildError, match=r"opencv .*turbo.* needs libjpeg-turbo .*prefixed"):
        check_host_plan(plan({"libjpeg_turbo_layout": "standard"}))
    with pytest.raises(BuildError, match=r"needs ffmpeg .*lgpl"):
        check_host_plan(plan({"license_family": "gpl"}))
