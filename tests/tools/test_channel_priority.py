"""The README's install commands get OUR packages, even when another channel holds the
same names and versions with higher build numbers (conda-forge's ffmpeg 8.1.2 goes up
to build 900).

What conda documents (Managing channels; the channel_priority setting):
- flexible, the default: packages are sorted by channel priority, then version, then
  build number, but lower-priority channels stay in the solve. When our build cannot
  be installed, the solver takes a lower channel's package of the same name rather
  than reporting the conflict;
- strict: a package name found in a higher-priority channel is never taken from a
  lower one, for dependencies too;
- ``channel::package`` pins that one spec to the channel, not its dependencies.

So the README asks for strict priority (``--strict-channel-priority``, or
``CONDA_CHANNEL_PRIORITY=strict`` before ``conda env create``). This test reads the
README's install commands (and the environment files they name), packs two channels
of tiny packages with the runner's own helpers and indexes them:
- ours: every variant of the real recipes, as rendered (name, version, build string
  and number, run and run_constrained, the run_exports of our host packages);
- a fake "conda-forge": the same names and versions with build numbers +900 and
  build strings that match the same globs (lgpl*, turbo*, ...), plus everything else
  the commands ask for.
Then it solves each command with py-rattler, whose Strict priority is conda's strict:
every package our channel has a name for comes from ours. And without the flag:
- on a machine where our builds cannot load (they need GLIBC_2.35, conda-forge's
  2.17), solutions exist only with conda-forge's builds, and flexible installs one;
  strict refuses;
- with priority off (py-rattler's Disabled ranks build numbers across channels),
  conda-forge's build 900 wins outright;
- ``ours::opencv`` keeps opencv ours but lets its ffmpeg come from conda-forge.
"""

import asyncio
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import rattler
import rattler.exceptions
from conda_package_handling import api as cph

from tools.offline_build.channel import index
from tools.offline_build.environment import read_environment_file
from tools.offline_build.pack import write_info
from tools.offline_build.render import load_variant_values, recipe_variants, render_recipe

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OURS, CONDA_FORGE = "./.build/channel", "conda-forge"  # as the README writes them
BUMP = 900
# What our packed builds need (FFmpeg's libavcodec uses GLIBC_2.35 symbols), and
# what conda-forge's sysroot gives theirs.
OUR_GLIBC, THEIR_GLIBC = "2.35", "2.17"
NEW_MACHINE, OLD_MACHINE = "2.36", "2.31"  # Debian 12's glibc, Ubuntu 20.04's
# Versions of the packages only conda-forge has, so that the commands' specs match.
OTHER_VERSIONS = {"python": "3.11.9", "numpy": "2.2.6"}
INSTALL = (["conda", "create"], ["conda", "install"], ["conda", "env", "create"])
FLAGS_WITH_VALUE = {"-c", "--channel", "-n", "--name", "-p", "--prefix", "-f", "--file"}
FLAGS = {"--strict-channel-priority", "--override-channels", "-y", "--yes"}


# --- the README's commands ---------------------------------------------------------------


@dataclass
class Command:
    line: str
    channels: list[str]  # by priority: the -c channels (or the file's), then the user's
    specs: list[str]
    strict: bool


def parse(line: str) -> Command | None:
    """A `conda create|install` or `conda env create -f` line, or None for others."""
    words = shlex.split(line, comments=True)
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    verb = next((v for v in INSTALL if words[: len(v)] == v), None)
    if verb is None:
        return None
    channels, specs, flags, files = [], [], set(), []
    rest = iter(words[len(verb) :])
    for word in rest:
        if word in FLAGS_WITH_VALUE:
            value = next(rest)
            channels += [value] if word in ("-c", "--channel") else []
            files += [value] if word in ("-f", "--file") else []
        elif word.startswith("-"):
            assert word in FLAGS, f"{line}: the test does not know the flag {word}"
            flags.add(word)
        else:
            specs.append(word)
    for file in files:
        environment = read_environment_file(ROOT / file)
        channels += [c for c in environment.channels if c != "nodefaults"]
        specs += environment.conda
    if not channels:
        return None  # not an install from our channel (conda install -n base conda-build)
    if "--override-channels" not in flags and CONDA_FORGE not in channels:
        channels.append(CONDA_FORGE)  # the user's own channels come after -c's: conda-forge
    strict = "--strict-channel-priority" in flags or env.get("CONDA_CHANNEL_PRIORITY") == "strict"
    return Command(line, channels, specs, strict)


