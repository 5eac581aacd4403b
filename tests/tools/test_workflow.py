"""The conda-build workflow cannot run here (no conda, no network to it), so its
shape is checked instead: it parses, it builds on linux-64, osx-64 and osx-arm64 and
says why not on Windows, every conda-build step names existing recipes and the
variant file, the commands are the README's, and the README says it is unverified."""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "conda-build.yml"
README = ROOT / "README.md"
PLATFORMS = {"linux-64": "ubuntu-", "osx-64": "macos-", "osx-arm64": "macos-"}
RECIPES = sorted(p.name for p in (ROOT / "recipes").iterdir() if (p / "meta.yaml").is_file())


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def job(name: str = "build") -> dict:
    jobs = workflow()["jobs"]
    assert list(jobs) == ["build", "smoke", "publish"], list(jobs)
    return jobs[name]


def commands(lines) -> list[str]:
    """The conda commands among shell lines, comments and blank space dropped."""
    found = []
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[:1] == ["conda"]:
            found.append(shlex.join(words))
    return found


def workflow_commands() -> list[str]:
    lines = [line for step in job()["steps"] for line in str(step.get("run", "")).splitlines()]
    return commands(lines)


def readme_block() -> list[str]:
    text = README.read_text()
    section = text.split("### With conda-build", 1)[1]
    (block,) = re.findall(r"^```sh\n(.*?)^```", section, re.DOTALL | re.MULTILINE)[:1]
    return block.splitlines()


def test_it_parses_and_runs_on_the_events_that_touch_the_recipes():
    data = workflow()
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in on
    for event in ("push", "pull_request"):
        assert "recipes/**" in on[event]["paths"]
        assert "conda_build_config.yaml" in on[event]["paths"]


def test_the_matrix_covers_the_three_platforms_and_not_windows():
    build = job()
    assert build["runs-on"] == "${{ matrix.os }}"
    include = build["strategy"]["matrix"]["include"]
    assert {entry["subdir"] for entry in include} == set(PLATFORMS)
    for entry in include:
        assert entry["os"].startswith(PLATFORMS[entry["subdir"]]), entry
    intel, arm = (
        next(e["os"] for e in include if e["subdir"] == s) for s in ("osx-64", "osx-arm64")
    )
    assert intel.endswith("-intel"), intel  # GitHub's Intel macOS runners' labels
    assert not arm.endswith("-intel"), arm
    assert build["strategy"]["fail-fast"] is False
    assert not any("windows" in str(entry).lower() for entry in include)
    text = WORKFLOW.read_text()
    assert re.search(r"^# Windows \(win-64\) is not built: ", text, re.MULTILINE)


def test_conda_comes_from_conda_forge_with_strict_priority():
    build = job()
    (setup,) = [s for s in build["steps"] if str(s.get("uses", "")).startswith(
        "conda-incubator/setup-miniconda@")]  # fmt: skip
    assert setup["with"]["channels"] == "conda-forge"
    assert setup["with"]["channel-priority"] == "strict"
    assert str(setup["with"]["conda-remove-defaults"]) == "true"
    assert build["env"]["CONDA_CHANNEL_PRIORITY"] == "strict"
    assert build["defaults"]["run"]["shell"] == "bash -el {0}"


def test_every_build_step_names_existing_recipes_and_the_variant_file():
    built = []
    for command in workflow_commands():
        words = shlex.split(command)
        if words[:2] != ["conda", "build"]:
            continue
        config = words[words.index("-m") + 1]
        assert (ROOT / config).is_file(), config
        assert config == "conda_build_config.yaml"
        recipes = [w for w in words[2:] if w.startswith("recipes/")]
        assert recipes, command
        for recipe in recipes:
            assert (ROOT / recipe / "meta.yaml").is_file(), recipe
        built += [Path(r).name for r in recipes]
        assert "conda-forge" in words, command  # the compilers and x264/x265 come from there
    assert sorted(built) == RECIPES  # every recipe, once
    # after everything each builds on
    assert built.index("opencv") > max(built.index(n) for n in ("libjpeg-turbo", "libjpeg",
                                                                 "ffmpeg"))  # fmt: skip
    assert built.index("av") > built.index("ffmpeg")
    assert built.index("accelerated-codecs") > max(built.index("av"), built.index("libjpeg-turbo"))
    for name in ("av", "opencv", "accelerated-codecs"):
        command = next(c for c in workflow_commands() if c.endswith(f"recipes/{name}"))
        assert "--override-channels -c local -c conda-forge" in command  # ours first


def test_the_commands_are_the_readmes():
    lines = readme_block()
    assert commands(lines) == workflow_commands()
    assert "export CONDA_CHANNEL_PRIORITY=strict" in [line.split("#")[0].strip() for line in lines]


def test_the_readme_says_the_workflow_is_unverified():
    text = " ".join(README.read_text().split())
    assert ".github/workflows/conda-build.yml" in text
    assert "It is unverified: it has never run" in text
    assert "Windows is not built" in text
    header = WORKFLOW.read_text().split("\nname:", 1)[0]
    assert "UNVERIFIED: this workflow has never run." in header


def test_what_was_built_is_indexed_and_uploaded_even_when_a_build_failed():
    steps = job()["steps"]
    index = next(s for s in steps if s.get("name") == "Index the channel")
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert index["if"] == "always()"
    assert upload["if"] == "always()"
    assert 'conda index "$(conda info --base)/conda-bld"' in index["run"]
    assert "repodata.json" in index["run"]
    assert "noarch" in index["run"]
    assert upload["with"]["path"] == "channel/"
    assert upload["with"]["name"] == "channel-${{ matrix.subdir }}"


def test_a_second_job_installs_the_linux_channel_and_smoke_tests_it():
    smoke = job("smoke")
    assert smoke["needs"] == "build"
    assert smoke["if"] == "always()"
    steps = smoke["steps"]
    download = next(
        s for s in steps if str(s.get("uses", "")).startswith("actions/download-artifact@")
    )
    assert download["with"]["name"] == "channel-linux-64"
    run = "\n".join(str(s.get("run", "")) for s in steps)
    assert "--strict-channel-priority --override-channels" in run
    assert "-c ./channel -c conda-forge" in run
    assert "for licence in gpl lgpl; do" in run
    assert '"ffmpeg=*=${licence}*"' in run
    for licence in ("gpl", "lgpl"):
        assert f"./env-{licence}/bin/ffmpeg" in run
    assert "cv2.imencode" in run  # a JPEG through OpenCV
    assert "-c:v libx264" in run  # H.264 frames through ffmpeg
    assert "--enable-gpl" in run
    assert "--disable-gpl" in run


def test_publishing_needs_the_token_and_says_when_it_is_skipped():
    publish = job("publish")
    assert set(publish["needs"]) == {"build", "smoke"}
    (step,) = [s for s in publish["steps"] if s.get("name") == "Upload the packages"]
    assert step["env"]["ANACONDA_API_TOKEN"] == "${{ secrets.ANACONDA_API_TOKEN }}"
    assert 'if [ -z "${ANACONDA_API_TOKEN}" ]' in step["run"]
    assert "the upload to anaconda.org is skipped" in step["run"]
    assert "anaconda upload" in step["run"]
