"""benchmarks/loaded.py: what a contender's process mapped, held to what it claims."""

import os
from pathlib import Path

import pytest

from benchmarks import loaded
from benchmarks.jpeg import contenders
from benchmarks.video import readers

MAPS = """\
7f00-7f01 r--p 00000000 08:01 1 /env/lib/libavcodec.so.63.1.100
7f01-7f02 r-xp 00001000 08:01 1 /env/lib/libavcodec.so.63.1.100
7f02-7f03 r--p 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libturbojpeg.so.0.2.0
7f03-7f04 rw-p 00000000 00:00 0
7f04-7f05 r--p 00000000 08:01 3 /opt/with space/libavcodec-extra.so
"""


def test_mapped_reads_each_file_once_by_its_name(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text(MAPS)
    assert loaded.mapped("libavcodec", maps) == [
        "/env/lib/libavcodec.so.63.1.100", "/opt/with space/libavcodec-extra.so"]  # fmt: skip
    assert loaded.mapped("libturbojpeg", maps) == [
        "/usr/lib/x86_64-linux-gnu/libturbojpeg.so.0.2.0"
    ]
    assert loaded.mapped("libopencv", maps) == []
    assert loaded.mapped("libavcodec", tmp_path / "absent") is None
    # any of several names, each file once
    assert loaded.mapped(("turbojpeg", "libavcodec.so", "libopencv"), maps) == [
        "/env/lib/libavcodec.so.63.1.100", "/usr/lib/x86_64-linux-gnu/libturbojpeg.so.0.2.0"]  # fmt: skip


def test_this_process_maps_its_c_library():
    files = loaded.mapped("libc")
    assert files is None or any(Path(f).name.startswith("libc") for f in files)


def test_expect_under_and_outside(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "lib").mkdir(parents=True)
    ours = str(prefix / "lib" / "libavcodec.so.63")
    loaded.expect_under("pyav-naive", "libavcodec", [ours], prefix)
    loaded.expect_under("pyav-naive", "libavcodec", None, prefix)  # no maps: nothing to check
    with pytest.raises(loaded.WrongLibrary, match=r"pyav-naive claims libavcodec from .*/usr/lib"):
        loaded.expect_under("pyav-naive", "libavcodec", [ours, "/usr/lib/libavcodec.so.59"], prefix)
    with pytest.raises(loaded.WrongLibrary, match="mapped no libavcodec at all"):
        loaded.expect_under("pyav-naive", "libavcodec", [], prefix)
    loaded.expect_outside("pyav-wheel", "libavcodec", ["/site/av.libs/libavcodec-1.so"], prefix)
    with pytest.raises(loaded.WrongLibrary, match="pyav-wheel claims its own libavcodec"):
        loaded.expect_outside("pyav-wheel", "libavcodec", [ours], prefix)
    # a symlink into the prefix counts as the prefix's file
    link = tmp_path / "elsewhere.so"
    link.symlink_to(ours)
    with pytest.raises(loaded.WrongLibrary):
        loaded.expect_outside("pyav-wheel", "libavcodec", [str(link)], prefix)


@pytest.fixture
def bench(tmp_path, monkeypatch):
    prefix = tmp_path / "bench"
    (prefix / "conda-meta").mkdir(parents=True)
    monkeypatch.setenv("BENCH_PREFIX", str(prefix))
    return prefix


def test_a_reader_that_loaded_another_ffmpeg_than_it_claims_fails(bench):
    ours = [str(bench / "lib" / "libavcodec.so.63")]
    debian = ["/usr/lib/x86_64-linux-gnu/libavcodec.so.59"]
    readers.check_loaded("pyav-naive", ours)
    readers.check_loaded("opencv-frame", ours)
    readers.check_loaded("pyav-wheel", ["/site/av.libs/libavcodec-a1b2.so.62"])
    with pytest.raises(loaded.WrongLibrary, match="pyav-naive claims libavcodec"):
        readers.check_loaded("pyav-naive", debian)
    with pytest.raises(loaded.WrongLibrary, match="indexed-pyav-wheel claims its own libavcodec"):
        readers.check_loaded("indexed-pyav-wheel", ours)
    with pytest.raises(loaded.WrongLibrary, match="opencv-wheel claims its own"):
        readers.check_loaded("opencv-wheel", ours)
    readers.check_loaded("exploded-jpeg", debian)  # claims no FFmpeg


def test_every_reader_of_the_bench_environment_claims_its_ffmpeg():
    for name, reader in readers.READERS.items():
        if reader.environment == "bench":
            assert reader.ffmpeg == "bench", name
        if name.endswith("-wheel"):
            assert reader.ffmpeg == "own", name


def test_without_a_bench_environment_nothing_is_claimed_as_ours(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_PREFIX", str(tmp_path / "none"))
    readers.check_loaded("pyav-naive", ["/usr/lib/libavcodec.so.59"])


def test_our_wrapper_on_libjpeg_turbo_2_fails_the_run(monkeypatch):
    with pytest.raises(
        loaded.WrongLibrary, match=r"claims libjpeg-turbo 3\.x, but .* is libjpeg-turbo 2\.1\.5"
    ):
        contenders._expect_turbo3("turbojpeg", "/usr/lib/libturbojpeg.so.0", "2.1.5")


def test_our_wrapper_must_have_mapped_the_file_it_names():
    lib = os.environ.get("TURBOJPEG_LIB")
    if not lib:
        pytest.skip("$TURBOJPEG_LIB is not set (bash tools/run.sh test builds 3.x and sets it)")
    made = contenders.make("turbojpeg")
    assert made.extra["libjpeg_turbo"].startswith("3.")
    with pytest.raises(loaded.WrongLibrary, match="this process mapped"):
        contenders._expect_turbo3("turbojpeg", "/nowhere/libturbojpeg.so.0", "3.1.3")
