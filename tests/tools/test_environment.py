"""The env command: an environment.yml's packages from our channel, solved into a
prefix; the machine's Python and numpy, and pip's packages, left where they are."""

import json
import shutil

import pytest

from tools.offline_build import BuildError
from tools.offline_build.__main__ import main
from tools.offline_build.environment import install_environment, read_environment_file

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)

ENVIRONMENT = """\
name: demo
channels:
  - ./.build/channel
  - conda-forge
dependencies:
  - python 3.*
  - hello 1.2.3 {flavor}*
  - pandas
  - pip:
      - simplejpeg >=1.9
"""


@pytest.fixture
def flavors(recipe):
    """The tiny recipe's two flavors built and packed into ROOT/channel."""
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace(
        "  number: 0\n", "  number: {{ 100 if flavor == 'fancy' else 0 }}\n"))  # fmt: skip
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    code = main(["channel", str(recipe), "-m", str(config), "--root", str(root), "--build-only"])
    assert code == 0
    assert not (root / "channel-test-env").exists()  # --build-only installs nothing
    return root


def write_env(path, flavor):
    path.write_text(ENVIRONMENT.format(flavor=flavor))
    return path


def test_reads_conda_and_pip_specs(tmp_path):
    env = read_environment_file(write_env(tmp_path / "environment.yml", "plain"))
    assert env.name == "demo"
    assert env.channels == ["./.build/channel", "conda-forge"]
    assert env.conda == ["python 3.*", "hello 1.2.3 plain*", "pandas"]
    assert env.pip == ["simplejpeg >=1.9"]


def test_a_file_without_dependencies_is_refused(tmp_path):
    path = tmp_path / "environment.yml"
    path.write_text("name: x\n")
    with pytest.raises(BuildError, match="no dependencies list"):
        read_environment_file(path)


@pytest.mark.parametrize("flavor", ["plain", "fancy"])
def test_installs_the_asked_variant_and_says_what_it_left(flavors, tmp_path, flavor, capsys):
    env_file = write_env(tmp_path / "environment.yml", flavor)
    prefix = tmp_path / "envs" / "bench"
    packages = install_environment(env_file, prefix, flavors / "channel")
    assert [(p["name"], p["build"].split("_")[0]) for p in packages] == [("hello", flavor)]
    assert (prefix / "bin" / "hello").is_file()
    out = capsys.readouterr().out
    assert "from our channel: hello 1.2.3 " + flavor in out
    assert "the machine's: python 3.*" in out
    assert "pandas, simplejpeg >=1.9" in out  # left to pip / conda-forge, and said so


def test_a_repeat_changes_nothing_and_a_new_spec_reinstalls(flavors, tmp_path, capsys):
    prefix = tmp_path / "envs" / "bench"
    install_environment(write_env(tmp_path / "e.yml", "plain"), prefix, flavors / "channel")
    marker = prefix / "left-by-the-first-install"
    marker.write_text("x")
    install_environment(write_env(tmp_path / "e.yml", "plain"), prefix, flavors / "channel")
    assert "is up to date" in capsys.readouterr().out
    assert marker.exists()
    packages = install_environment(write_env(tmp_path / "e.yml", "fancy"), prefix,
                                   flavors / "channel")  # fmt: skip
    assert packages[0]["build"].startswith("fancy_")
    assert not marker.exists()  # a fresh prefix
    stamp = json.loads((prefix / "conda-meta" / "offline-build-environment.json").read_text())
    assert stamp["specs"] == ["hello 1.2.3 fancy*", "python 3.*"]


def test_nothing_from_our_channel_is_an_error(flavors, tmp_path):
    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - pandas\n")
    with pytest.raises(BuildError, match="none of its packages"):
        install_environment(path, tmp_path / "env", flavors / "channel")


def test_the_env_command(flavors, tmp_path):
    env_file = write_env(tmp_path / "environment.yml", "fancy")
    prefix = tmp_path / "env"
    assert main(["env", str(env_file), "--prefix", str(prefix), "--root", str(flavors)]) == 0
    assert (prefix / "conda-meta" / "offline-build-environment.json").is_file()


def test_a_variant_whose_build_skip_is_true_is_skipped_and_said(recipe, capsys):
    """build/skip true for one variant: conda-build builds the other and says which it
    skipped; so does the runner's channel, and the index holds the other alone."""
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace(
        "  number: 0\n", "  number: 0\n  skip: {{ flavor == 'fancy' }}\n"))  # fmt: skip
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    assert main(["channel", str(recipe), "-m", str(config), "--root", str(root),
                 "--build-only"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "skipped: hello" in out
    assert "build/skip is true" in out
    built = sorted(p.name for p in (root / "channel").rglob("hello-*.conda"))
    assert len(built) == 1, built
