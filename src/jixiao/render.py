"""The pipeline: forms → HTML (Jinja) → the bytes of each output format.

``document(forms)`` renders the HTML once; each writer then prints it (PDF, HTML) or reads its grid
(DOCX, XLSX), so every format of a document shows the same layout and the same merged cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel

from . import grid, layout
from .errors import OutputError
from .model import AnyForm
from .output import write_atomic
from .writers import FORMATS, WRITERS


@dataclass
class Rendered:
    """A rendered document of one or more forms."""

    html: str
    names: list[str]

    @cached_property
    def grids(self) -> list[grid.FormGrid]:
        """The forms' grids, read back from the HTML (computed once, shared by DOCX and XLSX)."""
        return grid.read(self.html)


def document(forms: AnyForm | Iterable[AnyForm], templates: Path | None = None,
             sections: list | None = None) -> Rendered:
    """Render forms into one document; ``sections`` may pass their already rendered HTML."""
    forms = [forms] if isinstance(forms, BaseModel) else list(forms)
    if not forms:
        raise OutputError.at("没有可生成的表：至少需要一张表")
    if sections is None:
        sections = [layout.render_section(form, templates) for form in forms]
    title = forms[0].heading if len(forms) == 1 else f"{forms[0].heading} 等 {len(forms)} 张表"
    html = layout.render_document(sections, title, templates)
    return Rendered(html, [form.display_name for form in forms])


def to_bytes(doc: Rendered, fmt: str) -> bytes:
    """The file content of a rendered document in one format (docx, xlsx, pdf, html)."""
    if fmt not in WRITERS:
        raise OutputError.at(f"不支持的格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    return WRITERS[fmt](doc)


def render(forms: AnyForm | Iterable[AnyForm], fmt: str, templates: Path | None = None) -> bytes:
    """Render one form, or several into one document, to the bytes of ``fmt``."""
    return to_bytes(document(forms, templates), fmt)


def render_to_path(forms: AnyForm | Iterable[AnyForm], path: str | Path, fmt: str | None = None,
                   templates: Path | None = None) -> Path:
    """Render to a file (format from the suffix unless given), written whole or not at all."""
    path = Path(path)
    data = render(forms, fmt or path.suffix.lstrip(".").lower(), templates)
    write_atomic(path, data)
    return path
