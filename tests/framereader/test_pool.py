"""The decoder pool opens a decoder only when keeping places has paid for one.

Counted, not timed: the costs the pool weighs are fixed in packets
(``media.fix_costs``), and the tests count decoders opened and seeks. Whatever
the pool does, every read returns the frame a sequential decode shows.
"""

from __future__ import annotations

import math
import random

import pytest

from framereader import VideoReader
from framereader._gop import Costs
from tests.framereader.media import SMALL, ffmpeg, fix_costs, frame_hash, sequential_frames

ONE_KEYFRAME = "keyint=infinite:scenecut=0"
FILES = {
    # lossless H.264 without B-frames, a keyframe every 10 frames: packet n is frame n
    "gop10.mkv": ["-c:v", "libx264", "-qp", "0", "-bf", "0", "-g", "10", "-sc_threshold", "0"],
    # H.264 with B-frames and a single keyframe
    "one-key.mp4": ["-c:v", "libx264", "-crf", "18", "-bf", "3", "-x264-params", ONE_KEYFRAME],
}
FRAMES = 90


@pytest.fixture(scope="module")
def clips(tmp_path_factory, videos) -> dict[str, tuple]:
    """Each file's path and the hashes of its sequential decode; with the session's
    x264 with B-frames (48 frames, keyframes at 0 and 30)."""
    folder = tmp_path_factory.mktemp("pool")
    paths = {"x264-bframes.mp4": videos["x264-bframes.mp4"]}
    for name, args in FILES.items():
        paths[name] = folder / name
        ffmpeg(*SMALL, "-frames:v", str(FRAMES), *args, paths[name])
    return {name: (path, [frame_hash(f) for f in sequential_frames(path)])
            for name, path in paths.items()}  # fmt: skip


