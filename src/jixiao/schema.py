"""The JSON Schema of the input file, generated from the model, for editors to validate and complete.

A file is either one form or ``{公共, 表单}``. Because a form in ``表单`` may take any field from
``公共`` (nested ones too, such as 批复.意见), the form schemas require nothing but the fields of an
indicator or a key task (``jixiao render`` still reports a missing field with its line); they do
forbid unknown keys and check every type, which is what an editor needs.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from .model import FORM_CLASSES, DepartmentIndicator, Form, KeyTask, ProjectIndicator

SCHEMA_FILE = "jixiao.schema.json"
# Items of lists and indicator trees: a form writes them whole, never merged with 公共.
NEVER_MERGED = {ProjectIndicator.__name__, DepartmentIndicator.__name__, KeyTask.__name__}


def json_schema() -> dict[str, Any]:
    """The schema as a dict."""
    generated = TypeAdapter(Form).json_schema(by_alias=True)
    defs = generated.pop("$defs")
    forms = [{"$ref": f"#/$defs/{cls.__name__}"} for cls in FORM_CLASSES.values()]
    for name, definition in defs.items():
        if name not in NEVER_MERGED:  # 公共 may give any of these fields
            definition.pop("required", None)
    shared_properties: dict[str, Any] = {}
    for cls in FORM_CLASSES.values():
        for key, value in defs[cls.__name__]["properties"].items():
            known = shared_properties.setdefault(key, value)
            if known != value:  # a field typed differently by layouts (其他需完成的任务): either will do
                choices = known["anyOf"] if "anyOf" in known and "title" not in known else [known]
                if value not in choices:
                    shared_properties[key] = {"anyOf": [*choices, value]}
    shared_properties["表样"] = {"enum": list(FORM_CLASSES), "title": "表样",
                                 "description": "这张表用哪种表样"}
    shared_properties["封面标题"] = {"type": "string", "minLength": 1, "maxLength": 100, "title": "封面标题",
                                   "description": "合并文件（PDF、DOCX、XLSX 目录页）封面上的标题；不写则用文件名"}
    defs["文件"] = {
        "type": "object",
        "title": "多张表",
        "properties": {
            "公共": {"type": "object", "title": "公共", "description": "各张表共用的栏目；表内再写则以表内为准",
                     "properties": shared_properties, "additionalProperties": False},
            "表单": {"type": "array", "title": "表单", "minItems": 1, "items": {"anyOf": forms}},
        },
        "required": ["表单"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "jixiao 绩效目标输入文件",
        "description": "一张表（各栏目写在顶层），或多张表（公共 + 表单）。键名即表上印的栏目名。",
        "anyOf": [{"$ref": "#/$defs/文件"}, *forms],
        "$defs": defs,
    }


def schema_text() -> str:
    """The schema as JSON text, as ``jixiao schema`` prints it."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
