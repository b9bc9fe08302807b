"""Read an indicator value as operator, number and unit, or as 定性 (qualitative) text.

Used by the review rules only: what is printed is always the text as typed.

    ≥90%          → (≥, 90, %)         约862人次 → (≈, 862, 人次)     ≤10.5万/人 → (≤, 10.5, 万/人)
    大于等于1000元/人 → (≥, 1000, 元/人)   90%以上 → (≥, 90, %)         一批 → (=, 1, 批)
    有效提升       → qualitative
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# Longest first, so 大于等于 is not read as 大于.
OPERATORS = (
    (">=", "≥"), ("=>", "≥"), ("<=", "≤"), ("=<", "≤"), ("≥", "≥"), ("≤", "≤"), ("＞＝", "≥"), ("＜＝", "≤"),
    ("大于等于", "≥"), ("大于或等于", "≥"), ("不少于", "≥"), ("不低于", "≥"), ("不小于", "≥"), ("至少", "≥"),
    ("小于等于", "≤"), ("小于或等于", "≤"), ("不多于", "≤"), ("不超过", "≤"), ("不高于", "≤"), ("不大于", "≤"),
    ("大于", ">"), ("高于", ">"), ("超过", ">"), ("小于", "<"), ("低于", "<"),
    (">", ">"), ("＞", ">"), ("<", "<"), ("＜", "<"), ("=", "="), ("＝", "="), ("约", "≈"), ("≈", "≈"),
)
OPERATORS = tuple(sorted(OPERATORS, key=lambda pair: -len(pair[0])))
ASCII_OPERATORS = {">=": "≥", "<=": "≤", "=>": "≥", "=<": "≤"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CHINESE_DIGITS = dict(zip("一二两三四五六七八九十", (1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10), strict=True))
_SUFFIXES = (("以上", "≥"), ("以下", "≤"))


@dataclass(frozen=True)
class Value:
    """A parsed indicator value; ``number`` is None for qualitative text."""

    text: str
    operator: str | None = None
    number: Decimal | None = None
    unit: str = ""

    @property
    def quantitative(self) -> bool:
        """True when the value states a number."""
        return self.number is not None


def parse(text: str) -> Value:
    """Parse one indicator value (see the module docstring)."""
    rest = "".join(text.split())
    operator = None
    for written, meaning in OPERATORS:
        if rest.startswith(written):
            operator, rest = meaning, rest[len(written):]
            break
    number, rest = _leading_number(rest)
    if number is None:
        return Value(text)
    for suffix, meaning in _SUFFIXES:
        if rest.endswith(suffix) and operator is None:
            operator, rest = meaning, rest[: -len(suffix)]
    return Value(text, operator or "=", number, rest)


def _leading_number(text: str) -> tuple[Decimal | None, str]:
    match = _NUMBER.match(text)
    if match:
        return Decimal(match.group()), text[match.end():]
    if text[:1] in _CHINESE_DIGITS and len(text) <= 3:  # 一批, 两次: a count, not a sentence
        return Decimal(_CHINESE_DIGITS[text[0]]), text[1:]
    return None, text
