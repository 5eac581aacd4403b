import hashlib
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from tools.offline_build import BuildError, fetch
from tools.offline_build.__main__ import main

REAL_DEBIAN_ROUTE = fetch._debian_route  # conftest swaps it out for every test


def meta_for(url, sha256, **offline):
    meta = {"package": {"name": "hello", "version": "1.2.3"},
            "source": {"url": url, "sha256": sha256}}  # fmt: skip
    if offline:
        meta["extra"] = {"offline_source": offline}
    return meta


def cached(sha256, name="hello-1.2.3.tar.gz"):
    return fetch.cache_root() / "sources" / sha256 / name


@pytest.fixture
def tarball(tmp_path):
    path = tmp_path / "upstream" / "hello-1.2.3.tar.gz"
    path.parent.mkdir()
    path.write_bytes(b"pretend this is a tarball\n")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_cache_root_follows_xdg(tmp_path):
    assert fetch.cache_root() == tmp_path / "xdg-cache" / "accelerated-codecs"


def test_url_route_stores_verified_bytes_in_the_cache(tarball, capsys):
    path, sha256 = tarball
    got, digest, route = fetch.fetch_source(meta_for(path.as_uri(), sha256))
    assert (got, digest, route) == (cached(sha256), sha256, "url")
    assert got.read_bytes() == path.read_bytes()
    assert "delivered by route url" in capsys.readouterr().out


def test_cache_route_needs_no_url(tarball):
    path, sha256 = tarball
    cached(sha256).parent.mkdir(parents=True)
    cached(sha256).write_bytes(path.read_bytes())
    path.unlink()
    assert fetch.fetch_source(meta_for(path.as_uri(), sha256))[2] == "cache"


def test_corrupted_cache_file_is_rejected(tarball):
    path, sha256 = tarball
    cached(sha256).parent.mkdir(parents=True)
    cached(sha256).write_bytes(b"bit rot\n")
    actual = hashlib.sha256(b"bit rot\n").hexdigest()
    with pytest.raises(BuildError, match=f"corrupt: expected sha256 {sha256}, got {actual}"):
        fetch.fetch_source(meta_for(path.as_uri(), sha256))


def test_wrong_sha256_from_url_is_rejected_and_not_cached(tarball):
    path, _ = tarball
    wrong = "0" * 64
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(BuildError, match=f"route url.*expected {wrong}, got {actual}"):
        fetch.fetch_source(meta_for(path.as_uri(), wrong))
    assert not cached(wrong).exists()
    assert not any(p.is_file() for p in (fetch.cache_root() / "sources").rglob("*"))


def test_no_route_is_a_clear_error_after_trying_debian(tmp_path, offline, capsys):
    missing = (tmp_path / "missing.tar.gz").as_uri()
    with pytest.raises(BuildError, match=r"no route delivered missing\.tar\.gz"):
        fetch.fetch_source(meta_for(missing, "1" * 64, debian_source="hello-src"))
    assert offline == [("hello-src", "1.2.3")]
    out = capsys.readouterr().out
    assert "route url" in out
    assert "route debian hello-src unavailable" in out


