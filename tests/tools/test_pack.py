"""Pack the tiny recipe from conftest into a .conda, index a file:// channel, install it
offline with py-rattler into a fresh prefix and rerun its tests there."""

import hashlib
import json
import os
import shutil
import subprocess

import pytest
import rattler
from conda_package_handling import api as cph

from tools.offline_build import BuildError, channel
from tools.offline_build.__main__ import main
from tools.offline_build.pack import pack
from tools.offline_build.render import load_variant, render_recipe

from .conftest import GCC_MAJOR, glibc_needed_by_readelf

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Anything that tried the network would go through a proxy that is not there."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)


@pytest.fixture
def built(recipe):
    """The tiny recipe plus a symlink, run_exports and run_constrained, built."""
    with open(recipe / "build.sh", "a") as fh:
        fh.write('ln -s libgreet.so "$PREFIX/lib/libgreet.so.1"\n')
    meta = recipe / "meta.yaml"
    meta.write_text(
        meta.read_text()
        .replace(
            "  number: 0\n",
            "  number: 0\n  run_exports:\n    - {{ pin_subpackage('hello', max_pin='x') }}\n",
        )
        .replace("requirements:\n", "requirements:\n  run_constrained:\n    - nothello <0a\n")
    )
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    rendered = render_recipe(recipe, load_variant(config, {}))
    return (root / "hello" / "current").resolve(), rendered, root


def unpack(conda, dest):
    cph.extract(str(conda), dest_dir=str(dest))
    return dest


def test_pack_writes_info(built, tmp_path):
    out, rendered, root = built
    conda = pack(out, rendered)
    assert conda == root / "channel" / "linux-64" / f"hello-1.2.3-{rendered.build_string}.conda"
    assert (root / "channel" / "noarch").is_dir()
    pkg = unpack(conda, tmp_path / "unpacked")
    info = pkg / "info"

    index = json.loads((info / "index.json").read_text())
    assert index["name"] == "hello"
    assert index["version"] == "1.2.3"
    assert index["build"] == rendered.build_string
    assert index["build_number"] == 0
    glibc = glibc_needed_by_readelf(pkg / "bin" / "hello", pkg / "lib" / "libgreet.so")
    assert index["depends"] == [f"__glibc >={glibc},<3.0.a0", f"libgcc >={GCC_MAJOR}"]
    assert index["constrains"] == ["nothello <0a"]
    assert index["subdir"] == "linux-64"
    assert (index["platform"], index["arch"]) == ("linux", "x86_64")
    assert isinstance(index["timestamp"], int)
    assert "license" in index

    manifest = json.loads((out / "manifest.json").read_text())
    staging = manifest["staging_prefix"]
    paths = json.loads((info / "paths.json").read_text())
    assert paths["paths_version"] == 1
    entries = {e["_path"]: e for e in paths["paths"]}
    assert set(entries) == {"bin/hello", "lib/libgreet.so", "lib/libgreet.so.1", "build-env.txt"}
    for rel, entry in entries.items():
        data = (pkg / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), rel
        assert entry["size_in_bytes"] == len(data), rel
    assert entries["lib/libgreet.so.1"]["path_type"] == "softlink"
    assert os.readlink(pkg / "lib" / "libgreet.so.1") == "libgreet.so"
    assert entries["bin/hello"]["path_type"] == "hardlink"
    assert "prefix_placeholder" not in entries["bin/hello"]  # rpaths are $ORIGIN-relative
    assert entries["build-env.txt"]["file_mode"] == "text"
    assert entries["build-env.txt"]["prefix_placeholder"] == staging
    assert staging in (pkg / "build-env.txt").read_text()

    assert (info / "has_prefix").read_text() == f"{staging} text build-env.txt\n"
    assert (info / "files").read_text().splitlines() == sorted(entries)
    assert json.loads((info / "run_exports.json").read_text()) == {"weak": ["hello >=1.2.3,<2.0a0"]}
    assert json.loads((info / "about.json").read_text()) == {}
    assert (info / "recipe" / "meta.yaml").read_text() == rendered.text
    # conda-build's info/test/run_test.sh: set -ex, then the commands, then exit 0
    assert (info / "test" / "run_test.sh").read_text() == (
        "\n\nset -ex\n\n\n\nhello > out.txt\ndiff out.txt test/expected.txt\n"
        'test -z "${LD_LIBRARY_PATH:-}"\ntest -f ${PREFIX}/lib/libgreet${SHLIB_EXT}\nexit 0\n'
    )
    assert not (info / "test" / "run_test.py").exists()  # no imports, no run_test.py
    assert (info / "test" / "test" / "expected.txt").read_text() == "hello from greet\n"

    # rattler's own readers accept what we wrote
    parsed = rattler.IndexJson.from_package_archive(conda)
    assert (parsed.name.normalized, str(parsed.build), parsed.constrains) == (
        "hello", rendered.build_string, ["nothello <0a"])  # fmt: skip
    assert rattler.RunExportsJson.from_package_archive(conda).weak == ["hello >=1.2.3,<2.0a0"]
    placeholders = {
        str(e.relative_path): e.prefix_placeholder.placeholder
        for e in rattler.PathsJson.from_package_archive(conda).paths
        if e.prefix_placeholder
    }
    assert placeholders == {"build-env.txt": staging}


