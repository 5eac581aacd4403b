"""VideoReader returns exactly frame i of a sequential decode, however it is asked."""

from __future__ import annotations

import dataclasses
import itertools
import random

import numpy as np
import pytest

from framereader import (
    CorruptFrameError,
    CorruptVideoError,
    FrameIndex,
    UnsupportedVideoError,
    VideoReader,
)
from framereader.index import PACKET_ARRAYS
from tests.framereader.media import (
    EXACT_FILES,
    FRAMES,
    HEIGHT,
    SUITE_FRAMES,
    WIDTH,
    ffmpeg,
    fix_costs,
    frame_hash,
    orders,
    sequential_frames,
    uses_turbojpeg,
)


def hashes(images) -> list[str]:
    return [frame_hash(image) for image in images]


@pytest.mark.parametrize("name", EXACT_FILES)
def test_every_frame_is_exact_in_every_order(name, videos, truth):
    expected = truth(name)
    with VideoReader(videos[name], index=None) as reader:
        assert len(reader) == len(expected)
        for order, indices in orders(len(expected)).items():
            got = [frame_hash(reader[i]) for i in indices]
            wrong = [i for i, h in zip(indices, got, strict=True) if h != expected[i]]
            assert wrong == [], f"{order}: frames {wrong[:10]} differ from a sequential decode"


