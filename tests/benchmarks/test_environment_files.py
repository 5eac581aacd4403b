"""environment.yml and environment-ijg.yml agree with our recipes, with pyproject's
bench extra, and (slow) with the environments tools/run.sh installs from them."""

import json
import os
import tomllib
from pathlib import Path

import pytest
import rattler
import yaml

from benchmarks import environments
from tools.offline_build.environment import read_environment_file, spec_name
from tools.offline_build.render import load_variant_values, recipe_variants, render_recipe
from tools.offline_build.specs import matches

ROOT = Path(__file__).resolve().parents[2]
FILES = {role: ROOT / name for role, name in environments.FILES.items()}
# PyTurboJPEG's module is `turbojpeg` like ours: it is in neither file, and tools/run.sh
# installs it outside site-packages (.build/peers) for benchmarks/peers.py to load by path.
PIP_ONLY: set[str] = set()


def normalized(name: str) -> str:
    return name.lower().replace("_", "-")


def our_builds() -> dict[str, list[tuple[str, str]]]:
    """name -> [(version, build string)] for every variant of every recipe."""
    values = load_variant_values(ROOT / "conda_build_config.yaml", {})
    builds: dict[str, list[tuple[str, str]]] = {}
    for recipe in sorted((ROOT / "recipes").iterdir()):
        for variant in recipe_variants(recipe, values):
            for r in render_recipe(recipe, variant).packages:
                builds.setdefault(r.name, []).append((r.version, r.build_string))
    return builds


@pytest.fixture(scope="module")
def builds():
    return our_builds()


@pytest.mark.parametrize("role", list(FILES))
def test_each_channel_spec_picks_exactly_one_of_our_builds(role, builds):
    env = read_environment_file(FILES[role])
    ours = [s for s in env.conda if spec_name(s) in builds]
    assert ours, f"{FILES[role].name} names none of our packages"
    for spec in ours:
        picked = [b for v, b in builds[spec_name(spec)] if matches(spec, v, b)]
        assert len(picked) == 1, f"{spec} picks {picked} of {builds[spec_name(spec)]}"
    assert "./.build/channel" in env.channels[0]  # ours first


def test_the_two_environments_differ_in_the_opencv_jpeg_library_only(builds):
    bench, ijg = (read_environment_file(FILES[r]) for r in ("bench", "bench-ijg"))
    opencv = {r: next(s for s in e.conda if spec_name(s) == "opencv") for r, e in
              (("bench", bench), ("bench-ijg", ijg))}  # fmt: skip
    assert next(b for v, b in builds["opencv"] if matches(opencv["bench"], v, b)).startswith(
        "turbo_"
    )
    assert next(b for v, b in builds["opencv"] if matches(opencv["bench-ijg"], v, b)).startswith(
        "ijg_"
    )
    ffmpeg = {e.name: next(s for s in e.conda if spec_name(s) == "ffmpeg") for e in (bench, ijg)}
    assert len(set(ffmpeg.values())) == 1, ffmpeg


def test_environment_yml_lists_the_bench_extra():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    wanted = {normalized(rattler.MatchSpec(r.split(";")[0].replace(">=", " >="), strict=False)
                         .name.normalized) for r in extra["bench"]}  # fmt: skip
    env = read_environment_file(FILES["bench"])
    listed = {normalized(spec_name(s)) for s in env.conda + env.pip}
    assert wanted - PIP_ONLY <= listed, (
        f"missing from environment.yml: {wanted - PIP_ONLY - listed}"
    )


def test_environment_yml_is_plain_yaml():
    data = yaml.safe_load(FILES["bench"].read_text())
    assert data["name"] == "accelerated-codecs"
    assert "nodefaults" in data["channels"]


@pytest.mark.slow
@pytest.mark.parametrize("role", list(FILES))
def test_the_installed_environment_is_what_the_file_asks(role, builds):
    """Each spec of ours is met by exactly one installed package, and nothing of ours
    is installed that the file does not ask for."""
    env = environments.get(role)
    installed = env.packages()
    asked = read_environment_file(FILES[role])
    ours = {spec_name(s): s for s in asked.conda if spec_name(s) in builds}
    for name, spec in ours.items():
        assert name in installed, f"{spec}: not installed in {env.prefix}"
        record = installed[name]
        assert matches(spec, record["version"], record["build"]), (spec, record)
    # Ours installed unasked must be what an installed package of ours depends on
    # (opencv brings libopencv and py-opencv, accelerated-codecs brings av).
    needed = {spec_name(d) for n in installed if n in builds
              for d in json.loads(Path(installed[n]["record"]).read_text()).get("depends", [])}  # fmt: skip
    extra = {n for n in installed if n in builds} - set(ours) - needed
    assert not extra, f"installed but neither asked for nor needed: {extra}"
    assert os.path.isdir(env.site_packages / "cv2")


def test_no_extra_installs_pyturbojpeg_over_our_turbojpeg():
    """PyTurboJPEG installs a top-level turbojpeg.py: in site-packages it is what
    `import turbojpeg` finds outside this checkout, instead of our package."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [
        *extras.get("dependencies", []),
        *(r for group in extras["optional-dependencies"].values() for r in group),
    ]
    assert not [r for r in names if normalized(r).startswith("pyturbojpeg")]
