"""What a plot in an asset's metadata must be: a Markdown image holding a real PNG."""

import base64
import io
import re

from PIL import Image

DATA_URI = re.compile(r"^!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)$")


def assert_png_markdown(markdown: str, min_side: int = 200) -> None:
    match = DATA_URI.match(markdown)
    assert match, markdown[:200]
    image = base64.b64decode(match.group(1))
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(image)) as picture:
        assert min(picture.size) >= min_side, picture.size
