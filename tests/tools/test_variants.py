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
