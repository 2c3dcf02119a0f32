"""Upstream ZIP archives read with a cap: a member is never inflated beyond ``limit`` bytes.

A zip bomb declares (and inflates to) gigabytes from a few kilobytes; reading it whole would take
the run's memory. The member's declared size is checked before reading, and the read itself stops
one byte past the cap, so a header that lies cannot get more through.
"""

import io
import zipfile
from collections.abc import Callable


class ArchiveTooLarge(ValueError):
    """A member larger than the cap: refused before it is read."""


def read_member(data: bytes, wanted: Callable[[str], bool], limit: int) -> bytes | None:
    """The first member whose name ``wanted`` accepts, at most ``limit`` bytes uncompressed
    (:class:`ArchiveTooLarge` beyond); ``None`` when no member is wanted. Raises
    ``zipfile.BadZipFile`` for a broken archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = next((i for i in archive.infolist() if wanted(i.filename)), None)
        if info is None:
            return None
        if info.file_size > limit:
            raise ArchiveTooLarge(f"{info.filename} declares {info.file_size:,} bytes uncompressed, over "
                                  f"the cap of {limit:,} bytes; refused (not the file we expect?)")
        with archive.open(info) as member:
            content = member.read(limit + 1)
    if len(content) > limit:
        raise ArchiveTooLarge(f"{info.filename} inflates beyond the cap of {limit:,} bytes; refused")
    return content
