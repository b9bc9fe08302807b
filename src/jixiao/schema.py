"""The JSON Schema of the input file, generated from the model, for editors to validate and complete.

A file is either one form or ``{公共, 表单}``. Because a form in ``表单`` may take any field from
``公共``, form schemas require nothing here (``jixiao render`` still reports a missing field with its
line); they do forbid unknown keys and check every type, which is what an editor needs.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from .model import FORM_CLASSES, Form

SCHEMA_FILE = "jixiao.schema.json"


def json_schema() -> dict[str, Any]:
    """The schema as a dict."""
    generated = TypeAdapter(Form).json_schema(by_alias=True)
    defs = generated.pop("$defs")
    forms = [{"$ref": f"#/$defs/{cls.__name__}"} for cls in FORM_CLASSES.values()]
    shared_properties: dict[str, Any] = {}
    for cls in FORM_CLASSES.values():
        definition = defs[cls.__name__]
        definition.pop("required", None)
        for key, value in definition["properties"].items():
            shared_properties.setdefault(key, value)
    shared_properties["表样"] = {"enum": list(FORM_CLASSES), "title": "表样",
                                 "description": "这张表用哪种表样"}
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