@pytest.mark.parametrize("name", EXACT_FILES)
def test_batches_and_iteration_return_what_single_reads_return(name, videos, truth):
    expected = truth(name)
    n = len(expected)
    asked = [*random.Random(name).choices(range(n), k=n // 2), 0, n - 1, -1, 3, 3]
    with VideoReader(videos[name], index=None) as reader:
        batch = reader.get_batch(asked)
        assert batch.shape == (len(asked), *reader.shape[1:])
        assert hashes(batch) == [expected[i] for i in asked]
        assert hashes(reader) == expected
        assert hashes(reader[::7]) == expected[::7]


def test_the_suite_files_are_what_they_claim(videos):
    """The test set's adversarial files keep their properties at this size."""
    with VideoReader(videos["shifted-start.mp4"], index=None) as reader:
        assert reader.frame_info(0).time == pytest.approx(5.0, abs=0.05)
    with VideoReader(videos["vfr-dropped.mkv"], index=None) as reader:
        times = np.array([reader.frame_info(i).time for i in range(len(reader))])
        assert np.diff(times).max() > 1.5 * np.diff(times).min()
    with VideoReader(videos["wrong-frame-count.mp4"], index=None) as reader:
        assert len(reader) == FRAMES - 15 < len(reader.index.pts)
    with VideoReader(videos["opengop-cut.ts"], index=None) as reader:
        assert len(reader) == 30 < len(reader.index.pts)


# -- the speed features keep frames exact ------------------------------------------


@pytest.mark.parametrize(
    ("name", "skipped"),
    [("x264-bframes.mp4", True), ("mpeg2-bframes.ts", True), ("hevc-bframes.mkv", False)],
)
def test_non_reference_frames_are_skipped_on_the_way_and_frames_stay_exact(
    name, skipped, videos, truth
):
    expected = truth(name)
    indices = orders(len(expected))["random"]
    decoded = {}
    for skip in (True, False):
        # one decoder: the pool's choices follow timed costs, so with more the count would
        # follow the machine's load as well as the skipping
        with VideoReader(videos[name], index=None, decoders=1) as reader:
            reader._skip_nonref = skip  # no public switch: only this test compares both
            assert hashes(reader[i] for i in indices) == [expected[i] for i in indices]
            assert hashes(reader.get_batch(indices)) == [expected[i] for i in indices]
            decoded[skip] = reader.stats()["decoded"]
    # frames skipped are frames never output: fewer decoded on H.264 and MPEG-2 only
    assert (decoded[True] < decoded[False]) == skipped, decoded


@pytest.mark.parametrize(
    "name", ["x264-bframes.mp4", "h264.ts", "ffv1-color.mkv", "mjpeg-color.mkv", "ffvhuff-gray.mkv"]
)
@pytest.mark.parametrize(
    ("threads", "thread_type"), [(0, "auto"), (2, "frame"), (2, "slice"), (0, "none"), (1, "auto")]
)
def test_every_thread_setting_returns_the_same_frames(name, threads, thread_type, videos, truth):
    expected = truth(name)
    indices = orders(len(expected))["random"][:16]
    with VideoReader(videos[name], index=None, threads=threads, thread_type=thread_type) as reader:
        assert hashes(reader[i] for i in indices) == [expected[i] for i in indices]
        assert hashes(reader.get_batch(indices)) == [expected[i] for i in indices]


@pytest.mark.parametrize("name", ["x264-bframes.mp4", "h264.ts"])
def test_reading_forward_in_a_gop_does_not_seek(name, videos):
    with VideoReader(videos[name], index=None) as reader:
        for i in range(31, 45):  # keyframes every 30 frames
            reader[i]
        assert reader.stats()["continued"] == 13
        assert reader.stats()["seeks"] == 1 + reader.stats()["retries"]


@pytest.mark.parametrize("name", ["x264-bframes.mp4", "h264.ts", "opengop-cut.ts"])
def test_parked_decoders_return_the_same_frames_and_decode_fewer(name, videos, truth):
    expected = truth(name)
    indices = orders(len(expected))["random"]
    decoded = {}
    for count in (1, 3):
        # One thread: single reads, batches and iteration share one pool.
        with VideoReader(videos[name], index=None, decoders=count, threads=1) as reader:
            fix_costs(reader, 4)  # an open costs as much as decoding 4 packets
            assert hashes(reader[i] for i in indices) == [expected[i] for i in indices]
            assert hashes(reader.get_batch(indices)) == [expected[i] for i in indices]
            assert hashes(reader) == expected
            assert 1 <= reader.stats()["decoders"] <= count
            decoded[count] = reader.stats()["decoded"]
    assert decoded[3] < decoded[1]


@pytest.mark.parametrize(
    ("name", "key"), [("x264-bframes.mp4", 30), ("mpeg2-bframes.ts", 15), ("h264.ts", None)]
)
def test_a_keyframe_read_alone_decodes_the_keyframe_alone(name, key, videos, truth):
    """A read that seeks to its own frame's keyframe drains the decoder at once, rather
    than feeding the packets the reorder depth holds it back for; what reads on from
    there seeks again, and every frame stays exact. ``key``: a later keyframe (h264.ts
    flags only its first)."""
    expected = truth(name)
    with VideoReader(videos[name], index=None, threads=1) as reader:
        assert frame_hash(reader[0]) == expected[0]
        assert reader.stats()["fed"] == 1  # the keyframe alone
        if key is not None:
            assert frame_hash(reader[key]) == expected[key]
            assert reader.stats()["fed"] == 2
        later = [i for i in (key, 1) if i is not None]
        assert [frame_hash(reader[i + 1]) for i in later] == [expected[i + 1] for i in later]
    with VideoReader(videos[name], index=None, threads=1) as reader:
        # a batch knows the next frame: it decodes on through the GOP, no drain, no seek back
        assert hashes(reader.get_batch([0, 1, 2])) == expected[:3]
        assert reader.stats()["seeks"] - reader.stats()["retries"] == 1


def test_a_read_goes_to_the_decoder_that_decodes_on_soonest(videos, truth):
    name = "x264-bframes.mp4"  # 48 frames, keyframes at 0 and 30
    back_and_forth = [40, 10, 41, 11, 43, 12, 47, 20]
    seeks = {}
    for count in (1, 2):
        with VideoReader(videos[name], index=None, decoders=count, threads=1) as reader:
            fix_costs(reader, 0)  # opening costs nothing: it opens when none decodes on
            got = hashes(reader[i] for i in back_and_forth)
            assert got == [truth(name)[i] for i in back_and_forth]
            seeks[count] = reader.stats()["seeks"] - reader.stats()["retries"]
    # one decoder seeks for every read; two park in the two GOPs and decode on
    assert seeks == {1: len(back_and_forth), 2: 2}


def test_a_batch_decodes_each_gop_once_and_never_seeks_back(videos, truth):
    name = "x264-bframes.mp4"  # 48 frames, keyframes at 0 and 30
    asked = [40, 2, 35, 10, 2, 29, 47]
    with VideoReader(videos[name], index=None) as reader:
        assert hashes(reader.get_batch(asked)) == [truth(name)[i] for i in asked]
        assert reader.stats()["seeks"] <= 2  # at most one per GOP (29 -> 30 decodes on)
        assert reader.stats()["retries"] == 0


@pytest.mark.parametrize("name", ["ffvhuff-color.mkv", "ffv1-g1-gray.mkv", "mjpeg.avi"])
def test_intra_only_frames_are_read_with_pread_and_no_seek(name, videos):
    with VideoReader(videos[name], index=None) as reader:
        for i in (5, 0, len(reader) - 1, 17):
            reader[i]
        reader.get_batch([3, 1, 2, 1])
        # FFmpeg's decoder is made of the index alone (TurboJPEG needs none): no container
        used = {k for k, v in reader.stats().items() if v}
        assert used == {"pread", "batched"} | ({"bare_opens"} if name != "mjpeg.avi" else set())
        assert reader.stats()["batched"] == 3  # one pass for the batch, each frame once


# -- the sequence -------------------------------------------------------------


@pytest.mark.parametrize("name", ["ffv1-color.mkv", "h264.ts", "mjpeg.avi"])
def test_indices_count_from_the_end_and_out_of_range_raises(name, videos, truth):
    expected = truth(name)
    n = len(expected)
    with VideoReader(videos[name], index=None) as reader:
        assert frame_hash(reader[-1]) == expected[-1]
        assert frame_hash(reader[-n]) == expected[0]
        assert hashes(reader.get_batch(np.array([-1, -n]))) == [expected[-1], expected[0]]
        for bad in (n, n + 10, -n - 1):
            with pytest.raises(IndexError, match=f"valid indices {-n} to {n - 1}"):
                reader[bad]
            with pytest.raises(IndexError):
                reader.get_batch([0, bad])
            with pytest.raises(IndexError):
                reader.frame_info(bad)
        with pytest.raises(TypeError):
            reader[1.0]
        with pytest.raises(TypeError):
            reader.get_batch([0.5])


def test_slices_lists_and_empty_batches(videos, truth):
    name = "x264-crf18-bframes-color.mkv"
    expected = truth(name)
    with VideoReader(videos[name], index=None) as reader:
        assert hashes(reader[2:20:3]) == expected[2:20:3]
        assert hashes(reader[::-5]) == expected[::-5]
        assert hashes(reader[[4, 1, 4]]) == [expected[4], expected[1], expected[4]]
        assert hashes(reader[np.array([7])]) == [expected[7]]
        assert frame_hash(reader[np.int64(7)]) == expected[7]
        assert reader[5:5].shape == (0, HEIGHT, WIDTH, 3)
        assert reader.get_batch([]).shape == (0, HEIGHT, WIDTH, 3)
        assert reader.shape == (SUITE_FRAMES, HEIGHT, WIDTH, 3)


def test_frame_info_comes_from_the_index(videos):
    with VideoReader(videos["x264-bframes.mp4"], index=None) as reader:
        infos = [reader.frame_info(i) for i in range(len(reader))]
        assert [f.index for f in infos] == list(range(len(reader)))
        assert all(b.pts > a.pts for a, b in itertools.pairwise(infos))
        assert [f.keyframe for f in infos].count(True) == 2
        assert infos[0].keyframe
        assert infos[30].keyframe
        assert infos[30].time == pytest.approx(1.0)
        assert infos[-1] == reader.frame_info(-1)
        assert reader.average_fps == pytest.approx(30.0)


@pytest.mark.parametrize(
    "name",
    ["x264-crf18-bframes-color.mkv", "mjpeg-color.mkv", "ffv1-gray.mkv", "ffvhuff-color.mkv"],
)
@pytest.mark.parametrize("pixel_format", ["RGB", "GRAY"])
def test_pixel_formats(name, pixel_format, videos, truth):
    expected = truth(name, pixel_format)
    channels = 1 if pixel_format == "GRAY" else 3
    indices = orders(len(expected))["random"][:12]
    with VideoReader(videos[name], index=None, pixel_format=pixel_format) as reader:
        assert reader[0].shape == (HEIGHT, WIDTH, channels)
        assert hashes(reader[i] for i in indices) == [expected[i] for i in indices]
        assert hashes(reader.get_batch(indices)) == [expected[i] for i in indices]
    if pixel_format == "RGB":  # the same pixels as BGR, channels reversed
        bgr = sequential_frames(videos[name], "BGR")[indices[0]]
        with VideoReader(videos[name], index=None, pixel_format="RGB") as reader:
            assert np.array_equal(reader[indices[0]], bgr[:, :, ::-1])


def test_options_are_checked(videos):
    path = videos["ffv1-color.mkv"]
    with pytest.raises(ValueError, match="pixel_format"):
        VideoReader(path, index=None, pixel_format="bgr24")
    with pytest.raises(ValueError, match="thread_type"):
        VideoReader(path, index=None, thread_type="FRAME")
    with pytest.raises(ValueError, match="threads"):
        VideoReader(path, index=None, threads=-1)
    with pytest.raises(ValueError, match="decoders must be 1 or more"):
        VideoReader(path, index=None, decoders=0)
    with pytest.raises(TypeError):
        VideoReader(path, index=None, decoders=2.5)
    with pytest.raises(TypeError, match="index must be"):
        VideoReader(path, index=3)


def test_a_closed_reader_refuses_to_read(videos):
    with VideoReader(videos["ffv1-color.mkv"], index=None) as reader:
        reader[3]
    with pytest.raises(ValueError, match="closed"):
        reader[3]
    assert f"frames={SUITE_FRAMES}" in repr(reader)


# -- errors -------------------------------------------------------------------


def test_files_that_are_no_videos(tmp_path):
    with pytest.raises(FileNotFoundError):
        VideoReader(tmp_path / "missing.mp4", index=None)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    with pytest.raises(CorruptVideoError, match="cannot be opened"):
        VideoReader(text, index=None)
    audio = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=0.2", audio)
    with pytest.raises(UnsupportedVideoError, match="no video stream"):
        VideoReader(audio, index=None)


def test_two_frames_with_one_pts_cannot_be_told_apart(videos):
    index = FrameIndex.scan(videos["ffv1-color.mkv"])
    arrays = {name: getattr(index, name).copy() for name in PACKET_ARRAYS}
    arrays["pts"][3] = arrays["pts"][2]
    with pytest.raises(UnsupportedVideoError, match="share pts"):
        dataclasses.replace(index, **arrays)


def test_a_damaged_jpeg_is_an_error_for_its_frame_alone(videos, truth, tmp_path):
    """MJPEG frames come from their own packet: zeroing one breaks that frame only."""
    path = tmp_path / "damaged.avi"
    data = bytearray(videos["mjpeg.avi"].read_bytes())
    index = FrameIndex.scan(videos["mjpeg.avi"])
    packet = int(index.order[7])
    at, size = int(index.payload_offset[packet]), int(index.size[packet])
    data[at : at + size] = bytes(size)
    path.write_bytes(bytes(data))
    expected = truth("mjpeg.avi")
    with VideoReader(path, index=None) as reader:
        with pytest.raises(CorruptFrameError) as caught:
            reader[7]
        assert caught.value.index == 7
        with pytest.raises(CorruptFrameError):
            reader.get_batch([6, 7, 8])
        assert hashes(reader.get_batch([6, 8])) == [expected[6], expected[8]]
        assert frame_hash(reader[8]) == expected[8]


def test_mjpeg_frames_are_turbojpeg_decodes_of_their_own_packet_near_ffmpegs(videos, truth):
    """With libjpeg-turbo found, MJPEG frames are its decode of the frame's packet: a few
    levels off FFmpeg's own IDCT and upsampling, and nearest to FFmpeg's frame i."""
    name = "mjpeg.avi"
    if not uses_turbojpeg(videos[name]):
        pytest.fail("libjpeg-turbo is not found: set TURBOJPEG_LIB (tools/run.sh test does)")
    import av

    with av.open(str(videos[name])) as container:
        ffmpeg_frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with VideoReader(videos[name], index=None) as reader:
        for i in orders(len(reader))["random"][:12]:
            image = reader[i]
            assert frame_hash(image) == truth(name)[i]
            distances = [np.abs(image.astype(np.int16) - f).mean() for f in ffmpeg_frames]
            assert int(np.argmin(distances)) == i
            assert distances[i] < 1.5


def test_stats_is_a_documented_copy_and_the_benchmark_hooks_are_not_public(videos):
    import inspect

    from framereader.reader import STATS

    parameters = inspect.signature(VideoReader).parameters
    assert "skip_nonref" not in parameters
    assert not hasattr(VideoReader(videos["mjpeg.avi"], index=None), "counts")
    with VideoReader(videos["x264-bframes.mp4"], index=None) as reader:
        assert reader.stats() == dict.fromkeys(STATS, 0)
        reader[5]
        stats = reader.stats()
        assert stats["decoded"] >= 1
        assert stats["seeks"] >= 1
        stats["decoded"] = -1  # a copy: the reader's own counts are untouched
        assert reader.stats()["decoded"] >= 1
