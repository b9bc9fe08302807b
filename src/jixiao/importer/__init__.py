"""``jixiao import``: read existing forms (XLSX, DOCX, PDF, extracted text) back into input data.

    FILE ──sources──▶ rows of cells ──recognize──▶ form dicts ──emit──▶ one YAML/JSON input file

Each form found is checked against the model (so the file it writes renders), and every cell that could
not be placed is reported with where it was: nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..errors import InputError
from ..loader import explain
from ..model import FORM_CLASSES, AnyForm
from . import sources
from .recognize import recognize, to_input

SUFFIXES = sources.SUFFIXES


@dataclass
class Imported:
    """What an import found: the forms as input data, their models, and warnings."""

    forms: list[dict] = field(default_factory=list)
    models: list[AnyForm | None] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_file(path: str | Path, into: Imported | None = None) -> Imported:
    """Read every form of one file; raises :class:`InputError` if the file holds none or is unreadable."""
    path = Path(path)
    result = into or Imported()
    found = recognize(sources.read(path))
    if not found.forms:
        raise InputError.at("没有找到绩效目标表：文件中没有“项目名称”或“部门名称”等表格栏目", path)
    for number, form in enumerate(found.forms, start=1):
        data = to_input(form)
        result.forms.append(data)
        result.models.append(_validate(data, path, number, form.start, result.warnings))
        result.warnings += [f"{path}：{note}" for note in form.notes]
    result.warnings += [f"{path}：{cell.where}：未能识别的内容「{_short(cell.text)}」，未导入"
                        for cell in found.unplaced]
    return result


def _validate(data: dict, path: Path, number: int, start: str, warnings: list[str]) -> AnyForm | None:
    try:
        return FORM_CLASSES[data["表样"]].model_validate(data)
    except ValidationError as error:
        cls = FORM_CLASSES[data["表样"]]
        for loc, message in explain(cls, error):
            where = " › ".join(f"第{k + 1}项" if isinstance(k, int) else str(k) for k in loc)
            warnings.append(f"{path}：第 {number} 张表（始于{start}）：{where}：{message}。"
                            "导入的文件需要补充后才能生成")
        return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 30 else text[:30] + "…"