def patterns(count: int) -> dict[str, list[int]]:
    rng = random.Random(count)
    third = count // 3
    return {
        "random": rng.sample(range(count), count // 2),
        "sorted": sorted(rng.sample(range(count), count // 2)),
        "descending": list(range(count - 1, -1, -3)),
        "back and forth": [i + k for k in range(6) for i in (2, count - 12)],
        "round three places": [i + k for k in range(5) for i in (third - 6, 2 * third - 6, 1)],
        "runs": [s + k for s in rng.sample(range(count - 6), 5) for k in range(6)],
    }


def read(path, indices, decoders=3, open_packets=None) -> tuple[list[str], dict, list[dict]]:
    """The hashes of ``indices`` read one by one, the reader's stats, and its stats after
    each read; ``open_packets``: the costs fixed, else measured."""
    with VideoReader(path, index=None, threads=1, decoders=decoders) as reader:
        if open_packets is not None:
            fix_costs(reader, open_packets)
        got, after = [], []
        for i in indices:
            got.append(frame_hash(reader[i]))
            after.append(reader.stats())
        return got, reader.stats(), after


@pytest.mark.parametrize("name", ["gop10.mkv", "x264-bframes.mp4", "one-key.mp4"])
@pytest.mark.parametrize("open_packets", [None, 0, 4])
def test_every_pattern_returns_the_frames_of_one_decoder(name, open_packets, clips):
    """Measured costs, an open that costs nothing (a decoder opens at every read no
    decoder reaches, up to three) and one that costs 4 packets."""
    path, truth = clips[name]
    for pattern, indices in patterns(len(truth)).items():
        one, *_ = read(path, indices, decoders=1)
        three, stats, _ = read(path, indices, open_packets=open_packets)
        assert one == three == [truth[i] for i in indices], pattern
        assert 1 <= stats["decoders"] <= 3


@pytest.mark.parametrize("name", ["gop10.mkv", "x264-bframes.mp4", "one-key.mp4"])
@pytest.mark.parametrize("pattern", ["sorted", "descending"])
def test_reads_that_never_come_back_open_no_second_decoder(name, pattern, clips):
    """Even when a packet's worth of saving would pay for an open."""
    path, truth = clips[name]
    indices = patterns(len(truth))[pattern]
    got, stats, _ = read(path, indices, open_packets=1)
    assert got == [truth[i] for i in indices]
    assert stats["decoders"] == 1


def test_reads_in_gops_visited_once_open_no_second_decoder(clips):
    path, truth = clips["gop10.mkv"]
    indices = [41, 7, 88, 25, 63, 12, 79, 50, 36]  # one read in each GOP of 10
    got, stats, _ = read(path, indices, open_packets=1)
    assert got == [truth[i] for i in indices]
    assert stats["decoders"] == 1


@pytest.mark.parametrize(
    ("open_packets", "opened"),
    [
        (3, [1, 1, 2, 2, 2, 2, 2, 2]),  # the first return, 13, saves 3 (4 from 10, 1 from 12)
        (9, [1, 1, 1, 2, 2, 2, 2, 2]),  # then 56 saves 6 (7 from 50, 1 from 55)
        (10, [1, 1, 1, 1, 2, 2, 2, 2]),  # then 14 saves 4 (5 from 10, 1 from 13)
        (20, [1, 1, 1, 1, 1, 2, 2, 2]),  # then 57 saves 7
        (math.inf, [1] * 8),
    ],
)
def test_alternating_opens_a_decoder_once_the_saving_covers_an_open(open_packets, opened, clips):
    path, truth = clips["gop10.mkv"]
    indices = [12, 55, 13, 56, 14, 57, 15, 58]
    got, stats, after = read(path, indices, open_packets=open_packets)
    assert got == [truth[i] for i in indices]
    assert [s["decoders"] for s in after] == opened  # no third: two places need two
    # each read up to the one the second decoder opens for seeks; after it, each decodes on
    seeks = opened.index(2) + 1 if 2 in opened else len(indices)
    assert stats["seeks"] - stats["retries"] == seeks


def test_three_places_in_turn_get_a_decoder_each(clips):
    path, truth = clips["one-key.mp4"]
    indices = patterns(len(truth))["round three places"]
    got, stats, after = read(path, indices, open_packets=4)
    assert got == [truth[i] for i in indices]
    third = [s["decoders"] for s in after].index(3)
    assert third < len(indices) - 3
    # from then on every read decodes on from its place: a frame or so each
    assert stats["seeks"] == after[third]["seeks"]
    assert stats["decoded"] - after[third]["decoded"] <= 2 * (len(indices) - third - 1)


def test_the_costs_weighed_are_measured_on_the_files_reads(clips):
    path, _ = clips["gop10.mkv"]
    with VideoReader(path, index=None, threads=1) as reader:
        for i in [12, 55, 13, 56, 14, 57]:
            reader[i]
        costs = reader._decoder("single").costs
        stats = reader.stats()
        assert costs.opens == stats["cheap_opens"] + stats["full_probes"] == stats["decoders"]
        assert costs.packet_seconds() > 0
        assert costs.open_seconds() > 0


def test_an_open_costs_the_open_and_the_first_reads_setup():
    costs = Costs()
    assert costs.packet_seconds() is None
    assert costs.open_seconds() is None
    costs.record(4, 0.012, opens=1, open_time=0.002)  # the first read: 3 ms a packet, setup in
    assert costs.packet_seconds() == pytest.approx(0.003)
    assert costs.open_seconds() == pytest.approx(0.002)  # no other read to tell setup apart
    costs.record(10, 0.010)  # decoding on: 1 ms a packet
    assert costs.packet_seconds() == pytest.approx(0.001)
    assert costs.open_seconds() == pytest.approx(0.002 + 0.012 - 4 * 0.001)
    costs.record(5, 0.010, sought=True)  # from a keyframe: 2 ms a packet, the first reads' base
    assert costs.packet_seconds() == pytest.approx(0.020 / 15)
    assert costs.open_seconds() == pytest.approx(0.002 + 0.012 - 4 * 0.002)
    costs.record(6, 0.017, opens=1, open_time=0.004)
    assert costs.open_seconds() == pytest.approx((0.006 + 0.029 - 10 * 0.002) / 2)


def test_the_pools_decoders_share_how_the_demuxer_seeks(videos, truth):
    """MPEG-TS seeks by dts: a seek by the keyframe's pts lands past it and is retried.
    Once one decoder has learned that, a decoder opened later does not try again."""
    name = "mpeg2-bframes.ts"  # B-frames: its keyframes' dts differ from their pts
    expected = truth(name)
    n = len(expected)
    far_and_back = [n - 2, 3 * n // 4, n // 2, n - 1, 3 * n // 4 + 1, n // 2 + 1]
    with VideoReader(videos[name], index=None, decoders=3, threads=1) as reader:
        fix_costs(reader, 0)  # opening costs nothing: a decoder opens when none decodes on
        assert [frame_hash(reader[i]) for i in far_and_back] == [expected[i] for i in far_and_back]
        stats = reader.stats()
    assert stats["decoders"] >= 2
    assert stats["retries"] <= 1, stats
