"""benchmarks/long_recordings.py at a tiny scale: it encodes both lengths once,
measures every kind of read on both, and writes a ratio, an interval and a verdict
for each. (What the ratios are is the benchmark's business, never a test's.)"""

from benchmarks import long_recordings


def test_a_tiny_run_writes_every_ratio(tmp_path):
    report = long_recordings.run(tmp_path / "out", tmp_path / "data", short=120, long=360,
                                 reads=6, batches=3, seed=1)  # fmt: skip
    text = report.read_text()
    assert "360 and 120 frames" in text
    table = [line for line in text.splitlines() if line.startswith(("| all-intra", "| x264"))]
    rows = [line for line in table if line.count("|") == 6]
    assert len(rows) == 6  # two encodings x (read, batch, iter)
    scans = [line.strip("|").split("|") for line in table if line.count("|") == 9]
    assert [(c[1].strip(), int(c[2])) for c in scans] == [("short", 120), ("long", 360)] * 2
    assert all(int(c[6]) > 0 for c in scans)  # each index file's size
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        value, interval, verdict = float(cells[2]), cells[3], cells[4]
        low, high = (float(x) for x in interval.strip("[]").split(","))
        assert low <= value <= high
        assert verdict in ("met", "missed", "within noise")
    # Opening with the index cached, on each file: a median inside its interval, and a
    # verdict against the target only for a file of an hour or more (none here).
    opens = [[c.strip() for c in line.strip("|").split("|")] for line in table
             if line.count("|") == 7]  # fmt: skip
    assert [c[1] for c in opens] == ["short", "long"] * 2
    for cells in opens:
        low, high = (float(x) for x in cells[4].strip("[]").split(","))
        assert 0 < low <= float(cells[3]) <= high
        assert cells[5] == "-"
    # Against torchcodec's exact open, on the same files, where torchcodec is installed;
    # otherwise the report says why not.
    peers = [[c.strip() for c in line.strip("|").split("|")] for line in table
             if line.count("|") == 8]  # fmt: skip
    if long_recordings.peer_missing():
        assert peers == []
        assert f"Against torchcodec: not measured, {long_recordings.peer_missing()}" in text
    else:
        assert [c[1] for c in peers] == ["short", "long"] * 2
        for cells in peers:
            low, high = (float(x) for x in cells[5].strip("[]").split(","))
            assert float(cells[3]) > 0
            assert 0 < low <= float(cells[4]) <= high
            assert cells[6] in ("met", "missed", "within noise")
    # encoded once: a second run reuses the files
    files = sorted(p.name for p in (tmp_path / "data").glob("*.mkv"))
    assert files == ["intra-120.mkv", "intra-360.mkv", "x264-120.mkv", "x264-360.mkv"]
    mtimes = [p.stat().st_mtime_ns for p in sorted((tmp_path / "data").glob("*.mkv"))]
    long_recordings.run(tmp_path / "out", tmp_path / "data", short=120, long=360, reads=2,
                        batches=1, seed=1)  # fmt: skip
    assert mtimes == [p.stat().st_mtime_ns for p in sorted((tmp_path / "data").glob("*.mkv"))]


def test_the_command_line_refuses_a_short_longer_than_the_long(capsys):
    import pytest

    with pytest.raises(SystemExit):
        long_recordings.main(["--short", "500", "--long", "100"])
    assert "need 0 < --short < --long" in capsys.readouterr().err


def test_joined_copies_have_every_frame_and_repeat_the_short_recording(tmp_path):
    args = long_recordings.ENCODINGS["x264, GOP 250, B-frames"]
    short = long_recordings.encode(tmp_path, 40, "x264, GOP 250, B-frames", args)
    joined = long_recordings.concatenate(short, 3)
    assert long_recordings.packet_count(joined) == 120
    said = long_recordings.check_joined(joined, short, 3)
    assert "3 stream-copied copies" in said
    assert "frames 0, 1, 2, 3, 58, 59, 60, 61, 116, 117, 118, 119 equal" in said
    assert "packets are the short recording's byte for byte" in said
    assert sorted(p.name for p in tmp_path.glob("*.mkv")) == [
        "x264-40-joined-x3.mkv",
        "x264-40.mkv",
    ]


def test_the_join_check_catches_a_wrong_count_and_a_wrong_frame(tmp_path):
    import pytest

    args = long_recordings.ENCODINGS["all-intra x264"]
    short = long_recordings.encode(tmp_path, 20, "all-intra x264", args)
    joined = long_recordings.concatenate(short, 2)
    with pytest.raises(AssertionError, match="not 3 x 20"):
        long_recordings.check_joined(joined, short, 3)
    # another recording of the same length: the counts hold, the frames do not
    other = long_recordings.encode(tmp_path / "other", 20, "all-intra x264", args, size="96x64")
    with pytest.raises(AssertionError, match=r"frame 0 of .* is not frame 0 of"):
        long_recordings.check_joined(joined, other, 2)
    # the concat demuxer's default conversion: the same frames, but every all-intra packet
    # carries the parameter sets as well, so the reads would decode other bytes
    rewritten = tmp_path / "rewritten.mkv"
    listing = tmp_path / "list.txt"
    listing.write_text(long_recordings.concat_list(short, 2))
    long_recordings._ffmpeg("ffmpeg", "-f", "concat", "-safe", "0", "-i", str(listing), "-c",
                            "copy", output=rewritten)  # fmt: skip
    with pytest.raises(AssertionError, match="the join rewrote the stream"):
        long_recordings.check_joined(rewritten, short, 2)


def test_a_concat_list_quotes_the_path_for_the_demuxer(tmp_path):
    import pytest

    path = tmp_path / "it's.mkv"
    listing = long_recordings.concat_list(path, 2)
    assert listing == f"file '{tmp_path}/it'\\''s.mkv'\n" * 2
    with pytest.raises(ValueError, match="copies must be 1 or more"):
        long_recordings.concat_list(path, 0)


def test_places_cover_the_beginning_middle_and_end():
    assert long_recordings.repeat_places(100, 2) == [0, 1, 49, 50, 98, 99]
    assert long_recordings.repeat_places(3, 4) == [0, 1, 2]


def test_hours_set_the_copies_and_exclude_long(capsys):
    import pytest

    assert long_recordings.copies_for(10, 1_800) == 600
    assert long_recordings.copies_for(0.001, 1_800) == 2
    with pytest.raises(SystemExit):
        long_recordings.main(["--hours", "1", "--long", "5000"])
    assert "give one" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        long_recordings.main(["--hours", "0"])
    assert "need --hours > 0" in capsys.readouterr().err


def test_a_run_with_hours_measures_the_joined_recording(tmp_path):
    report = long_recordings.run(tmp_path / "out", tmp_path / "data", short=108, long=0, reads=2,
                                 batches=1, seed=1, hours=0.004)  # fmt: skip
    text = report.read_text()
    assert "432 (0.004 hours) and 108 frames" in text
    assert text.count("4 stream-copied copies of the short one") == 2
    assert sorted(p.name for p in (tmp_path / "data").glob("*.mkv")) == [
        "intra-108-joined-x4.mkv", "intra-108.mkv", "x264-108-joined-x4.mkv", "x264-108.mkv"]  # fmt: skip
