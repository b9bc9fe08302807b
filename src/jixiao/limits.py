"""Limits on what an input may hold, so hostile or broken input fails fast and clearly, never hangs.

Each limit comfortably exceeds any real form (the longest published cell is under 1,000 characters, the
largest form has under 40 indicators, the deepest nesting is 8 levels) and is stated in the message
that refuses it and in the README. :func:`audit` walks parsed data without recursion, follows YAML
aliases once (so a "billion laughs" file costs its size, not its expansion) and reports the first
problem with its field path and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_FILE_BYTES = 5 * 1024 * 1024   # an input file; 22 Dongkeng forms are 42 KB (5 MB: about 2,700 forms)
MAX_DEPTH = 50                      # nesting of lists and mappings; a form needs 8
MAX_TEXT = 10_000                   # characters in one cell (one value or key)
MAX_FORM_TEXT = 100_000             # characters in one form, aliases counted each time they are used
MAX_ITEMS = 500                     # entries of one list or mapping, and indicator rows of one form
MAX_INT_DIGITS = 50                 # longer integer literals are kept as text (Python refuses > 4,300)

TREE_KEY = "绩效指标"
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_MESSAGE = "含有无效的 Unicode 字符（单独的代理项，如 JSON 里的 \\udfff）：请删除该字符"


class TooDeep:
    """Stands where the parser cut off a node nested more than :data:`MAX_DEPTH` levels deep."""

    def __init__(self, line: int | None):
        self.line = line


@dataclass(frozen=True)
class Breach:
    """The first limit an input breaks: where (field path, line) and what to do (Chinese)."""

    loc: tuple
    line: int | None
    message: str


DEPTH_MESSAGE = f"嵌套超过 {MAX_DEPTH} 层（列表、键值对套得太深），jixiao 不读取：请检查括号是否成对、缩进是否正确"


def audit(node: Any, loc: tuple = ()) -> Breach | None:
    """The first breach of a limit in ``node``, or a key that is not text; ``None`` when all is well."""
    height: dict[int, int] = {}   # id of a finished container -> levels below and including it
    weight: dict[int, int] = {}   # id of a finished container -> characters it prints
    active: set[int] = set()      # containers on the current path (a cycle returns to one)
    stack: list[tuple[Any, tuple, bool]] = [(node, loc, False)]
    while stack:
        value, here, finished = stack.pop()
        if finished:
            breach = _finish(value, here, height, weight)
            active.discard(id(value))
            if breach:
                return breach
            continue
        if isinstance(value, TooDeep):
            return Breach(here, value.line, DEPTH_MESSAGE)
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                return Breach(here, None, _too_long(len(value)))
            if _SURROGATE.search(value):
                return Breach(here, None, SURROGATE_MESSAGE)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if id(value) in active:
            return Breach(here, _line(value), "锚点（&）与别名（*）构成了循环引用：请删除引用自身的别名")
        if id(value) in height:
            continue  # an alias of a container already audited
        breach = _entries(value, here)
        if breach:
            return breach
        active.add(id(value))
        stack.append((value, here, True))
        children = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend((child, here + (key,), False) for key, child in reversed(list(children)))
    return None


def _entries(value: dict | list, here: tuple) -> Breach | None:
    if len(value) > MAX_ITEMS:
        kind = "键值对" if isinstance(value, dict) else "列表"
        return Breach(here, _line(value), f"{kind}有 {len(value)} 项，超过上限 {MAX_ITEMS} 项")
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                return Breach(here, _key_line(value, key), _key_message(key))
            if len(key) > MAX_TEXT:
                return Breach(here, _key_line(value, key), _too_long(len(key)))
            if _SURROGATE.search(key):
                return Breach(here + (key,), _key_line(value, key), SURROGATE_MESSAGE)
    if here and here[-1] == TREE_KEY and isinstance(value, dict):
        rows = sum(max(1, len(items)) if isinstance(items, list) else 1
                   for groups in value.values() if isinstance(groups, dict) for items in groups.values())
        if rows > MAX_ITEMS:
            return Breach(here, _line(value), f"绩效指标有 {rows} 行，超过一张表的上限 {MAX_ITEMS} 行：请分成几张表")
    return None


def _finish(value: dict | list, here: tuple, height: dict, weight: dict) -> Breach | None:
    """Height and printed length of a container whose children are all audited."""
    children = list(value.values()) if isinstance(value, dict) else value
    below = [height.get(id(c), 0) for c in children if isinstance(c, (dict, list))]
    height[id(value)] = 1 + max(below, default=0)
    text = sum(len(k) for k in value if isinstance(k, str)) if isinstance(value, dict) else 0
    text += sum(len(c) if isinstance(c, str) else weight.get(id(c), 0) for c in children)
    weight[id(value)] = text
    if height[id(value)] > MAX_DEPTH:
        return Breach(here, _line(value), DEPTH_MESSAGE)
    if text > MAX_FORM_TEXT:
        return Breach(here, _line(value), f"文字共 {text} 字，超过一张表的上限 {MAX_FORM_TEXT} 字"
                                           "（别名 * 每用一次都算）：请精简文字或分成几张表")
    return None


def _too_long(length: int) -> str:
    return f"文字有 {length} 字，超过一格的上限 {MAX_TEXT} 字：请精简（发布的表样每格不到 1000 字）"


def _key_message(key: Any) -> str:
    if isinstance(key, (list, tuple, dict, set)):
        return "键应为文字，不能是列表或键值对（以 ? 或 [ 开头的键请加引号）"
    if key is None:
        return "有一个键是空的（冒号前没有文字）：请写出栏目名"
    shown = {True: "true", False: "false"}.get(key, key) if isinstance(key, bool) else key
    return f"键「{shown}」被读成了数字或布尔值，不是文字：请加引号，写成 \"{shown}\""


def _line(value: Any) -> int | None:
    return value.lc.line + 1 if hasattr(value, "lc") else None


def _key_line(mapping: dict, key: Any) -> int | None:
    try:
        return mapping.lc.key(key)[0] + 1
    except (AttributeError, KeyError, TypeError):
        return _line(mapping)
