"""A small zip whose one member inflates to a chosen size: zeros deflate about a thousand to one."""

import io
import zipfile

CHUNK = b"\0" * 2**20


def zip_bomb(name: str, inflated: int) -> bytes:
    """A zip of ``name`` holding ``inflated`` zero bytes (declared and real), written in 1 MiB chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(name, "w", force_zip64=True) as member:
        for start in range(0, inflated, len(CHUNK)):
            member.write(CHUNK[: inflated - start])
    return buffer.getvalue()