def readme_commands() -> list[Command]:
    commands = []
    text = README.read_text()
    for block in re.findall(r"^ *```sh\n(.*?)^ *```", text, re.DOTALL | re.MULTILINE):
        for line in block.replace("\\\n", " ").splitlines():
            command = parse(line)
            if command is not None:
                commands.append(command)
    return commands


COMMANDS = readme_commands()


def command_id(command: Command) -> str:
    return " ".join(command.line.split("#")[0].split())


# --- two channels of tiny packages ------------------------------------------------------


@dataclass
class Package:
    name: str
    version: str
    build: str
    number: int
    depends: list[str]
    constrains: list[str]
    track_features: tuple[str, ...] = ()


def our_packages() -> list[Package]:
    """Every variant of every recipe, as rendered; run gains the run_exports of our
    host packages (OpenCV's ffmpeg), as the runner and conda-build add them."""
    values = load_variant_values(ROOT / "conda_build_config.yaml", {})
    rendered = [package
                for recipe in sorted(p for p in (ROOT / "recipes").iterdir()
                                     if (p / "meta.yaml").is_file())
                for variant in recipe_variants(recipe, values)
                for package in render_recipe(recipe, variant).packages]  # fmt: skip
    exports = {r.name: [str(s) for s in (r.meta["build"].get("run_exports") or [])]
               for r in rendered}  # fmt: skip
    packages = {}
    for r in rendered:
        requirements = r.meta.get("requirements") or {}
        ignored = {str(n) for n in r.meta["build"].get("ignore_run_exports") or []}
        depends = [str(s) for s in requirements.get("run") or []]
        for spec in requirements.get("host") or []:
            name = rattler.MatchSpec(str(spec), strict=False).name.normalized
            # weak run_exports (all of ours) do not apply to a noarch package
            if name in exports and name not in ignored and not r.noarch:
                depends += exports[name]
        depends.append(f"__glibc >={OUR_GLIBC},<3.0.a0")
        constrains = [str(s) for s in requirements.get("run_constrained") or []]
        features = tuple(str(f) for f in r.meta["build"].get("track_features") or [])
        packages[(r.name, r.build_string)] = Package(
            r.name,
            r.version,
            r.build_string,
            int(r.info["PKG_BUILDNUM"]),
            depends,
            constrains,
            features,
        )
    return list(packages.values())


def their_packages(ours: list[Package], commands: list[Command]) -> list[Package]:
    """Ours with +BUMP and conda-forge's glibc; and every other name asked for."""
    theirs = []
    renamed = {(p.name, p.build): re.sub(r"h[0-9a-f]{7}_\d+$", f"hcf00000_{p.number + BUMP}",
                                         p.build) for p in ours}  # fmt: skip
    for p in ours:
        number = p.number + BUMP
        build = renamed[(p.name, p.build)]
        assert build != p.build, p.build
        # An exact pin on a sibling (py-opencv on libopencv) names their sibling's build.
        depends = [" ".join([*d.split()[:2], renamed[(d.split()[0], d.split()[2])]])
                   if len(d.split()) == 3 and (d.split()[0], d.split()[2]) in renamed else d
                   for d in p.depends if not d.startswith("__glibc")]  # fmt: skip
        depends.append(f"__glibc >={THEIR_GLIBC},<3.0.a0")
        theirs.append(Package(p.name, p.version, build, number, depends, p.constrains))
    names = {p.name for p in ours}
    wanted = [s for c in commands for s in c.specs] + [d for p in ours for d in p.depends]
    for spec in wanted:
        name = rattler.MatchSpec(spec, strict=False).name.normalized
        if name not in names and not name.startswith("__"):
            names.add(name)
            theirs.append(Package(name, OTHER_VERSIONS.get(name, "1.0"), "hcf00000_0", 0, [], []))
    return theirs


