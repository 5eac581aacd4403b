"""A keyframe read alone needs no container: its bytes are at an offset the scan
checked, and a decoder's context made of the index alone decodes it, where the
scan found that the first keyframe decodes and converts alike that way and
through the demuxer, with the FFmpeg reading now."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from framereader import FrameIndex, VideoReader
from framereader import index as index_module
from tests.framereader.media import EXACT_FILES, PIXEL_FORMATS, frame_hash, uses_turbojpeg


def keyframes(index: FrameIndex, most: int = 3) -> list[int]:
    """The frame numbers of the first ``most`` keyframes, and of the last."""
    found = np.flatnonzero(index.frame_keyframe)
    return sorted({*found[:most].tolist(), int(found[-1])})


@pytest.mark.parametrize("name", EXACT_FILES)
def test_a_keyframe_read_alone_on_a_fresh_reader_opens_no_container(name, videos, truth):
    index = FrameIndex.scan(videos[name])
    if name.endswith((".mkv", ".mp4")):  # packets whole in the file: the scan vouches
        assert index.params.bare == index_module.LIBRARIES, name
    if name.endswith(".ts"):  # packets split across TS packets: no offsets, no bare decoder
        assert np.all(index.payload_offset == -1), name
    intra = index.intra_only  # PacketDecoder: counts no GOP decoder's "fed"
    for pixel_format in PIXEL_FORMATS:
        for i in keyframes(index):
            with VideoReader(videos[name], index=index, pixel_format=pixel_format) as reader:
                assert frame_hash(reader[i]) == truth(name, pixel_format)[i], (name, i)
                stats = reader.stats()
            if index.params.bare is None or uses_turbojpeg(videos[name]):  # TurboJPEG: none
                assert stats["bare_opens"] == 0, name
                continue
            assert stats["bare_opens"] == stats["pread"] == stats["fed"] + intra == 1, (name, i)
            assert stats["cheap_opens"] == stats["full_probes"] == 0, (name, i, stats)


@pytest.mark.parametrize("name", ["x264-bframes.mp4", "x264-crf18-bframes-color.mkv"])
def test_reading_on_from_a_bare_read_opens_the_container(name, videos, truth):
    index = FrameIndex.scan(videos[name])
    k = keyframes(index)[-1]  # the last keyframe (the only one, on the mkv)
    with VideoReader(videos[name], index=index, decoders=1) as reader:
        got = [frame_hash(reader[i]) for i in (k, k + 1, k + 2, 0)]
        stats = reader.stats()
    assert got == [truth(name)[i] for i in (k, k + 1, k + 2, 0)]
    assert stats["bare_opens"] == 1  # frame k; k + 1 needs its GOP; 0: a container is open
    assert stats["cheap_opens"] == 1


def test_an_index_vouched_for_by_another_ffmpeg_opens_containers(videos, truth):
    """Another FFmpeg's decoders may take more from the container than this one's."""
    name = "x264-crf18-bframes-color.mkv"
    index = FrameIndex.scan(videos[name])
    other = "libavcodec 1.0.0, libswscale 1.0.0"
    elsewhere = dataclasses.replace(index, params=dataclasses.replace(index.params, bare=other))
    with VideoReader(videos[name], index=elsewhere) as reader:
        assert frame_hash(reader[0]) == truth(name)[0]
        assert (reader.stats()["bare_opens"], reader.stats()["cheap_opens"]) == (0, 1)


def test_no_bare_decoder_where_it_decodes_unlike_the_demuxers(videos, truth, monkeypatch):
    """A context that lacks what the container tells the decoder (here: a colour range
    the index would not keep) converts to other pixels: the scan finds it out."""
    name = "ffvhuff-color.mkv"
    real = index_module.codec_context

    def unlike(*args):
        context = real(*args)
        context.color_range = 2 if context.color_range != 2 else 1  # JPEG <-> MPEG range
        return context

    monkeypatch.setattr(index_module, "codec_context", unlike)
    index = FrameIndex.scan(videos[name])
    assert index.params.bare is None
    monkeypatch.undo()
    with VideoReader(videos[name], index=index) as reader:
        assert [frame_hash(reader[i]) for i in (0, 5)] == [truth(name)[i] for i in (0, 5)]
        assert reader.stats()["bare_opens"] == 0
        assert reader.stats()["cheap_opens"] == 1


def test_a_bare_frame_unlike_the_index_falls_back_to_the_container(videos, truth):
    """H.264 takes its size from the stream: a bare decode of a keyframe under an index
    that gives another size is caught, and the container's route (which then finds the
    demuxer disagrees, and probes in full) reads the frame."""
    name = "x264-bframes.mp4"
    index = FrameIndex.scan(videos[name])
    doctored = dataclasses.replace(index, width=index.width + 16)
    with VideoReader(videos[name], index=doctored) as reader:
        assert frame_hash(reader[0]) == truth(name)[0]
        stats = reader.stats()
    assert stats["bare_opens"] == 1
    assert stats["full_probes"] == 1


def test_an_intra_only_bare_decoder_unlike_the_index_gives_way_for_good(videos, truth):
    """All-intra H.264: every read is a keyframe alone. The first bare frame of the wrong
    size sends this reader to the container for good (single reads: the index's size
    shapes a batch's array)."""
    name = "x264-lossless-k1-color.mkv"
    index = FrameIndex.scan(videos[name])
    assert index.intra_only
    assert index.params.bare == index_module.LIBRARIES
    doctored = dataclasses.replace(index, width=index.width + 16)
    with VideoReader(videos[name], index=doctored) as reader:
        assert [frame_hash(reader[i]) for i in (4, 1, 2)] == [truth(name)[i] for i in (4, 1, 2)]
        stats = reader.stats()
    assert stats["bare_opens"] == 1
    assert stats["full_probes"] == 1


def test_no_check_and_no_bare_decoder_for_a_first_keyframe_too_big_to_pay(videos, monkeypatch):
    """The check decodes the first keyframe twice: past BARE_CHECK_BYTES it costs the
    scan more than the bare opens it allows would save."""
    name = "x264-crf18-bframes-color.mkv"
    first = int(FrameIndex.scan(videos[name]).size[0])
    checks = []
    real = index_module._decodes_bare
    monkeypatch.setattr(index_module, "_decodes_bare", lambda *a: checks.append(1) or real(*a))
    monkeypatch.setattr(index_module, "BARE_CHECK_BYTES", first - 1)
    assert FrameIndex.scan(videos[name]).params.bare is None
    assert not checks
    monkeypatch.setattr(index_module, "BARE_CHECK_BYTES", first)
    assert FrameIndex.scan(videos[name]).params.bare == index_module.LIBRARIES
    assert checks == [1]
