"""Opening with what the index knows: a decoder's container is opened with FFmpeg's
probe cut to one packet when the index holds the stream's parameters and the
demuxer reports the same, else with the full probe; the frames are the same."""

from __future__ import annotations

import dataclasses
from collections import Counter

import av
import pytest

from framereader import FrameIndex, VideoReader, _source
from framereader.index import StreamParams
from tests.framereader.media import frame_hash, orders, sequential_frames


@pytest.fixture
def opens(monkeypatch) -> list[dict | None]:
    """The container options of every ``av.open`` from here on, in order."""
    calls: list[dict | None] = []
    real = av.open

    def spy(*args, **kwargs):
        calls.append(kwargs.get("container_options"))
        return real(*args, **kwargs)

    monkeypatch.setattr(av, "open", spy)
    return calls


def cached(copy_of, name: str):
    """A copy of the video whose cache file is written: the next reader loads it."""
    video = copy_of(name)
    with VideoReader(video) as reader:
        assert not reader.index_loaded
        assert reader.index.params is not None
    return video


def read_every_way(reader: VideoReader) -> tuple[list[str], list[str], list[str]]:
    """Hashes of single reads (random order), of a batch (reversed) and of iteration."""
    n = len(reader)
    single = {i: frame_hash(reader[i]) for i in orders(n)["random"]}
    batch = [frame_hash(f) for f in reader.get_batch(list(range(n - 1, -1, -1)))]
    return [single[i] for i in range(n)], batch[::-1], [frame_hash(f) for f in reader]


@pytest.mark.parametrize(
    "name",
    [
        "h264.ts",
        "mpeg2-bframes.ts",
        "opengop-cut.ts",
        "x264-crf18-bframes-color.mkv",
        "vfr-dropped.mkv",
        "hevc-bframes.mkv",
        "x264-bframes.mp4",
        "editlist-bframes.mp4",
        "ffv1-color.mkv",
        "ffvhuff-gray.mkv",
    ],
)
def test_a_cached_index_opens_with_the_cheap_probe_and_reads_exactly(name, copy_of, truth, opens):
    expected = truth(name)
    video = cached(copy_of, name)
    del opens[:]
    with VideoReader(video) as reader:
        assert reader.index_loaded
        single, batch, iterated = read_every_way(reader)
        stats = reader.stats()
    assert single == batch == iterated == expected
    assert opens or stats["bare_opens"]  # intra-only: a decoder of the index alone, no container
    assert all(options == _source.CHEAP_PROBE for options in opens), opens
    assert stats["cheap_opens"] == len(opens)
    assert stats["full_probes"] == 0


def short_probe(video, index: FrameIndex) -> StreamParams:
    """What the demuxer reports of the stream after the short probe a cached open makes."""
    skim = index.params.container in _source.SKIMMED_CONTAINERS
    streams = [_source.SKIM] * (index.params.number + 1) if skim else None
    with av.open(str(video), container_options=_source.CHEAP_PROBE, stream_options=streams) as c:
        return StreamParams.of(c.streams.video[0])


def disagreeing(index: FrameIndex, reported: StreamParams) -> dict[str, FrameIndex]:
    """The index with one thing the demuxer reports after the short probe changed, each way."""
    params = index.params
    changed = {
        "number": {"number": params.number + 1},
        "container": {"container": "avi"},
        "no pixel format": {"pixel_format": None},
    }
    if reported.extradata:
        changed["extradata"] = {"extradata": params.extradata[:-1]}
    if reported.pixel_format is not None:
        changed["pixel format"] = {"pixel_format": "yuv444p"}
    if reported.reorder_depth:
        changed["reorder depth"] = {"reorder_depth": reported.reorder_depth - 1}
    for k, (got, unspecified) in enumerate(zip(reported.color, (0, 2, 2, 2), strict=True)):
        if got != unspecified:
            color = list(params.color)
            color[k] += 1
            changed[f"colour {k}"] = {"color": tuple(color)}
    indices = {
        what: dataclasses.replace(index, params=dataclasses.replace(params, **fields))
        for what, fields in changed.items()
    }
    indices["no params"] = dataclasses.replace(index, params=None)
    indices["codec"] = dataclasses.replace(index, codec="hevc")  # nothing is skipped then
    indices["time base"] = dataclasses.replace(index, time_base=index.time_base / 2)
    return indices


