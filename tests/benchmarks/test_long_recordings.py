"""benchmarks/long_recordings.py at a tiny scale: it encodes both lengths once,
measures every kind of read on both, and writes a ratio, an interval and a verdict
for each. (What the ratios are is the benchmark's business, never a test's.)"""

from benchmarks import long_recordings


def test_a_tiny_run_writes_every_ratio(tmp_path):
    report = long_recordings.run(tmp_path / "out", tmp_path / "data", short=120, long=360,
                                 reads=6, batches=3, seed=1)  # fmt: skip
    text = report.read_text()
    assert "360 and 120 frames" in text
    rows = [line for line in text.splitlines() if line.startswith(("| all-intra", "| x264"))]
    assert len(rows) == 6  # two encodings x (read, batch, iter)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        value, interval, verdict = float(cells[2]), cells[3], cells[4]
        low, high = (float(x) for x in interval.strip("[]").split(","))
        assert low <= value <= high
        assert verdict in ("met", "missed", "within noise")
    # encoded once: a second run reuses the files
    files = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert files == ["intra-120.mkv", "intra-360.mkv", "x264-120.mkv", "x264-360.mkv"]
    mtimes = [p.stat().st_mtime_ns for p in sorted((tmp_path / "data").iterdir())]
    long_recordings.run(tmp_path / "out", tmp_path / "data", short=120, long=360, reads=2,
                        batches=1, seed=1)  # fmt: skip
    assert mtimes == [p.stat().st_mtime_ns for p in sorted((tmp_path / "data").iterdir())]


def test_the_command_line_refuses_a_short_longer_than_the_long(capsys):
    import pytest

    with pytest.raises(SystemExit):
        long_recordings.main(["--short", "500", "--long", "100"])
    assert "need 0 < --short < --long" in capsys.readouterr().err
