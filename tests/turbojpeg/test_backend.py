"""Both API generations implement the contract in ``turbojpeg._backend``, and the
codec uses nothing else.

Two checks together: every member of each Protocol exists on both backends'
classes with a compatible signature; and every handle attribute that
``codec.py`` and the modules it hands handles to use is a member of its
Protocol. A method used by the codec but added to one backend only fails one
or the other.
"""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

import pytest

import turbojpeg
from turbojpeg import UnsupportedFeatureError, _backend, _tj2, _tj3

from .conftest import _tj2_path

IMPLEMENTATIONS = {
    _backend.Api: (_tj3.Tj3Api, _tj2.Tj2Api),
    _backend.Decompressor: (_tj3.Tj3Decompressor, _tj2.Tj2Decompressor),
    _backend.Compressor: (_tj3.Tj3Compressor, _tj2.Tj2Compressor),
    _backend.Transformer: (_tj3.Tj3Transformer, _tj2.Tj2Transformer),
}
PACKAGE = Path(turbojpeg.__file__).parent


def members(protocol) -> dict[str, object]:
    """The Protocol's members: name -> its function, or None for a data attribute."""
    found: dict[str, object] = {}
    for klass in reversed(protocol.__mro__):
        if not getattr(klass, "_is_protocol", False) or klass is typing.Protocol:
            continue
        found.update(dict.fromkeys(inspect.get_annotations(klass)))
        found.update(
            (name, value)
            for name, value in vars(klass).items()
            if inspect.isfunction(value) and not name.startswith("_")
        )
    return found


def mismatches(protocol, cls) -> list[str]:
    """What keeps ``cls`` from implementing ``protocol``; empty when it does."""
    problems = []
    for name, spec in members(protocol).items():
        if not hasattr(cls, name):
            problems.append(f"{cls.__name__} has no {name}")
        elif spec is not None:
            impl = getattr(cls, name)
            if not inspect.isfunction(impl):
                problems.append(f"{cls.__name__}.{name} is not a method")
            else:
                problems += [
                    f"{cls.__name__}.{name}: {p}" for p in signature_mismatches(spec, impl)
                ]
    return problems


def signature_mismatches(spec, impl) -> list[str]:
    """Every call ``spec`` allows must suit ``impl``: the same parameters in the same
    order and kinds, a default wherever the Protocol has one (the same value),
    and any extra parameter optional."""
    want = list(inspect.signature(spec).parameters.values())
    have = list(inspect.signature(impl).parameters.values())
    problems = []
    for i, p in enumerate(want):
        if i >= len(have):
            problems.append(f"lacks parameter {p.name}")
            continue
        q = have[i]
        if (q.name, q.kind) != (p.name, p.kind):
            problems.append(f"parameter {i} is {q.name} ({q.kind}), not {p.name} ({p.kind})")
        elif p.default is not p.empty and q.default != p.default:
            problems.append(f"{p.name} defaults to {q.default!r}, not {p.default!r}")
    problems += [
        f"extra required parameter {q.name}"
        for q in have[len(want) :]
        if q.default is q.empty and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)
    ]
    return problems


@pytest.mark.parametrize("protocol", IMPLEMENTATIONS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("generation", [3, 2])
def test_each_backend_implements_the_protocol(protocol, generation):
    cls = IMPLEMENTATIONS[protocol][0 if generation == 3 else 1]
    assert members(protocol)
    assert mismatches(protocol, cls) == []


def test_the_check_catches_a_missing_or_different_method():
    class Missing(_tj3.Tj3Compressor):
        __slots__ = ()
        compress_from_planes = None  # not a method any more

    class Different(_tj2.Tj2Compressor):
        __slots__ = ()

        def configure(self, quality, subsamp, fast_dct, progressive):  # lost two
            pass

        def compress(self, src, width, pitch, height, pixel_format, bits=12, icc=None):
            return b""

    class Extra(_tj2.Tj2Decompressor):
        __slots__ = ()

        def set_scale(self, num, denom, rounding):  # one more, required
            pass

    assert mismatches(_backend.Compressor, Missing) == [
        "Missing.compress_from_planes is not a method"
    ]
    assert mismatches(_backend.Compressor, Different) == [
        "Different.configure: lacks parameter optimize",
        "Different.configure: lacks parameter lossless",
        "Different.compress: bits defaults to 12, not 8",
    ]
    assert mismatches(_backend.Decompressor, Extra) == [
        "Extra.set_scale: extra required parameter rounding"
    ]
    assert mismatches(_backend.Decompressor, _tj3.Tj3Compressor)  # another handle type


# Which Protocol each handle variable of the codec's modules follows.
HANDLES = {
    "codec.py": {"d": _backend.Decompressor, "c": _backend.Compressor, "t": _backend.Transformer},
    "_general.py": {"d": _backend.Decompressor},
    "_batch.py": {"d": _backend.Decompressor},
    "_settings.py": {"c": _backend.Compressor},
    "_transform.py": {"handle": _backend.Transformer},
}


def used_members(path: Path, names: dict) -> list[tuple[object, str, int]]:
    """(Protocol, attribute, line) for each ``name.attr`` and ``self._api.attr`` in
    ``path``, following ``name.api.attr`` to the Api Protocol."""
    used = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Attribute):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in names:
            used.append((names[node.value.id], node.attr, node.lineno))
        elif is_api(node.value, names):
            used.append((_backend.Api, node.attr, node.lineno))
    return used


def is_api(expr, names: dict) -> bool:
    """Whether ``expr`` is ``self._api`` or a named handle's ``.api``."""
    return (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and (
            (expr.value.id, expr.attr) == ("self", "_api")
            or (expr.value.id in names and expr.attr == "api")
        )
    )


@pytest.mark.parametrize("module", HANDLES)
def test_the_codec_uses_only_the_protocols(module):
    used = used_members(PACKAGE / module, HANDLES[module])
    # The walk finds every handle named.
    assert {protocol for protocol, _attr, _line in used} >= set(HANDLES[module].values())
    unknown = [
        f"{module}:{line} {protocol.__name__}.{attr}"
        for protocol, attr, line in used
        if attr not in members(protocol)
    ]
    assert unknown == []


def test_the_usage_check_sees_an_unknown_member(tmp_path):
    source = tmp_path / "codec.py"
    source.write_text(
        "def f(self, d, t):\n"
        "    d.decompress()\n"
        "    d.set_quality(3)\n"
        "    self._api.generation\n"
        "    t.api.declare\n"
    )
    used = used_members(source, HANDLES["codec.py"])
    assert sorted((line, p.__name__, attr, attr in members(p)) for p, attr, line in used) == [
        (2, "Decompressor", "decompress", True),
        (3, "Decompressor", "set_quality", False),
        (4, "Api", "generation", True),
        (5, "Api", "declare", False),
        (5, "Transformer", "api", True),
    ]


def test_tj2_refuses_what_it_lacks():
    path = _tj2_path()
    if path is None:
        pytest.skip("no TurboJPEG 2 library here")
    d = _tj2.Tj2Api(turbojpeg.load_library(path).cdll).decompressor()
    try:
        assert d.supports_crop is False  # so the codec never asks
        with pytest.raises(UnsupportedFeatureError, match="cropping region"):
            d.set_crop(0, 0, 8, 8)
        with pytest.raises(UnsupportedFeatureError, match="12-bit samples"):
            d.decompress_samples(12, b"", 0, 0, 0, 0)
    finally:
        d.close()