def pack_channel(path: Path, origin: str, packages: list[Package]) -> Path:
    """Each package holds one file, share/origin/<name>.txt, saying where it came from."""
    for p in packages:
        tree = path / ".trees" / f"{p.name}-{p.build}"
        (tree / "share" / "origin").mkdir(parents=True)
        (tree / "share" / "origin" / f"{p.name}.txt").write_text(f"{origin} {p.build}\n")
        manifest = {"name": p.name, "version": p.version, "build_string": p.build,
                    "build_number": p.number, "staging_prefix": "/no/such/prefix",
                    "requirements": {"run": p.depends, "run_constrained": p.constrains},
                    "track_features": list(p.track_features),
                    "about": {"license": "none"}}  # fmt: skip
        write_info(tree, manifest, int(time.time() * 1000), None)
        files = sorted(q.relative_to(tree).as_posix() for q in tree.rglob("*") if q.is_file())
        (path / "linux-64").mkdir(parents=True, exist_ok=True)
        name = f"{p.name}-{p.version}-{p.build}.conda"
        cph.create(str(tree), files, str(path / "linux-64" / name))
    index(path)
    return path


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    root = tmp_path_factory.mktemp("channels")
    ours = our_packages()
    return {
        OURS: pack_channel(root / "ours", "ours", ours),
        CONDA_FORGE: pack_channel(
            root / "conda-forge", "conda-forge", their_packages(ours, COMMANDS)
        ),
        "cache": root / "cache",
        "names": {p.name for p in ours},
    }


def priority(strict: bool) -> rattler.ChannelPriority:
    """conda's strict is py-rattler's Strict; without it, the command is solved with
    every channel admitted for every name (py-rattler's Disabled)."""
    return rattler.ChannelPriority.Strict if strict else rattler.ChannelPriority.Disabled


def solve(channels, names, specs, strict, glibc=NEW_MACHINE) -> dict[str, tuple[str, str]]:
    """{name: (origin, build)} of the solution; origin is the channel's README name."""
    dirs = {channels[n].as_uri().rstrip("/") + "/": n for n in names}
    specs = [s.replace(f"{OURS}::", f"{channels[OURS].as_uri()}::") for s in specs]

    async def run():
        return await rattler.solve(
            [rattler.Channel(channels[n].as_uri()) for n in names],
            [rattler.MatchSpec(s, strict=False) for s in specs],
            gateway=rattler.Gateway(cache_dir=channels["cache"]),
            platforms=["linux-64", "noarch"],
            virtual_packages=[rattler.GenericVirtualPackage(
                rattler.PackageName("__glibc"), rattler.Version(glibc), rattler.BuildString("0"))],
            channel_priority=priority(strict),
            channel_relations="disabled",
        )  # fmt: skip

    return {r.name.normalized: (dirs[r.channel], str(r.build)) for r in asyncio.run(run())}


def our_names(channels) -> set[str]:
    return channels["names"]


# --- the tests ---------------------------------------------------------------------------


def test_the_readme_has_the_install_commands():
    lines = [command_id(c) for c in COMMANDS]
    assert len(lines) == 8, lines  # 2 ffmpeg, 3 opencv, 1 create, 2 environment files
    assert any(line.startswith("conda create") for line in lines), lines
    assert any("conda env create -f environment.yml" in line for line in lines), lines
    assert any("conda env create -f environment-ijg.yml" in line for line in lines), lines
    for command in COMMANDS:
        assert command.channels[0] == OURS, command.line  # ours first
        assert set(command.channels) <= {OURS, CONDA_FORGE}, command.line


@pytest.mark.parametrize("command", COMMANDS, ids=command_id)
def test_every_install_command_asks_for_strict_channel_priority(command):
    assert command.strict, f"README: {command.line.strip()} lacks --strict-channel-priority"


@pytest.mark.parametrize("command", COMMANDS, ids=command_id)
def test_the_readme_command_gets_our_builds(channels, command):
    got = solve(channels, command.channels, command.specs, command.strict)
    mine = {n: v for n, v in got.items() if n in our_names(channels)}
    assert mine, got
    assert all(origin == OURS for origin, _ in mine.values()), got
    assert not any(build.endswith(f"_{BUMP}") or "cf0000" in build for _, build in mine.values())