def _sdist(directory: Path, name: str = "hello", version: str = "1.2.3") -> Path:
    """A minimal but real sdist that pip can prepare without an index."""
    root = directory / f"{name}-{version}"
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (root / "upstream-tree").mkdir()
    (root / "upstream-tree" / "README").write_text("the nested upstream sources\n")
    out = directory / f"{name}-{version}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(root, arcname=root.name)
    return out


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip sees only a local directory (no index, no build isolation)."""
    links = tmp_path / "links"
    links.mkdir()
    sdist = _sdist(links)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip reads "0" as "no isolation"
    return sdist, hashlib.sha256(sdist.read_bytes()).hexdigest()


def test_substitute_comes_from_pip_and_is_announced(tmp_path, local_index, capsys):
    sdist, sha256 = local_index
    missing = (tmp_path / "missing.tar.gz").as_uri()
    substitute = {"pip": "hello==1.2.3", "sha256": sha256, "subdir": "upstream-tree",
                  "note": "the sdist carries the sources"}  # fmt: skip
    got, digest, route = fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))
    assert (digest, route) == (sha256, "substitute")
    assert got.read_bytes() == sdist.read_bytes()
    out = capsys.readouterr().out
    assert "SUBSTITUTION: missing.tar.gz is not available" in out
    assert "hello==1.2.3" in out
    assert "the sdist carries the sources" in out
    # Second time from the cache, still announced.
    assert fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))[0] == got
    assert "SUBSTITUTION" in capsys.readouterr().out


def test_substitute_with_other_bytes_is_refused(tmp_path, local_index):
    missing = (tmp_path / "missing.tar.gz").as_uri()
    substitute = {"pip": "hello==1.2.3", "sha256": "2" * 64}
    with pytest.raises(BuildError, match=r"sha256 mismatch .* route pip hello==1\.2\.3"):
        fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))
    assert not cached("2" * 64, "hello-1-2-3.sdist").exists()


def test_substitute_that_pip_cannot_find_is_an_error(tmp_path, local_index, capsys):
    missing = (tmp_path / "missing.tar.gz").as_uri()
    substitute = {"pip": "hello==9.9.9", "sha256": "2" * 64}
    with pytest.raises(BuildError, match=r"no route delivered missing\.tar\.gz"):
        fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))
    assert "route pip hello==9.9.9 unavailable" in capsys.readouterr().out


@pytest.mark.parametrize(
    "substitute",
    [{"url": "file:///x"}, {"pip": "hello==1.2.3"},
     {"pip": "hello==1.2.3", "debian": "hello", "sha256": "2" * 64}],
)  # fmt: skip
def test_substitute_needs_one_origin_and_sha256(tmp_path, substitute):
    missing = (tmp_path / "missing.tar.gz").as_uri()
    with pytest.raises(BuildError, match="substitute needs sha256 and one of pip, debian"):
        fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))


def test_substitute_from_debian_is_announced_and_checked(tmp_path, monkeypatch, capsys):
    orig = tmp_path / "hello_1.2.3.orig.tar.xz"
    orig.write_bytes(b"Debian's repack of hello 1.2.3\n")
    sha256 = hashlib.sha256(orig.read_bytes()).hexdigest()
    asked = []

    def debian(package, version, dest):
        asked.append((package, version))
        return Path(shutil.copy(orig, dest))

    monkeypatch.setattr(fetch, "_debian_route", debian)
    missing = (tmp_path / "missing.tar.gz").as_uri()
    substitute = {"debian": "hello", "sha256": sha256, "note": "upstream's is a .tar.gz"}
    got, digest, route = fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))
    assert (digest, route, asked) == (sha256, "substitute", [("hello", "1.2.3")])
    assert got.read_bytes() == orig.read_bytes()
    out = capsys.readouterr().out
    assert "SUBSTITUTION: missing.tar.gz is not available; building from Debian's orig" in out
    assert "upstream's is a .tar.gz" in out
    substitute["sha256"] = "3" * 64  # other bytes than declared: refused
    with pytest.raises(BuildError, match=r"sha256 mismatch .* route debian hello"):
        fetch.fetch_source(meta_for(missing, "1" * 64, substitute=substitute))


def test_fetch_command_prints_the_path(recipe, capsys):
    config = recipe.parents[1] / "conda_build_config.yaml"
    assert main(["fetch", str(recipe), "-m", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("/hello-1.2.3.tar.gz")


@pytest.mark.parametrize(
    ("debian", "upstream"),
    [("1:3.1.3-4", "3.1.3"), ("3.1.3-1", "3.1.3"), ("2.0", "2.0"), ("1:2.3-rc1-2", "2.3-rc1")],
)
def test_upstream_version(debian, upstream):
    assert fetch.upstream_version(debian) == upstream


MACHINE_SOURCES = """\
Types: deb
# a comment
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

SHOWSRC = """\
Package: hello-src
Version: 1:1.2.2-1
Files:
 abc 1 hello-src_1.2.2.orig.tar.gz

Package: hello-src
Version: 1:1.2.3-4
Files:
 abc 1 hello-src_1.2.3.orig.tar.gz
"""


