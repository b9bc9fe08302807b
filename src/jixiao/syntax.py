"""YAML and JSON text → data with the line of every key, or one Chinese :class:`InputError` saying why not.

Lines come from ruamel.yaml's round-trip loader, which remembers where every key stands; it is pure
Python (about 90 ms for a 22-form file), so a file is first read by a C parser (:mod:`json`; libyaml
through PyYAML, 5 ms) and the round-trip reader runs only when a problem needs a line
(:class:`PlainData`). The C reading of YAML is taken only for texts on which both readers give the same
data: the YAML 1.2 core schema as the round-trip reader resolves it, and anything else (anchors,
aliases, tags, directives, tabs, duplicate keys, number forms like ``0x1F`` or ``1_000``, deep nesting)
goes to the round-trip reader, which also gives every syntax error its Chinese message. JSON is
checked with :mod:`json` first, for its clearer syntax errors and its duplicate keys. Floats and
timestamps are kept as the text typed (``0.00`` prints as ``0.00``), and so are integer literals of more
than :data:`~jixiao.limits.MAX_INT_DIGITS` digits, which Python would refuse to convert.

Nesting is bounded without recursion: the scanner stops tracking keys below
:data:`~jixiao.limits.MAX_DEPTH` flow levels (tracking them costs time quadratic in the depth), and the
parser hands the composer a :class:`~jixiao.limits.TooDeep` marker in place of any deeper node, so the
composer never recurses past the limit and only the form holding the marker fails.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import yaml as libyaml
from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, ScalarEvent
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import RoundTripScanner
from ruamel.yaml.tag import Tag

from .errors import InputError

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml: every YAML text goes to the round-trip reader
    CParser = None
from .limits import MAX_DEPTH, MAX_INT_DIGITS, TooDeep

_TOO_DEEP_TAG = "tag:jixiao,2026:too-deep"


class _Constructor(RoundTripConstructor):
    """Keep floats, timestamps and over-long integers as the text typed: they are printed, not computed."""

    def construct_long_int(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_INT_DIGITS:
            return self.construct_yaml_str(node)
        return RoundTripConstructor.construct_yaml_int(self, node)


_Constructor.add_constructor("tag:yaml.org,2002:float", RoundTripConstructor.construct_yaml_str)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_long_int)
_Constructor.add_constructor(_TOO_DEEP_TAG, lambda self, node: TooDeep(node.start_mark.line + 1))


class _Scanner(RoundTripScanner):
    """Track possible keys only down to the depth limit; deeper content is cut off by the parser anyway."""

    def save_possible_simple_key(self) -> None:
        if self.flow_level <= MAX_DEPTH + 1:
            super().save_possible_simple_key()


class _Parser(RoundTripParser):
    """Replace every node nested deeper than the limit by one :class:`TooDeep` scalar."""

    _depth = 0

    def _next(self) -> None:
        if self.current_event is not None or not self.state:
            return
        event = self.state()
        if isinstance(event, CollectionStartEvent):
            if self._depth >= MAX_DEPTH:
                event = self._skip(event)
            else:
                self._depth += 1
        elif isinstance(event, CollectionEndEvent):
            self._depth -= 1
        self.current_event = event

    def _skip(self, start: CollectionStartEvent) -> ScalarEvent:
        nested, event = 1, start
        while nested:
            event = self.state()
            nested += isinstance(event, CollectionStartEvent) - isinstance(event, CollectionEndEvent)
        return ScalarEvent(None, Tag(suffix=_TOO_DEEP_TAG), (False, False), "", start.start_mark, event.end_mark)

    def check_event(self, *choices: Any) -> bool:
        self._next()
        return super().check_event(*choices)

    def peek_event(self) -> Any:
        self._next()
        return super().peek_event()

    def get_event(self) -> Any:
        self._next()
        return super().get_event()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor, yaml.Scanner, yaml.Parser = _Constructor, _Scanner, _Parser
    yaml.allow_duplicate_keys = False
    return yaml


class PlainData(dict):
    """A file's top-level mapping read by a C parser; :meth:`tree` gives the same data with lines.

    The round-trip reader that knows every key's line costs about 4 ms a form on YAML and 20 ms on
    flow-style JSON, twenty to a hundred times the C parsers; lines are needed only to explain a
    problem, so it runs then, once.
    """

    def __init__(self, data: dict, text: str):
        super().__init__(data)
        self._text, self._tree = text, None

    def tree(self) -> Any:
        """The same data read with the line of every key (``None`` if YAML cannot read this JSON)."""
        if self._tree is None:
            try:
                self._tree = _load(self._text)
            except Exception:  # noqa: BLE001  (valid JSON that YAML rejects, tabs; a ruamel bug): no lines
                self._tree = False
        return self._tree or None


def parse(path: Path, text: str) -> Any:
    """The data of a YAML or JSON file (by suffix); a syntax error is an :class:`InputError` in Chinese.

    A mapping read by a C parser comes back as :class:`PlainData` (lines on demand); the rest comes back
    from the round-trip reader with its lines.
    """
    if path.suffix.lower() == ".json":
        plain = _parse_json(path, text)
        if isinstance(plain, dict):
            return PlainData(plain, text)
        try:
            return _load(text)  # same data, with line numbers
        except Exception:  # noqa: BLE001  (valid JSON that YAML rejects, tabs): no line numbers, same data
            return plain
    plain = _fast_yaml(text)
    if plain is not None:
        return PlainData(plain, text)
    try:
        return _load(text)
    except DuplicateKeyError as error:
        raise InputError.at("同一层级里有重复的键：每个键只能写一次", path, _line(error.problem_mark)) from None
    except ReaderError as error:
        line = text[: error.position].count("\n") + 1 if isinstance(error.position, int) else None
        raise InputError.at(f"文件含有不能出现在 YAML 中的控制字符 U+{_code(error.character):04X}：请删除该字符",
                            path, line) from None
    except MarkedYAMLError as error:
        raise InputError.at(_yaml_message(error), path,
                            _line(error.problem_mark) or _line(error.context_mark)) from None
    except YAMLError:
        raise InputError.at("YAML 语法错误：无法解析。请检查缩进、冒号后的空格、括号和引号是否成对", path) from None
    except (ValueError, TypeError, KeyError):  # a tag's constructor refused its value: !!int abc
        raise InputError.at("YAML 中以 !! 开头的标签与它的值不符（如 !!int abc）：请删除标签", path) from None
    except (NotImplementedError, AssertionError, IndexError, AttributeError):  # ruamel.yaml's own failures
        raise InputError.at("YAML 读取程序无法读取这个文件（常见原因：冒号或“- ”后面写了注释，值却在下一行）："
                            "请把注释移到单独一行，或给这里的文字加引号", path) from None


def _load(text: str) -> Any:
    with warnings.catch_warnings():  # ruamel.yaml warns in English (a reused anchor): the data is what counts
        warnings.simplefilter("ignore")
        return _yaml().load(text)


# ── YAML read by libyaml, where it gives what the round-trip reader gives ───────────────────────────

# Texts left to the round-trip reader: tabs, directives, merge keys, characters YAML does not allow, and
# where the two read a text differently: NEL/LS/PS line breaks and a BOM past the start (libyaml takes
# them as line starts), and a ':' right after a quote or bracket in flow style.
_NOT_PLAIN = re.compile(r"\t|^%|<<|[^\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                        r"\U00010000-\U0010ffff]|['\"\[{,\s]:[^ \r\n]", re.M)
# Plain scalars as the round-trip reader resolves them (YAML 1.2 core); floats and timestamps stay text
# in both readers. First, number-like forms the readers may read differently: leading zeros,
# 0x/0o/0b, 1_000, -_1, 1:30, and the value and merge keys = and <<.
_OTHER = re.compile(r"[-+]?0[0-9_bxo]|[-+]?[0-9][0-9_]*[_:]|[-+]_|=$|<<$")
# A block scalar's header as both read it, and its leading lines (blank, or spaces only).
_BLOCK_HEAD = re.compile(r"[|>][-+0-9]*(?:[ ]+(?:#[^\r\n]*)?)?(?:\r\n|\r|\n)")
_FIRST_SPACES = re.compile(r"[ ]*")
_LEADING = re.compile(r"(?:[ ]*(?:\r\n|\r|\n))*[ ]*")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"~", "null", "Null", "NULL", ""}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)$")
_NO_KEY = object()


class _NotPlain(Exception):
    """This text is the round-trip reader's (an anchor, a tag, a duplicate key, deep nesting, …)."""


