"""Write imported forms as one input file, in the samples' style: YAML (or JSON) ready to edit.

Values every form shares (主管部门, 实施周期, 表样…, and the parts of 批复 that repeat) move to 公共, as a
person would write them; each indicator is one line in flow style; long text stays on one line (a
folded YAML line would put spaces into Chinese text).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..schema import SCHEMA_FILE

SHARED_KEYS = ("表样", "标题", "年度行", "项目类型", "项目等级", "主管部门", "用款单位", "实施周期", "预算年度",
               "金额单位")
SHARED_PARTS = {"批复": ("栏目", "意见", "批复单位", "合并为一格")}


def factor(forms: list[dict]) -> dict:
    """The file's data: one form as it is, or 公共 + 表单 with the shared values moved to 公共."""
    if len(forms) == 1:
        return forms[0]
    forms = [dict(form) for form in forms]
    shared: dict = {}
    for key in SHARED_KEYS:
        if all(key in form for form in forms) and all(form[key] == forms[0][key] for form in forms):
            shared[key] = forms[0][key]
            for form in forms:
                del form[key]
    for key, parts in SHARED_PARTS.items():
        for part in parts:
            values = [form.get(key, {}).get(part) for form in forms]
            if values[0] is not None and all(v == values[0] for v in values):
                shared.setdefault(key, {})[part] = values[0]
                for form in forms:
                    form[key] = {k: v for k, v in form[key].items() if k != part}
                    if not form[key]:
                        del form[key]
    return {"公共": shared, "表单": forms} if shared else {"表单": forms}


def to_yaml(forms: list[dict], source: str = "") -> str:
    """The forms as a commented YAML input file."""
    yaml = YAML()
    yaml.width = 1_000_000
    yaml.allow_unicode = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    header = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"
    if source:
        header += f"# 由 jixiao import 从 {source} 导入，请核对后使用。\n"
    stream.write(header)
    yaml.dump(_yaml_node(factor(forms)), stream)
    return stream.getvalue()


def to_json(forms: list[dict]) -> str:
    """The forms as a JSON input file."""
    return json.dumps(_plain(factor(forms)), ensure_ascii=False, indent=2) + "\n"


def _yaml_node(value, key: str | None = None):
    if isinstance(value, dict):
        node = CommentedMap((k, _yaml_node(v, k)) for k, v in value.items())
        if "三级指标" in value or key == "实施周期":
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        return CommentedSeq(_yaml_node(v) for v in value)
    return _scalar(value)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return _scalar(value)


def _scalar(value):
    if isinstance(value, Decimal):  # amounts: a whole number stays whole, 137.34 stays 137.34
        return int(value) if value == value.to_integral_value() else float(value)
    return value
