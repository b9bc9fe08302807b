"""Read a YAML or JSON input file into validated forms, with line numbers for every error.

In: a path. Out: a :class:`FormFile` holding the forms that validated and one :class:`InputError` for
each form that did not, so a batch can render the good forms and report the bad ones. Problems with
the whole file (missing, not UTF-8, empty, a syntax error, a wrong top level) raise
:class:`InputError` at once.

A file holds either one form (its keys at the top level) or many::

    公共:            # values shared by every form below; a form's own value wins
      封面标题: ……    # only here: the title of the combined documents' cover (else the file name)
      主管部门: ……
    表单:
      - 项目名称: ……

Parsing, with the line of every key, is :mod:`jixiao.syntax`; the limits that keep hostile input from
hanging or crashing (nesting, text length, entries, file size) are :mod:`jixiao.limits`. A breach inside
one form fails that form only.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem, os_message
from .limits import MAX_FILE_BYTES, audit
from .model import FORM_CLASSES, AnyForm
from .syntax import PlainData, parse

SUFFIXES = (".yaml", ".yml", ".json")
FILE_KEYS = ("公共", "表单")
COVER_TITLE = "封面标题"  # in 公共 only: the cover of the combined documents, not a field of a form
MAX_COVER_TITLE = 100
TREE_KEY = "绩效指标"  # replaced whole by a form, never merged key by key with 公共
_SHOWN_KEYS = 8  # a field path deeper than any form's is cut short in messages


@dataclass
class LoadedForm:
    """A validated form and where it came from."""

    form: AnyForm
    index: int  # 1-based position in the file
    located: "_Located | None" = field(default=None, repr=False, compare=False)

    @property
    def line(self) -> int | None:
        """The line where the form starts (looked up when asked: see :class:`~jixiao.syntax.PlainData`)."""
        return self.located.line_of(()) if self.located else None

    def line_of(self, path: tuple) -> int | None:
        """The source line of a field path of this form (its own line when unknown)."""
        return self.located.line_of(path) if self.located else None

    def describe(self, path: tuple) -> str:
        """The field path for people: 表单第3项 › 绩效指标 › …"""
        return self.located.describe(path) if self.located else " › ".join(map(str, path))


@dataclass
class FormFile:
    """Everything read from one input file: the valid forms and one error per invalid form."""

    path: Path
    forms: list[LoadedForm] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    count: int = 0  # forms in the file, valid or not
    cover_title: str | None = None  # 公共.封面标题

    @property
    def ok(self) -> bool:
        """True when every form in the file validated."""
        return not self.errors

    def all_forms(self) -> list[AnyForm]:
        """Every form, in file order; raises one :class:`InputError` with all problems if any is bad."""
        if self.errors:
            raise InputError(*[p for error in self.errors for p in error.problems])
        return [loaded.form for loaded in self.forms]


def load(path: str | Path) -> FormFile:
    """Read and validate every form of one file. Raises :class:`InputError` if the file is unusable."""
    path = Path(path)
    return load_text(_read_text(path), path)


def load_text(text: str, path: str | Path) -> FormFile:
    """Read and validate forms from text not (yet) saved, such as an editor's; ``path`` names it in
    messages and its suffix picks YAML or JSON. Raises :class:`InputError` like :func:`load`."""
    path = Path(path)
    root = parse(path, text)
    shared, items, item_base = _split(path, root)
    result = FormFile(path=path, count=len(items), cover_title=_cover_title(path, root, shared))
    for i, item in enumerate(items, start=1):
        located = _Located(path, item, shared, item_base + ((i,) if item_base else ()), root)
        try:
            result.forms.append(LoadedForm(_validate(located), i, located))
        except InputError as error:
            result.errors.append(error)
    return result


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError.at("文件不存在，请检查路径", path)
    if not path.is_file():
        raise InputError.at("不是文件", path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError.at(f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB，jixiao 不读取：请分成几个文件", path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError.at(f"无法读取文件：{os_message(error)}", path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError.at("文件不是 UTF-8 编码（可能是 GBK）。请在编辑器中以 UTF-8 编码另存后再试",
                            path, line) from None
    if not text.strip():
        raise InputError.at("文件为空：请写入至少一张表（可用 jixiao new 生成示例）", path)
    return text


def _split(path: Path, root: Any) -> tuple[dict, list, tuple]:
    """Return (公共, the form mappings, the path prefix of a form) of a parsed file."""
    if not isinstance(root, dict):
        raise InputError.at("文件顶层应为键值对（一张表的各栏目，或 公共/表单），不是列表或单个值", path, 1)
    if "表单" not in root:
        return {}, [root], ()
    _audit(path, root, ("公共",))
    unknown = [k for k in root if k not in FILE_KEYS]
    if unknown:
        key = unknown[0]
        raise InputError.at(f"未知字段「{key}」：写了「表单」的文件顶层只能有 公共 和 表单",
                            path, _Located(path, root).line_of((key,)), str(key))
    shared, items = root.get("公共") or {}, root["表单"]
    if not isinstance(shared, dict):
        raise InputError.at("「公共」应为键值对", path, _Located(path, root).line_of(("公共",)), "公共")
    if not isinstance(items, list) or not items:
        raise InputError.at("「表单」应为列表，且至少有一张表（每张表以 - 开头）", path,
                            _Located(path, root).line_of(("表单",)), "表单")
    _check_shared_keys(path, root)
    return shared, items, ("表单",)


def _audit(path: Path, root: Any, key: tuple, located: "_Located | None" = None) -> None:
    """Refuse what breaks a limit in a form (``key`` ``()``) or in the file's ``公共``."""
    node = root.get(key[0]) if key else root
    breach = audit(node, key)
    if breach:
        located = located or _Located(path, root)
        field = located.describe(breach.loc[:_SHOWN_KEYS]) + (" › …" if len(breach.loc) > _SHOWN_KEYS else "")
        raise InputError.at(breach.message, path, breach.line or located.line_of(breach.loc), field or None)