@pytest.mark.parametrize("name", ["x264-bframes.mp4", "h264.ts"])
def test_params_that_disagree_with_the_file_mean_a_full_probe_and_exact_frames(
    name, videos, truth, opens
):
    expected = truth(name)
    indices = orders(len(expected))["random"][:12]
    index = FrameIndex.scan(videos[name])
    cases = disagreeing(index, short_probe(videos[name], index))
    assert len(cases) >= 8  # beyond the six every file has: what this demuxer reports
    for what, doctored in cases.items():
        del opens[:]
        with VideoReader(videos[name], index=doctored, threads=1) as reader:
            got = [frame_hash(reader[i]) for i in indices]
            stats = reader.stats()
        assert got == [expected[i] for i in indices], what
        assert stats["cheap_opens"] == 0, what
        assert stats["full_probes"] >= 1, what
        assert None in opens, what  # each decoder: a full probe, after a cheap try or not


@pytest.mark.parametrize("name", ["x264-bframes.mp4", "x264-crf18-bframes-color.mkv"])
def test_on_matroska_and_mp4_the_short_probe_decodes_nothing(name, videos):
    """Its one packet is a whole keyframe, as costly as the first read: the probe's
    decoder skips it, so the pixel format stays unknown (only decoding tells it)."""
    index = FrameIndex.scan(videos[name])
    assert index.params.container in _source.SKIMMED_CONTAINERS
    assert index.params.pixel_format is not None
    assert short_probe(videos[name], index).pixel_format is None


@pytest.mark.parametrize(
    "name", ["x264-bframes.mp4", "x264-crf18-bframes-color.mkv", "h264.ts", "ffv1-color.mkv"]
)
def test_a_cheap_open_starts_the_decoder_from_what_a_full_probe_finds(name, videos):
    """What the short probe left unknown is set from the index: the context the decoder
    starts from holds the full probe's value in every field the index keeps."""
    index = FrameIndex.scan(videos[name])
    video = _source.Video(str(videos[name]), index, "none", 1, Counter())
    container, stream = video.open()
    try:
        assert video.counts == {"cheap_opens": 1}
        assert StreamParams.of(stream) == dataclasses.replace(index.params, bare=None)
    finally:
        container.close()


def test_a_size_that_disagrees_means_a_full_probe(videos, truth):
    """On an intra-only stream (the size of the index shapes the arrays, so single reads).
    Its index vouches for no bare decoder: ffvhuff takes its size from the context, so
    one made of a wrong index alone would decode wrongly (see test_bare_open)."""
    name = "ffvhuff-color.mkv"
    index = FrameIndex.scan(videos[name])
    params = dataclasses.replace(index.params, bare=None)
    doctored = dataclasses.replace(index, width=index.width + 16, params=params)
    with VideoReader(videos[name], index=doctored) as reader:
        assert [frame_hash(reader[i]) for i in (3, 0, 7)] == [truth(name)[i] for i in (3, 0, 7)]
        assert (reader.stats()["cheap_opens"], reader.stats()["full_probes"]) == (0, 1)


def test_a_stream_the_short_probe_cannot_describe_is_probed_in_full(videos, tmp_path):
    """An MPEG-TS cut at a packet that is no keyframe: the one packet the short probe
    reads holds no sequence header, so the demuxer knows no size or pixel format."""
    source = videos["mpeg2-bframes.ts"]
    with av.open(str(source)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    at = next(p.pos for p in packets[3:] if not p.is_keyframe)
    video = tmp_path / "cut.ts"
    video.write_bytes(source.read_bytes()[at - at % 188 :])
    expected = [frame_hash(f) for f in sequential_frames(video)]
    with VideoReader(video, index=None, threads=1) as reader:
        assert reader.index.params.pixel_format is not None  # the full scan found it
        indices = orders(len(reader))["random"]
        assert [frame_hash(reader[i]) for i in indices] == [expected[i] for i in indices]
        assert reader.stats()["cheap_opens"] == 0
        assert reader.stats()["full_probes"] >= 1


def test_extradata_the_short_probe_missed_comes_from_the_index(videos, truth, monkeypatch):
    """H.264 in MP4 keeps its parameter sets in the extradata only: a decoder that lacked
    them would decode nothing."""
    name = "x264-bframes.mp4"
    real = av.open

    def without_extradata(*args, **kwargs):
        container = real(*args, **kwargs)
        if kwargs.get("container_options") == _source.CHEAP_PROBE:
            container.streams.video[0].codec_context.extradata = None
        return container

    monkeypatch.setattr(av, "open", without_extradata)
    index = FrameIndex.scan(videos[name])
    assert index.params.extradata
    with VideoReader(videos[name], index=index, decoders=1) as reader:
        assert [frame_hash(reader[i]) for i in (40, 5)] == [truth(name)[i] for i in (40, 5)]
        assert (reader.stats()["cheap_opens"], reader.stats()["full_probes"]) == (1, 0)
        context = next(iter(reader._decoders.values()))._decoders[0]._stream.codec_context
        assert context.extradata == index.params.extradata