def _fast_yaml(text: str) -> dict | None:
    """The data of a YAML text read by libyaml, or None when the round-trip reader must read it.

    libyaml gives the events; the data is built from them here, without recursion (libyaml's own
    composer recurses: a text nested 100,000 deep crashes it) and stopping at the depth limit.
    """
    if CParser is None or _NOT_PLAIN.search(text):
        return None
    parser = CParser(text)
    try:
        data = _compose(parser, text)
    except (libyaml.YAMLError, _NotPlain):
        return None
    finally:
        parser.dispose()
    return data if isinstance(data, dict) else None


def _compose(parser: Any, text: str) -> Any:
    root: Any = _NO_KEY
    stack: list[list] = []  # [container, the key waiting for its value (mappings)]
    documents = 0

    def add(value: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        top = stack[-1]
        if isinstance(top[0], list):
            top[0].append(value)
        elif top[1] is _NO_KEY:
            if isinstance(value, (dict, list)) or value in top[0]:
                raise _NotPlain  # a key that is a collection, or a duplicate key
            top[1] = value
        else:
            top[0][top[1]] = value
            top[1] = _NO_KEY

    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is libyaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _NotPlain
            if event.style in ("|", ">") and not _block_as_both_read_it(text, event.start_mark.index):
                raise _NotPlain
            add(_scalar(event.value) if event.style == "" else event.value)
        elif kind is libyaml.MappingStartEvent or kind is libyaml.SequenceStartEvent:
            if (event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH - 1
                    or (not stack and kind is libyaml.SequenceStartEvent)):
                raise _NotPlain  # … or a list at the top, which is an error: the round-trip reader says it
            container: Any = {} if kind is libyaml.MappingStartEvent else []
            add(container)
            stack.append([container, _NO_KEY])
        elif kind is libyaml.MappingEndEvent or kind is libyaml.SequenceEndEvent:
            stack.pop()
        elif kind is libyaml.DocumentStartEvent:
            documents += 1
            if documents > 1 or event.explicit or event.version or event.tags:
                raise _NotPlain
        elif kind is libyaml.AliasEvent or (kind is libyaml.DocumentEndEvent and event.explicit):
            raise _NotPlain  # an alias; '...' (twice, the round-trip reader sees a second document)
        elif kind is libyaml.StreamEndEvent:
            return None if root is _NO_KEY else root


def _block_as_both_read_it(text: str, start: int) -> bool:
    """Whether a block scalar (``|``/``>``) starting at ``start`` is one both readers read alike: its
    header ends its line (``|#c`` is an error to the round-trip reader), and no leading blank line is
    indented less than the lines after it (the round-trip reader refuses "more indented" follow-ups)."""
    head = _BLOCK_HEAD.match(text, start)
    if head is None:
        return False
    first = len(_FIRST_SPACES.match(text, head.end()).group())
    if first == 0 or text[head.end() + first:head.end() + first + 1] not in ("\n", "\r"):
        return True  # no leading blank line, or an empty one
    leading = _LEADING.match(text, head.end()).group()
    return max(len(spaces) for spaces in re.findall(r"[ ]+", leading)) <= first


def _scalar(value: str) -> Any:
    """A plain scalar's value, as the round-trip reader resolves it (else :class:`_NotPlain`)."""
    if _OTHER.match(value):
        raise _NotPlain
    if value in _BOOL:
        return _BOOL[value]
    if value in _NULL:
        return None
    if _INT.match(value):
        return int(value) if len(value) <= MAX_INT_DIGITS else value
    return value


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _json_int(digits: str) -> int | str:
    return int(digits) if len(digits) <= MAX_INT_DIGITS else digits


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text, parse_float=str, parse_int=_json_int, parse_constant=str,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as error:
        meaning = next((zh for en, zh in _JSON_ERRORS.items() if error.msg.startswith(en)), "无法解析此处的内容")
        raise InputError.at(f"JSON 语法错误（第 {error.colno} 列）：{meaning}", path, error.lineno) from None
    except _DuplicateKey as duplicate:
        raise InputError.at(f"同一层级里有重复的键「{duplicate.key}」：每个键只能写一次", path,
                            _duplicate_line(text)) from None
    except RecursionError:
        return None  # nested past Python's limit: the YAML reader below cuts it off at the depth limit


def _duplicate_line(text: str) -> int | None:
    try:
        _load(text)
    except DuplicateKeyError as error:
        return _line(error.problem_mark)
    except Exception:  # noqa: BLE001  (any other failure: the duplicate is reported without its line)
        pass
    return None


_JSON_ERRORS = {
    "Expecting property name enclosed in double quotes": "键名应写在双引号里（或最后一项后多了逗号）",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "键名后缺少冒号",
    "Expecting value": "缺少值（或多了逗号）",
    "Unterminated string": "字符串缺少结尾的双引号",
    "Invalid control character": "字符串里有未转义的控制字符（换行请写成 \\n）",
    "Invalid \\escape": "字符串里的反斜杠转义无效（反斜杠本身请写成 \\\\）",
    "Invalid \\uXXXX escape": "\\u 后应为 4 位十六进制数字",
    "Extra data": "JSON 结束后还有多余的内容",
    "Illegal trailing comma": "最后一项后多了逗号",
}

# ruamel.yaml's problem or context text → what it means for someone writing a form, in Chinese.
_YAML_ERRORS = [
    (r"found unexpected end of stream|<stream end>", "文件意外结束：引号或括号没有成对"),
    (r"found character '\\t'", "这里有制表符（Tab）：YAML 只能用空格缩进，请把 Tab 换成空格"),
    (r"found character .* that cannot start any token",
     "这个字符不能出现在值的开头（以 @、`、% 等开头的文字请加引号）"),
    (r"found undefined alias", "别名 * 没有对应的锚点 &（以 * 开头的文字请加引号）"),
    (r"found duplicate anchor", "锚点 & 的名字重复了"),
    (r"found unknown escape character|expected escape sequence",
     "双引号里的反斜杠转义无效：文字中的 \\ 请写成 \\\\，或改用单引号"),
    (r"mapping values are not allowed here",
     "这里不能出现“冒号加空格”：文字里有冒号时请给整段文字加引号，或检查缩进"),
    (r"could not find expected ':'|while scanning a simple key", "缺少冒号：键和值之间要写“: ”（冒号后有空格）"),
    (r"expected ',' or '\]'", "列表 [ … ] 里缺少逗号或右方括号 ]"),
    (r"expected ',' or '}'", "键值对 { … } 里缺少逗号或右花括号 }"),
    (r"sequence entries are not allowed here", "这里不能出现列表项“- ”：请检查缩进"),
    (r"mapping keys are not allowed here", "这里不能出现“? ”：以 ? 开头的文字请加引号，或检查缩进"),
    (r"expected <block end>|did not find expected key|expected the node content|while parsing a block",
     "缩进不一致：同一层的栏目应左对齐，下一层多缩进两个空格"),
    (r"document|directive", "文件里只能有一个 YAML 文档：请删除 --- 分隔线或以 % 开头的行"),
    (r"tag", "无效的标签：以 ! 开头的文字请加引号"),
    (r"block scalar|indentation indicator|chomping",
     "多行文字（| 或 >）的写法有误：| 后换行，文字比键多缩进两个空格"),
    (r"unhashable key", "键应为文字，不能是列表或键值对"),
    (r"quoted scalar", "引号没有成对"),
]


def _yaml_message(error: MarkedYAMLError) -> str:
    said = f"{error.problem or ''} {error.context or ''}"
    meaning = next((zh for pattern, zh in _YAML_ERRORS if re.search(pattern, said)), None)
    started = ""
    if error.context_mark and error.problem_mark and error.context_mark.line != error.problem_mark.line:
        started = f"（问题始于第 {error.context_mark.line + 1} 行）"
    return f"YAML 语法错误：{meaning or '无法解析这里的内容。请检查缩进、冒号后的空格、括号和引号是否成对'}{started}"


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _code(character: Any) -> int:
    return ord(character) if isinstance(character, str) and len(character) == 1 else int(character or 0)