def _cover_title(path: Path, root: Any, shared: dict) -> str | None:
    if COVER_TITLE not in shared:
        return None
    value = shared[COVER_TITLE]
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text or len(text) > MAX_COVER_TITLE:
        raise InputError.at(f"「封面标题」应为一行文字（1 至 {MAX_COVER_TITLE} 字）", path,
                            _Located(path, root).line_of(("公共", COVER_TITLE)), f"公共 › {COVER_TITLE}")
    return text


def _check_shared_keys(path: Path, root: dict) -> None:
    known = {alias for cls in FORM_CLASSES.values() for alias in _aliases(cls)} | {COVER_TITLE}
    for key in root.get("公共") or {}:
        if key not in known:
            raise InputError.at(_unknown_key_message(key, sorted(known)), path,
                                _Located(path, root).line_of(("公共", key)), f"公共 › {key}")


class _Located:
    """A form's raw mapping merged with 公共, and the source line of any field path in it."""

    def __init__(self, path: Path, item: Any, shared: dict | None = None, prefix: tuple = (),
                 root: Any = None):
        self.path, self.item, self.shared, self.prefix = path, item, shared or {}, prefix
        self.root = item if root is None else root  # the file's data: a PlainData has no lines of its own

    def merged(self, cls: type[BaseModel]) -> dict:
        """The form's data with the shared values that this kind of form accepts."""
        accepted = _aliases(cls)
        base = {k: v for k, v in self.shared.items() if k in accepted}
        return _deep_merge(base, dict(self.item))

    def line_of(self, loc: tuple) -> int | None:
        """The line of the deepest existing node on ``loc``: the form's own, else 公共's."""
        item, shared = self.item, self.shared
        if isinstance(self.root, PlainData):  # the same nodes in the tree that has lines
            tree = self.root.tree()
            if not isinstance(tree, dict):
                return None
            item = tree["表单"][self.prefix[1] - 1] if self.prefix else tree
            shared = (tree.get("公共") or {}) if self.prefix else {}
        own = _walk_lines(item, loc)
        if own[1] < len(loc) and loc and loc[0] in shared and loc[0] not in item:
            return _walk_lines(shared, loc)[0] or own[0]
        return own[0]

    def describe(self, loc: tuple) -> str:
        """A field path for people: 表单第3项 › 实施周期 › 起始年度."""
        parts = [f"表单第{self.prefix[1]}项"] if len(self.prefix) == 2 else []
        for key in loc:
            parts.append(f"第{key + 1}项" if isinstance(key, int) else str(key))
        return " › ".join(parts)


