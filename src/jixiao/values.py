"""Read an indicator value as operator, number and unit, or as 定性 (qualitative) text.

Used by the review rules only: what is printed is always the text as typed.

    ≥90%          → (≥, 90, %)         约862人次 → (≈, 862, 人次)     ≤10.5万/人 → (≤, 10.5, 万/人)
    大于等于1000元/人 → (≥, 1000, 元/人)   90%以上 → (≥, 90, %)         一批 → (=, 1, 批)
    每年1次        → (=, 1, 次)         年均4个班次 → (=, 4, 个班次)   1,172.47 → (=, 1172.47, "")
    年均1-2次      → (区间, 1, 次, upper 2)                            有效提升 → qualitative

A leading word that says how often or over what the number counts (每年, 年均, 平均, 全年…) is read past.
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
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_RANGE = re.compile(r"\s*(?:-|－|~|～|—|–|至|到)\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")
_QUALIFIERS = re.compile(
    r"^(?:每年度?|每季度?|每月|每周|每天|每日|每期|每次|年均|月均|日均|人均|平均|全年|累计|合计|共计|共)")
_CHINESE_DIGITS = dict(zip("一二两三四五六七八九十", (1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10), strict=True))
_SUFFIXES = (("以上", "≥"), ("以下", "≤"))


@dataclass(frozen=True)
class Value:
    """A parsed indicator value; ``number`` is None for qualitative text."""

    text: str
    operator: str | None = None
    number: Decimal | None = None
    unit: str = ""
    upper: Decimal | None = None  # the top of a range (1-2次); ``number`` is its bottom

    @property
    def quantitative(self) -> bool:
        """True when the value states a number."""
        return self.number is not None


def parse(text: str) -> Value:
    """Parse one indicator value (see the module docstring)."""
    rest = _QUALIFIERS.sub("", "".join(text.split()), count=1)
    operator = None
    for written, meaning in OPERATORS:
        if rest.startswith(written):
            operator, rest = meaning, rest[len(written):]
            break
    number, rest = _leading_number(_QUALIFIERS.sub("", rest, count=1))
    if number is None:
        return Value(text)
    upper = None
    top = _RANGE.match(rest)
    if top and operator in (None, "≈"):
        upper, rest = Decimal(top.group(1).replace(",", "")), rest[top.end():]
        operator = "区间"
    for suffix, meaning in _SUFFIXES:
        if rest.endswith(suffix) and operator is None:
            operator, rest = meaning, rest[: -len(suffix)]
    return Value(text, operator or "=", number, rest, upper)


def _leading_number(text: str) -> tuple[Decimal | None, str]:
    match = _NUMBER.match(text)
    if match:
        return Decimal(match.group().replace(",", "")), text[match.end():]
    if text[:1] in _CHINESE_DIGITS and len(text) <= 3:  # 一批, 两次: a count, not a sentence
        return Decimal(_CHINESE_DIGITS[text[0]]), text[1:]
    return None, text
