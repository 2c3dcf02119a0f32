"""Input patterns matched against the whole value, by every checker that reads them.

msgspec and Litestar check a ``pattern`` with Python's ``re.search``, where ``$`` also matches
before a trailing newline: ``^[0-9A-Z]{6}$`` accepts ``"005930\\n"``. Every pattern the project
checks is written ``whole(...)``. The OpenAPI document publishes the same text, and ECMA-262
regexes (browsers, schemathesis) read it alike: there ``$`` already ends the input.
"""


def whole(body: str) -> str:
    """A pattern that matches ``body`` against the whole value, trailing newline included."""
    return rf"^(?:{body})$(?!\n)"


# app.models.name: what the API, the CLI and external evaluation files accept as a model's name
MODEL_NAME_PATTERN = whole(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