@pytest.mark.parametrize("command", COMMANDS, ids=command_id)
def test_without_strict_priority_the_command_gets_conda_forges_builds(channels, command):
    """The difference is real. On a machine whose glibc is too old for ours, strict
    refuses; the same specs with conda-forge admitted have solutions, none of them with
    any build of ours, so flexible (which admits them rather than fail) installs
    conda-forge's. With priority off, conda-forge's +900 wins even where ours fit."""
    with pytest.raises(rattler.exceptions.SolverError):
        solve(channels, command.channels, command.specs, True, OLD_MACHINE)
    loose = solve(channels, command.channels, command.specs, False, OLD_MACHINE)
    mine = [n for n in loose if n in our_names(channels)]
    assert mine, loose
    assert all(loose[n][0] == CONDA_FORGE for n in mine), loose
    for name in mine:  # no solution holds a build of ours
        with pytest.raises(rattler.exceptions.SolverError):
            solve(channels, command.channels, [*command.specs, f"{OURS}::{name}"], False,
                  OLD_MACHINE)  # fmt: skip
    off = solve(channels, command.channels, command.specs, False, NEW_MACHINE)
    for name in mine:
        origin, build = off[name]
        assert origin == CONDA_FORGE, off
        assert int(build.rsplit("_", 1)[1]) >= BUMP, off


def test_a_channel_pin_covers_only_the_package_it_names(channels):
    """Why not `ours::opencv`: its ffmpeg, a dependency, may still come from
    conda-forge. Strict priority keeps the dependency ours too."""
    names = [OURS, CONDA_FORGE]
    pinned = solve(channels, names, [f"{OURS}::opencv"], False)
    assert pinned["opencv"][0] == OURS
    assert pinned["ffmpeg"][0] == CONDA_FORGE
    strict = solve(channels, names, ["opencv"], True)
    assert strict["opencv"][0] == OURS
    assert strict["ffmpeg"][0] == OURS


def test_the_readme_create_command_installs_our_files(channels, tmp_path):
    """The first `conda create` of the README, solved (with the priority it asks for)
    and installed: every file of a package our channel names was packed into ours."""
    command = next(c for c in COMMANDS if command_id(c).startswith("conda create"))
    prefix = tmp_path / "env"

    async def run():
        records = await rattler.solve(
            [rattler.Channel(channels[n].as_uri()) for n in command.channels],
            [rattler.MatchSpec(s, strict=False) for s in command.specs],
            gateway=rattler.Gateway(cache_dir=channels["cache"]),
            platforms=["linux-64", "noarch"],
            virtual_packages=[rattler.GenericVirtualPackage(
                rattler.PackageName("__glibc"), rattler.Version(NEW_MACHINE),
                rattler.BuildString("0"))],
            channel_priority=priority(command.strict),
            channel_relations="disabled",
        )  # fmt: skip
        await rattler.install(records, prefix, cache_dir=tmp_path / "pkgs", show_progress=False)
        return records

    records = asyncio.run(run())
    origins = {p.stem: p.read_text().split()[0] for p in (prefix / "share" / "origin").iterdir()}
    assert {r.name.normalized for r in records} == set(origins)
    for name in our_names(channels) & set(origins):
        assert origins[name] == "ours", origins
    assert {"ffmpeg", "opencv", "libjpeg-turbo"} <= set(origins)


# --- the Python side of the channel: PyAV, our package, OpenCV's split ------------------


def test_our_package_with_the_lgpl_ffmpeg_gets_our_pyav_on_it(channels):
    for licence in ("lgpl", "gpl"):
        got = solve(channels, [OURS, CONDA_FORGE], ["accelerated-codecs", f"ffmpeg=*={licence}*"],
                    True)  # fmt: skip
        assert got["accelerated-codecs"][0] == OURS, got
        assert got["av"][0] == OURS, got
        assert got["ffmpeg"] == (OURS, got["ffmpeg"][1]), got
        assert got["ffmpeg"][1].startswith(f"{licence}_"), got
        assert got["libjpeg-turbo"][0] == OURS, got


