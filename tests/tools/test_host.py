"""A recipe whose host requirement is a package of our own channel: it is installed
into PREFIX before build.sh, its files stay out of the package, its run_exports become
run requirements, and the machine's Python stands in for conda's (virtual package,
PYTHONPATH, test/imports)."""

import json
import shutil
import subprocess

import pytest
from conda_package_handling import api as cph

from tools.offline_build import channel
from tools.offline_build.__main__ import main
from tools.offline_build.render import load_variant_values, recipe_variants

from .conftest import glibc_needed_by_readelf, make_tarball

pytestmark = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("patchelf")),
    reason="needs gcc and patchelf (apt-get install -y gcc patchelf)",
)

CONSUMER_META = """\
package:
  name: consumer
  version: "0.1"
source:
  url: URL
  sha256: SHA256
build:
  number: 0
  IGNORE
requirements:
  host:
    - hello 1.2.3 plain*
    - zlib-from-the-machine
  run:
    - python >=3
test:
  imports:
    - consumer_mod
  commands:
    - 'consumer | grep -q "consumer says: hello from greet"'
    - python -c "import consumer_mod, os; assert consumer_mod.__file__.startswith(os.environ['PREFIX'])"
"""

CONSUMER_SH = """\
set -x
mkdir -p "$PREFIX/bin" "$SP_DIR"
gcc -o "$PREFIX/bin/consumer" consumer.c -L"$PREFIX/lib" -lgreet -Wl,-rpath,"$PREFIX/lib"
echo "VALUE = 1" > "$SP_DIR/consumer_mod.py"
"$PYTHON" -c "import sys; assert sys.version_info >= (3,)"
"""

CONSUMER_C = """\
#include <stdio.h>
const char *greeting(void);
int main(void) { printf("consumer says: %s\\n", greeting()); return 0; }
"""


@pytest.fixture
def hello_channel(recipe):
    """hello (both flavors, with run_exports) built, packed and indexed in .build/channel."""
    meta = recipe / "meta.yaml"
    meta.write_text(meta.read_text().replace(
        "  number: 0\n",
        "  number: 0\n  run_exports:\n    - {{ pin_subpackage('hello', max_pin='x') }}\n",
    ))  # fmt: skip
    root = recipe.parents[1] / ".build"
    config = recipe.parents[1] / "conda_build_config.yaml"
    for flavor in ("plain", "fancy"):
        args = ["pack", str(recipe), "-m", str(config), "--root", str(root)]
        assert main([*args, "--variant", f"flavor={flavor}"]) == 0
    return root, config


def consumer_recipe(tmp_path, ignore=""):
    tarball = tmp_path / "upstream" / "consumer-0.1.tar.gz"
    sha256 = make_tarball(tarball, {"consumer.c": CONSUMER_C}, top="consumer-0.1")
    recipe = tmp_path / "recipes" / "consumer"
    recipe.mkdir(parents=True)
    meta = CONSUMER_META.replace("URL", tarball.as_uri()).replace("SHA256", sha256)
    (recipe / "meta.yaml").write_text(meta.replace("  IGNORE\n", ignore))
    (recipe / "build.sh").write_text(CONSUMER_SH)
    return recipe


