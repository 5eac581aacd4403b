"""Contenders for the JPEG suite's tests. The suite makes every contender in a
process of its own, which imports its factory by name: these live in a module of
their own, light to import, and a test puts one in ``contenders.FACTORIES``."""

from __future__ import annotations

import os
import signal

import numpy as np

from benchmarks import loaded, peers
from benchmarks.jpeg import contenders


def missing() -> contenders.Contender:
    raise peers.PeerUnavailable("simplejpeg is not installed (pip install simplejpeg)")


def broken_install() -> contenders.Contender:
    raise ImportError("libfoo.so.1: cannot open shared object file")


def liar() -> contenders.Contender:
    raise loaded.WrongLibrary("liar claims libjpeg-turbo 3.x, but mapped 2.1.5")


def upside_down() -> contenders.Contender:
    """Ours, with a decoder that returns the rows upside down."""
    contender = contenders.ours()
    contender.name = "broken"
    decode = contender.decode
    contender.decode = lambda data: np.ascontiguousarray(decode(data)[::-1])
    return contender


# What interrupting() counts: make's first decode, the 2 x 2 quality roundtrips of
# small_config, then a few timed rounds.
INTERRUPT_AFTER = 1 + 4 + 6


def interrupting() -> contenders.Contender:
    """Ours, whose decoder, after INTERRUPT_AFTER calls, sends SIGINT to the suite
    that started its process: Ctrl-C during the timed rounds."""
    contender = contenders.ours()
    contender.name = "interrupting"
    decode, calls = contender.decode, [0]

    def decode_then_interrupt(data):
        calls[0] += 1
        if calls[0] == INTERRUPT_AFTER + 1:
            os.kill(os.getppid(), signal.SIGINT)
        return decode(data)

    contender.decode = decode_then_interrupt
    return contender