@pytest.mark.parametrize("jpeg", ["turbo", "ijg"])
def test_opencv_gets_libopencv_and_py_opencv_of_its_own_build(channels, jpeg):
    got = solve(channels, [OURS, CONDA_FORGE], [f"opencv=*={jpeg}*"], True)
    builds = {got[n] for n in ("opencv", "libopencv", "py-opencv")}
    assert len(builds) == 1, got
    origin, build = builds.pop()
    assert origin == OURS, got
    assert build.startswith(f"{jpeg}_"), got


def fake_conda_forge_opencv(path: Path) -> Path:
    """conda-forge's split, as its feedstock builds it: headless_* builds, py-opencv and
    opencv pinned exactly to their libopencv; and one py-opencv pinned loosely, which
    only our libopencv's run_constrained keeps out of an environment with ours."""
    build = "headless_hcf00000_0"
    exact = f"libopencv 5.0.0 {build}"
    return pack_channel(path, "conda-forge", [
        Package("libopencv", "5.0.0", build, 0, [], []),
        Package("py-opencv", "5.0.0", build, 0, [exact], []),
        Package("py-opencv", "5.0.0", "headless_hcf00001_0", 0, ["libopencv 5.0.0"], []),
        Package("opencv", "5.0.0", build, 0, [exact, f"py-opencv 5.0.0 {build}"], []),
    ])  # fmt: skip


@pytest.mark.parametrize(
    "specs",
    [
        ["libopencv=*=turbo*", "py-opencv=*=headless*"],
        ["libopencv=*=turbo*", "opencv=*=headless*"],
        ["py-opencv=*=turbo*", "libopencv=*=headless*"],
        ["opencv=*=ijg*", "libopencv=*=headless*"],
    ],
    ids=" + ".join,
)
def test_conda_forge_opencv_cannot_join_an_environment_with_ours(channels, tmp_path, specs):
    """Same names, so one libopencv per environment; and our libopencv's run_constrained
    keeps conda-forge's py-opencv and opencv out too, even a build pinned loosely."""
    theirs = fake_conda_forge_opencv(tmp_path / "cf-opencv")
    names = {**channels, "cf-opencv": theirs}
    with pytest.raises(rattler.exceptions.SolverError):
        solve(names, [OURS, "cf-opencv"], specs, False)
    alone = solve(names, [OURS, "cf-opencv"], [s.split("=")[0] + "=*=headless*" for s in specs],
                  False)  # fmt: skip
    assert all(build.startswith("headless_") for _, build in alone.values()), alone


# --- the two layouts: the prefixed one only when asked for by build string -------------


def test_an_unpinned_libjpeg_turbo_is_the_standard_layout(channels, tmp_path):
    """The prefixed build carries a track feature, so a solver takes it only when a spec
    asks for it; conda-forge's pillow (libjpeg-turbo >=3,<4.0a0, needing libjpeg.so.8)
    gets the standard layout, here alone and beside conda-forge's packages."""
    pillow = pack_channel(tmp_path / "cf-pillow", "conda-forge", [
        Package("pillow", "12.0.0", "py311hcf00000_0", 0, ["libjpeg-turbo >=3,<4.0a0"], []),
    ])  # fmt: skip
    names = {**channels, "cf-pillow": pillow}
    for specs in (["libjpeg-turbo"], ["libjpeg-turbo >=3,<4.0a0"], ["pillow"],
                  ["pillow", "accelerated-codecs"]):  # fmt: skip
        got = solve(names, [OURS, "cf-pillow", CONDA_FORGE], specs, True)
        assert got["libjpeg-turbo"][0] == OURS, got
        assert got["libjpeg-turbo"][1].startswith("standard_"), (specs, got)
    asked = solve(names, [OURS, CONDA_FORGE], ["libjpeg-turbo=*=prefixed*"], True)
    assert asked["libjpeg-turbo"][1].startswith("prefixed_"), asked
    # OpenCV on turbo needs no libjpeg at run time: the standard one still comes with it.
    both = solve(names, [OURS, CONDA_FORGE], ["opencv=*=turbo*", "libjpeg-turbo"], True)
    assert both["libjpeg-turbo"][1].startswith("standard_"), both