def test_pack_refuses_an_unfinished_build(built):
    out, rendered, _ = built
    (out / "DONE").unlink()
    with pytest.raises(BuildError, match="not a finished build"):
        pack(out, rendered)


def test_index_install_offline_and_test_installed(built, tmp_path):
    out, rendered, root = built
    pack(out, rendered)
    channel.index(root / "channel")
    for sub in ("linux-64", "noarch"):
        assert (root / "channel" / sub / "repodata.json").is_file()
    repodata = json.loads((root / "channel" / "linux-64" / "repodata.json").read_text())
    assert list(repodata["packages.conda"]) == [f"hello-1.2.3-{rendered.build_string}.conda"]

    env = tmp_path / "env"
    records = channel.install(root / "channel", ["hello"], env)
    assert [(r.name.normalized, str(r.version)) for r in records] == [("hello", "1.2.3")]
    installed = (env / "build-env.txt").read_text()
    assert f"PREFIX={env}\n" in installed  # the placeholder was replaced
    assert str((out / "prefix").resolve()) not in installed
    assert os.readlink(env / "lib" / "libgreet.so.1") == "libgreet.so"
    assert (env / "conda-meta" / f"hello-1.2.3-{rendered.build_string}.json").is_file()

    channel.test_installed(rendered.recipe_dir, env, rendered.variant, None, None)
    (env / "lib" / "libgreet.so").unlink()  # the tests really ran in env
    with pytest.raises(BuildError, match="test command failed"):
        channel.test_installed(rendered.recipe_dir, env, rendered.variant, None, None)


def test_unsatisfiable_spec_is_a_clear_error(built, tmp_path):
    out, rendered, root = built
    pack(out, rendered)
    channel.index(root / "channel")
    with pytest.raises(BuildError, match=r"cannot satisfy hello >=9 from .*channel") as info:
        channel.install(root / "channel", ["hello >=9"], tmp_path / "env")
    assert "hello" in str(info.value).split("\n", 1)[1]  # rattler's explanation follows
    assert not (tmp_path / "env" / "bin").exists()


def test_channel_command_end_to_end(recipe, capsys):
    root = recipe.parents[1] / ".build"
    config = recipe.parents[1] / "conda_build_config.yaml"
    args = ["channel", str(recipe), "-m", str(config), "--root", str(root)]
    assert main([*args, "--cached-only"]) == 1
    assert "--cached-only was given" in capsys.readouterr().err
    assert main(args) == 0
    printed = capsys.readouterr().out
    env = root / "channel-test-env"
    assert f"==== install: hello into {env.resolve()}" in printed
    assert "test: 4 commands passed" in printed.rsplit("test installed", 1)[1]
    assert (env / "bin" / "hello").is_file()
    # again, cached: the test env is made fresh each time
    (env / "stale").write_text("")
    assert main([*args, "--cached-only"]) == 0
    assert not (env / "stale").exists()


def test_pack_command_packs_and_indexes(recipe, capsys):
    root = recipe.parents[1] / ".build"
    config = recipe.parents[1] / "conda_build_config.yaml"
    assert main(["pack", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert "==== pack: hello" in printed
    repodata = json.loads((root / "channel" / "linux-64" / "repodata.json").read_text())
    (name,) = repodata["packages.conda"]
    assert (root / "channel" / "linux-64" / name).is_file()
    assert json.loads((root / "channel" / "noarch" / "repodata.json").read_text())


def test_binary_prefix_is_replaced_in_a_long_install_path(recipe, tmp_path):
    """A compiled-in prefix (like ffmpeg's configuration string) still points at the
    install after rattler replaces the padded staging prefix, even in a long path."""
    with open(recipe / "build.sh", "a") as fh:
        fh.write('printf \'#include <stdio.h>\\nint main(void){puts("%s");return 0;}\\n\' '
                 '"$PREFIX/share" > where.c\n'
                 'gcc -o "$PREFIX/bin/where" where.c\n')  # fmt: skip
    config = recipe.parents[1] / "conda_build_config.yaml"
    root = recipe.parents[1] / ".build"
    assert main(["pack", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    out = (root / "hello" / "current").resolve()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "bin/where" in manifest["has_prefix"]["binary"]
    env = tmp_path / ("a-long-environment-path-" * 4) / "env"  # longer than most real ones
    channel.install(root / "channel", ["hello"], env)
    where = subprocess.run([str(env / "bin" / "where")], capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    assert where == f"{env.resolve()}/share\n"


def test_a_repeat_pack_of_the_same_build_leaves_the_file_alone(built, capsys):
    out, rendered, _ = built
    conda = pack(out, rendered)
    first = conda.stat().st_mtime_ns
    assert pack(out, rendered) == conda
    assert conda.stat().st_mtime_ns == first
    assert "is up to date" in capsys.readouterr().out
    (out / "DONE").write_text((out / "DONE").read_text() + "retested\n")  # new tests ran
    pack(out, rendered)
    assert conda.stat().st_mtime_ns != first
