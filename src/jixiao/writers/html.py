"""HTML writer: the rendered document as a UTF-8 file, styles inline, for a browser or a web page."""

from __future__ import annotations


def write(html: str) -> bytes:
    """The HTML document's bytes."""
    return html.encode("utf-8")