@pytest.fixture
def fake_apt(tmp_path, monkeypatch, tarball):
    """Run the real Debian route against a fake machine file and a fake apt."""
    machine = tmp_path / "debian.sources"
    machine.write_text(MACHINE_SOURCES)
    monkeypatch.setattr(fetch, "MACHINE_SOURCES", machine)
    calls = []

    def run_apt(cmd, options, cwd=None):
        calls.append((cmd, options))
        if cmd[:2] == ["apt-get", "source"]:
            (Path(cwd) / "hello-src_1.2.3.orig.tar.gz").write_bytes(tarball[0].read_bytes())
            (Path(cwd) / "hello-src_1.2.3.orig.tar.gz.asc").write_text("signature")
        return SHOWSRC if cmd[0] == "apt-cache" else ""

    monkeypatch.setattr(fetch, "_run_apt", run_apt)
    return calls


def test_private_deb_src_config(fake_apt):
    state, options = fetch._apt_state()
    text = (state / "sources.list.d" / "offline-build-deb-src.sources").read_text()
    assert "Types: deb\n" not in text
    assert text.count("Types: deb-src\n") == 3
    assert (
        "Types: deb-src\nURIs: http://mirror.invalid/debian\nSuites: trixie sid\n"
        "Components: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    ) in text
    assert f"Dir::State::Lists={state / 'lists'}" in options
    assert "Dir::Etc::SourceList=/dev/null" in options
    assert [c[0] for c in fake_apt] == [["apt-get", "update", "-q"]]
    fetch._apt_state()  # fresh lists: no second update
    two_days_ago = time.time() - 2 * fetch.LISTS_MAX_AGE
    os.utime(state / "lists.updated", (two_days_ago, two_days_ago))
    fetch._apt_state()  # stale lists: update again
    assert [c[0][1] for c in fake_apt] == ["update", "update"]


def test_debian_route_picks_the_matching_upstream_version(fake_apt, tarball, monkeypatch):
    path, sha256 = tarball
    monkeypatch.setattr(fetch, "_debian_route", REAL_DEBIAN_ROUTE)  # with the fake apt
    missing = (path.parent / "missing.tar.gz").as_uri()
    got, _, route = fetch.fetch_source(meta_for(missing, sha256, debian_source="hello-src"))
    assert route == "debian"
    assert got == cached(sha256, "missing.tar.gz")
    assert ["apt-get", "source", "--download-only", "hello-src=1:1.2.3-4"] in [
        c[0] for c in fake_apt
    ]


def test_debian_route_keeps_the_orig_tarball_when_the_dsc_is_gone(
    fake_apt, tarball, monkeypatch, capsys
):
    """A mirror that no longer serves the revision's .dsc still delivers the orig
    tarball; apt fails, and the tarball is taken once its sha256 checks out."""
    path, sha256 = tarball
    monkeypatch.setattr(fetch, "_debian_route", REAL_DEBIAN_ROUTE)
    fake = fetch._run_apt

    def dsc_missing(cmd, options, cwd=None):
        out = fake(cmd, options, cwd)
        if cmd[:2] == ["apt-get", "source"]:
            raise fetch.Unavailable("apt-get source failed (100): E: Failed to fetch ... .dsc 404")
        return out

    monkeypatch.setattr(fetch, "_run_apt", dsc_missing)
    missing = (path.parent / "missing.tar.gz").as_uri()
    got, _, route = fetch.fetch_source(meta_for(missing, sha256, debian_source="hello-src"))
    assert route == "debian"
    assert got == cached(sha256, "missing.tar.gz")
    assert "the orig tarball arrived and is checked by its sha256" in capsys.readouterr().out


def test_debian_route_without_any_tarball_still_fails(fake_apt, tarball, monkeypatch):
    path, sha256 = tarball
    monkeypatch.setattr(fetch, "_debian_route", REAL_DEBIAN_ROUTE)

    def nothing(cmd, options, cwd=None):
        if cmd[:2] == ["apt-get", "source"]:
            raise fetch.Unavailable("apt-get source failed (100)")
        return SHOWSRC if cmd[0] == "apt-cache" else ""

    monkeypatch.setattr(fetch, "_run_apt", nothing)
    missing = (path.parent / "missing.tar.gz").as_uri()
    with pytest.raises(BuildError, match="no route delivered"):
        fetch.fetch_source(meta_for(missing, sha256, debian_source="hello-src"))