def _walk_lines(node: Any, loc: tuple) -> tuple[int | None, int]:
    """(line of the deepest node found along loc, how many keys of loc were found)."""
    line = node.lc.line + 1 if hasattr(node, "lc") else None
    for depth, key in enumerate(loc):
        if isinstance(node, dict) and key in node:
            line = _source_line(node, key, line)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            line = _source_line(node, key, line)
        else:
            return line, depth
        node = node[key]
    return line, len(loc)


def _source_line(node: Any, key: Any, default: int | None) -> int | None:
    """The line of a key or list item; a key that came from a YAML merge (<<) has none of its own."""
    try:
        where = node.lc.key(key) if isinstance(node, dict) else node.lc.item(key)
        return where[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return default


def _deep_merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        if key != TREE_KEY and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _aliases(cls: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in cls.model_fields.items()]


def _validate(located: _Located) -> AnyForm:
    raw = located.item
    _audit(located.path, raw, (), located)
    if not isinstance(raw, dict):
        raise InputError.at("每张表应为键值对（项目名称: ……），不是列表或单个值", located.path,
                            located.line_of(()), located.describe(()) or None)
    layout = raw.get("表样", located.shared.get("表样"))
    cls = FORM_CLASSES.get(layout) if isinstance(layout, str) else None
    if cls is None:
        raise InputError.at(_layout_message(layout), located.path, located.line_of(("表样",)),
                            located.describe(("表样",)))
    try:
        return cls.model_validate(located.merged(cls))
    except ValidationError as error:
        raise InputError(*[Problem(message, str(located.path), located.line_of(loc), located.describe(loc) or None)
                           for loc, message in explain(cls, error)]) from None


def explain(cls: type[BaseModel], error: ValidationError) -> list[tuple[tuple, str]]:
    """(field path, Chinese message) of each problem of a failed validation of ``cls``."""
    located = [(tuple(k for k in e["loc"] if k != "[key]"), e) for e in _explained(cls, error)]
    return [(loc, _message(cls, e, loc)) for loc, e in located]


def _explained(cls: type[BaseModel], error: ValidationError) -> list[dict]:
    """Errors to report: an unknown key first, and not the missing key it is a misspelling of."""
    errors = error.errors(include_url=False)
    misspelt = set()
    for e in errors:
        if e["type"] == "extra_forbidden":
            loc = e["loc"]
            hint = _closest(loc[-1], _fields_at(cls, loc[:-1]))
            if hint:
                misspelt.add(loc[:-1] + (hint,))
    kept = [e for e in errors if not (e["type"] == "missing" and e["loc"] in misspelt)]
    return sorted(kept, key=lambda e: e["type"] != "extra_forbidden")


def _layout_message(layout: Any) -> str:
    choices = "、".join(FORM_CLASSES)
    if layout is None:
        return f"缺少「表样」：请写明这张表的表样（可写在 公共 里），可选：{choices}"
    if not isinstance(layout, str):
        return f"「表样」应为文字，收到 {_show(layout)}。可选：{choices}"
    hint = difflib.get_close_matches(layout, list(FORM_CLASSES), n=1, cutoff=0.3)
    also = f"。是否想写「{hint[0]}」？" if hint else ""
    return f"未知的表样「{_show(layout)[1:-1]}」{also}可选：{choices}"


def _message(cls: type[BaseModel], error: dict, loc: tuple) -> str:
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"缺少必填字段「{name}」"
    if kind == "extra_forbidden":
        if name == "批复":
            return "这种表样没有批复栏：要打印批复意见，请把「表样」改为对应的批复表（…批复表）"
        return _unknown_key_message(name, _fields_at(cls, loc[:-1]))
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    template = _MESSAGES.get(kind)
    if template:
        return template.format(given=_show(given), choices=_choices(ctx.get("expected", "")),
                               **{k: _show(v) for k, v in ctx.items()})
    return f"输入有误，收到 {_show(given)}"


_MESSAGES = {
    "int_parsing": "应为整数（如年份 2024），收到 {given}",
    "int_parsing_size": "应为整数（如年份 2024），收到 {given}",
    "int_type": "应为整数（如年份 2024），收到 {given}",
    "int_from_float": "应为整数（如年份 2024），收到 {given}",
    "decimal_parsing": "应为数字金额（如 517200、137.34 或 1,172.47，不写单位），收到 {given}",
    "decimal_type": "应为数字金额（如 517200 或 137.34），收到 {given}",
    "finite_number": "应为有限的数字金额，收到 {given}",
    "string_type": "应为文本，收到 {given}",
    "bool_parsing": "应为 true 或 false，收到 {given}",
    "bool_type": "应为 true 或 false，收到 {given}",
    "literal_error": "应为 {choices} 之一，收到 {given}",
    "string_unicode": "含有无效的 Unicode 字符（单独的代理项，如 \\udfff）：请删除该字符",
    "string_too_long": "文字太长，收到 {given}",
    "greater_than_equal": "应不小于 {ge}，收到 {given}",
    "less_than_equal": "应不大于 {le}，收到 {given}",
    "dict_type": "应为键值对（冒号分隔的栏目），收到 {given}",
    "model_type": "应为键值对（冒号分隔的栏目），收到 {given}",
    "model_attributes_type": "应为键值对（冒号分隔的栏目），收到 {given}",
    "list_type": "应为列表（每项以 - 开头），收到 {given}",
}


def _choices(expected: str) -> str:
    """pydantic's ``'元', '万元' or ''`` as “元”、“万元”、“”."""
    items = [item.strip().strip("'\"") for item in re.split(r",| or ", str(expected)) if item.strip()]
    return "、".join(f"“{item}”" for item in items)


def _show(value: Any) -> str:
    """A value as the user wrote it, briefly; never a Python repr."""
    if isinstance(value, dict):
        return "键值对"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "列表"
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (str, int, float, Decimal)):
        return "无法识别的值"
    text = str(value)
    return f"“{text[:40]}…”" if len(text) > 40 else f"“{text}”"


def _fields_at(cls: type[BaseModel], loc: tuple) -> list[str]:
    """The keys valid at ``loc`` inside ``cls`` (for suggestions); [] when it cannot tell."""
    model: type[BaseModel] | None = cls
    for key in loc:
        fields = {f.alias or n: f for n, f in model.model_fields.items()} if model else {}
        if key in fields:  # else a list index or a key of an indicator tree: the model stays
            model = _model_in(fields[key].annotation)
    return _aliases(model) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found:
            return found
    return None


def _closest(key: object, valid: list[str]) -> str | None:
    """The valid key the user most likely meant, if any is close."""
    hint = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.4)
    return hint[0] if hint else None


def _unknown_key_message(key: str, valid: list[str]) -> str:
    hint = _closest(key, valid)
    if hint:
        return f"未知字段「{key}」：是否想写「{hint}」？"
    listed = "、".join(valid[:12]) if valid else ""
    return f"未知字段「{key}」" + (f"。此处可写：{listed}" if listed else "")
