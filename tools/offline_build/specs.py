"""Package specs, read as conda reads them: by ``rattler.MatchSpec``, never by hand.

Parsing is lenient (``strict=False``), so conda's ``name=version=build`` form
(``ffmpeg=*=gpl*``) reads as well as ``name version build``.
"""

from __future__ import annotations

import fnmatch

from rattler import MatchSpec, Version, VersionSpec


def match_spec(spec) -> MatchSpec:
    return MatchSpec(str(spec), strict=False)


def spec_name(spec) -> str:
    """The package name a spec asks for, normalized: ``libjpeg-turbo 3.1.3 prefixed*``
    gives ``libjpeg-turbo``."""
    return match_spec(spec).name.normalized


def spec_names(specs) -> list[str]:
    return [spec_name(s) for s in specs or []]


def matches(spec, version: str, build: str) -> bool:
    """Whether a package ``version`` with build string ``build`` satisfies ``spec``'s
    version and build (its name is the caller's to compare)."""
    parsed = match_spec(spec)
    return (parsed.version is None or VersionSpec(str(parsed.version)).matches(Version(version))
            ) and (parsed.build is None or fnmatch.fnmatchcase(build, parsed.build))  # fmt: skip
