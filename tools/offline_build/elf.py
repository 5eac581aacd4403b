"""Just enough ELF reading for the runner: is a file a dynamic ELF object, and which
glibc symbol versions does it need (its GNU version-needed section).

64-bit little-endian only (linux-64). Every read is bounded by the file's size and
by the counts the headers give, so a damaged file is an error, never a hang.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from . import BuildError

SHT_GNU_VERNEED = 0x6FFFFFFE
MAX_SECTION = 64 << 20  # bytes read of one section at most
_GLIBC = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")


def _header(fh) -> bytes | None:
    head = fh.read(64)
    if len(head) < 64 or head[:4] != b"\x7fELF" or head[4:6] != b"\x02\x01":
        return None
    if struct.unpack_from("<H", head, 16)[0] not in (2, 3):  # ET_EXEC, ET_DYN
        return None
    return head


def is_dynamic_elf(path: Path) -> bool:
    """64-bit little-endian executable or shared object with a PT_DYNAMIC segment."""
    with open(path, "rb") as fh:
        head = _header(fh)
        if head is None:
            return False
        (phoff,) = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return any(
        struct.unpack_from("<I", table, i * phentsize)[0] == 2
        for i in range(phnum)
        if (i + 1) * phentsize <= len(table)
    )


def _section(fh, size: int, offset: int, length: int, path: Path) -> bytes:
    if length > MAX_SECTION or offset + length > size:
        raise BuildError(f"{path}: an ELF section lies outside the file")
    fh.seek(offset)
    return fh.read(length)


def versions_needed(path: Path) -> list[tuple[str, str]]:
    """(library, version) for every entry of the file's version-needed section, in
    file order: what ``readelf -V`` lists under "Version needs section"."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = _header(fh)
        if head is None:
            return []
        (shoff,) = struct.unpack_from("<Q", head, 40)
        shentsize, shnum = struct.unpack_from("<HH", head, 58)
        if shnum == 0:
            return []
        if shentsize < 64 or shoff + shentsize * shnum > size:
            raise BuildError(f"{path}: its ELF section headers lie outside the file")
        fh.seek(shoff)
        table = fh.read(shentsize * shnum)

        def header(index: int) -> tuple[int, int, int, int, int]:
            if index >= shnum:
                raise BuildError(f"{path}: an ELF section links to section {index} of {shnum}")
            base = index * shentsize
            kind = struct.unpack_from("<I", table, base + 4)[0]
            offset, length = struct.unpack_from("<QQ", table, base + 24)
            link, info = struct.unpack_from("<II", table, base + 40)
            return kind, offset, length, link, info

        found = []
        for index in range(shnum):
            kind, offset, length, link, count = header(index)
            if kind != SHT_GNU_VERNEED:
                continue
            data = _section(fh, size, offset, length, path)
            _, str_offset, str_length, _, _ = header(link)
            strings = _section(fh, size, str_offset, str_length, path)
            found += _walk_verneed(data, strings, count, path)
    return found


def _string(strings: bytes, offset: int, path: Path) -> str:
    end = strings.find(b"\0", offset)
    if offset >= len(strings) or end < 0:
        raise BuildError(f"{path}: a version name lies outside its string table")
    return strings[offset:end].decode("ascii", "replace")


def _walk_verneed(data: bytes, strings: bytes, count: int, path: Path) -> list[tuple[str, str]]:
    """Verneed entries (16 bytes: version, aux count, file, aux offset, next offset),
    each with its Vernaux entries (16 bytes: hash, flags, other, name, next)."""
    found, at = [], 0
    for _ in range(count):
        if at + 16 > len(data):
            raise BuildError(f"{path}: its version-needed section is cut short")
        _, aux_count, file_name, aux, following = struct.unpack_from("<HHIII", data, at)
        library = _string(strings, file_name, path)
        aux_at = at + aux
        for _ in range(aux_count):
            if aux_at + 16 > len(data):
                raise BuildError(f"{path}: its version-needed section is cut short")
            name, aux_next = struct.unpack_from("<II", data, aux_at + 8)
            found.append((library, _string(strings, name, path)))
            if not aux_next:
                break
            aux_at += aux_next
        if not following:
            break
        at += following
    return found


def glibc_needed(path: Path) -> tuple[int, ...] | None:
    """The highest GLIBC_x.y version the file needs, as a tuple (2, 34); None if none."""
    versions = [
        tuple(int(part) for part in match[1].split("."))
        for _, name in versions_needed(path)
        if (match := _GLIBC.fullmatch(name))
    ]
    return max(versions, default=None)