def test_host_package_from_the_channel(tmp_path, hello_channel, capsys):
    root, config = hello_channel
    recipe = consumer_recipe(tmp_path)
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    printed = capsys.readouterr().out
    assert "host: zlib-from-the-machine: the machine's" in printed
    assert "install: hello 1.2.3 plain_" in printed  # the build-string glob chose
    assert "host: run_export of hello: hello >=1.2.3,<2.0a0" in printed
    assert "test/imports: consumer_mod" in printed  # run_test.py imported it
    out = (root / "consumer" / "current").resolve()
    manifest = json.loads((out / "manifest.json").read_text())
    paths = {f["path"] for f in manifest["files"]}
    assert "bin/consumer" in paths
    assert any(p.endswith("site-packages/consumer_mod.py") for p in paths)
    assert not [p for p in paths if "greet" in p or p.startswith("conda-meta")], paths
    glibc = glibc_needed_by_readelf(out / "prefix" / "bin" / "consumer")
    # no compiler() in its build requirements, so no libgcc, as under conda-build
    run = [f"__glibc >={glibc},<3.0.a0", "hello >=1.2.3,<2.0a0", "python >=3"]
    assert manifest["requirements"]["run"] == run  # sorted, as conda-build sorts them
    # The build linked the host library; relocation made the rpath relative.
    rpath = subprocess.run(["patchelf", "--print-rpath", str(out / "prefix/bin/consumer")],
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert rpath == "$ORIGIN/../lib"

    # The package holds only consumer's files and installs beside hello, python
    # coming from the machine.
    assert main(["pack", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    conda = next((root / "channel" / "linux-64").glob("consumer-0.1-*.conda"))
    unpacked = tmp_path / "unpacked"
    cph.extract(str(conda), dest_dir=str(unpacked))
    index = json.loads((unpacked / "info" / "index.json").read_text())
    assert index["depends"] == run
    assert not (unpacked / "lib" / "libgreet.so").exists()
    env = tmp_path / "env"
    records = channel.install(root / "channel", ["consumer", "hello=*=fancy*"], env)
    assert sorted(r.name.normalized for r in records) == ["consumer", "hello"]
    run = subprocess.run([str(env / "bin" / "consumer")], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert run.stdout == "consumer says: hello from greet\n"


def test_ignore_run_exports(tmp_path, hello_channel, capsys):
    root, config = hello_channel
    recipe = consumer_recipe(tmp_path, ignore="  ignore_run_exports:\n    - hello\n")
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    assert "run_export hello >=1.2.3,<2.0a0 of hello ignored" in capsys.readouterr().out
    manifest = json.loads((root / "consumer" / "current" / "manifest.json").read_text())
    assert "hello >=1.2.3,<2.0a0" not in manifest["requirements"]["run"]
    assert "python >=3" in manifest["requirements"]["run"]


def test_a_rebuilt_host_package_changes_the_cache_key(tmp_path, hello_channel, capsys):
    root, config = hello_channel
    recipe = consumer_recipe(tmp_path)
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    first = (root / "consumer" / "current").resolve().name
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    assert (root / "consumer" / "current").resolve().name == first  # cached
    hello = recipe.parents[0] / "hello" / "meta.yaml"
    hello.write_text(hello.read_text().replace("number: 0", "number: 1"))
    capsys.readouterr()
    assert main(["pack", str(hello.parent), "-m", str(config), "--root", str(root),
                 "--variant", "flavor=plain"]) == 0  # fmt: skip
    assert main(["build", str(recipe), "-m", str(config), "--root", str(root)]) == 0
    assert (root / "consumer" / "current").resolve().name != first
    assert "install: hello 1.2.3 plain_" in capsys.readouterr().out


def test_recipe_variants_cover_the_used_keys_only(recipe):
    values = load_variant_values(recipe.parents[1] / "conda_build_config.yaml", {})
    variants = recipe_variants(recipe, values)
    assert [v["flavor"] for v in variants] == ["plain", "fancy"]  # unused_key not multiplied
    values = load_variant_values(recipe.parents[1] / "conda_build_config.yaml",
                                 {"flavor": "fancy"})  # fmt: skip
    assert [v["flavor"] for v in recipe_variants(recipe, values)] == ["fancy"]


def test_channel_installs_each_spec_set_and_tests_what_it_got(recipe, capsys):
    root = recipe.parents[1] / ".build"
    config = recipe.parents[1] / "conda_build_config.yaml"
    args = ["channel", str(recipe), "-m", str(config), "--root", str(root),
            "--install", "hello=*=plain*", "--install", "hello=*=fancy*"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.count("==== [1/5] render: hello") == 2  # both flavors built
    assert "test installed: hello plain_" in printed
    assert "test installed: hello fancy_" in printed
    assert (root / "channel-test-env" / "bin" / "hello").is_file()
    assert (root / "channel-test-env-1" / "bin" / "hello").is_file()
    plain = json.loads(next((root / "channel-test-env" / "conda-meta").glob("*.json")).read_text())
    assert plain["build"].startswith("plain_")
