"""Print text that came from the user to the terminal as plain text, never as markup or control codes.

User text reaches messages, warnings and tables: a key, a value, a file name. Printed as console markup
it could raise (``[/x]``) or restyle the output (``[red]未知[/red]``); printed raw, an escape sequence
could retitle or clear the terminal (``\\x1b]0;…\\a``, ``\\x1b[2J``) and a bidi override (U+202E) could
reverse what a line appears to say. So everything goes through :func:`escape`, which shows such
characters as escapes (``\\x1b``, ``\\u202e``), and into rich as :class:`~rich.text.Text`, which rich
never parses for markup or emoji codes. Our own styling (the red 错误) is applied to our own words only.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

# C0 and C1 controls, DEL, bidi controls and isolates, line/paragraph separators, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff\ufeff]")
_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with every control, bidi and surrogate character shown as an escape (``\\x1b``)."""
    return _UNSAFE.sub(_escaped, str(text))


def plain(text: str, style: str = "") -> Text:
    """User-derived text as a rich :class:`Text`: escaped, and never read as markup."""
    return Text(escape(text), style=style)


def print_line(console: Console, label: str, style: str, text: str) -> None:
    """One message line: our label in ``style`` (错误, 警告, 注意), then the user-derived text, plain."""
    line = Text.assemble((label, style), "：", plain(text)) if label else plain(text)
    console.print(line, highlight=False, soft_wrap=True, emoji=False)


def escape_json(text: str) -> str:
    """JSON text with the characters a terminal could act on written as ``\\uXXXX`` escapes.

    ``json.dumps(ensure_ascii=False)`` already escapes C0 controls; C1 controls, bidi overrides and lone
    surrogates (which UTF-8 cannot even encode) can only stand inside JSON strings, where the escape is
    the same character: the JSON stays valid and means the same.
    """
    return _IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def for_terminal(text: str, stream) -> str:
    """Generated text (YAML) as printed on ``stream``: escaped where a person reads it, as is where it is saved.

    ruamel.yaml escapes control characters but writes bidi controls (U+202E…) as they are; on a terminal
    they would reorder what the lines appear to say, so there they are shown as ``\\u202e``.
    """
    isatty = getattr(stream, "isatty", None)
    return _IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if isatty and isatty() else text
