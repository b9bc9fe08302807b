"""The pipeline: forms → HTML (Jinja) → the bytes of each output format.

``document(forms)`` renders the HTML once; each writer then prints it (PDF, HTML) or reads its grid
(DOCX, XLSX), so every format of a document shows the same layout and the same merged cells.

``render_form(form, formats)`` is the unit of a batch: one form laid out once (HTML once, grid once,
one WeasyPrint layout), every requested format's bytes, its grid and its page count, all picklable so
a worker process or a dask worker can send it back. :mod:`jixiao.publish` assembles the combined
documents from these results without laying a form out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable, Sequence

from pydantic import BaseModel

from . import grid, layout
from .errors import OutputError
from .model import AnyForm
from .output import write_atomic
from .writers import FORMATS, WRITERS

NO_FORMS = "没有可生成的表：至少需要一张表"


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
        raise OutputError.at(NO_FORMS)
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


@dataclass(frozen=True)
class FormOutput:
    """What one form gives a batch: its file in each format, its grid and its page count (picklable)."""

    name: str                    # display name: bookmark, contents line, sheet name
    files: dict[str, bytes]      # the per-form file of each requested format
    grid: grid.FormGrid          # for the combined DOCX and XLSX (no second layout)
    pages: int                   # pages of its PDF; 0 when PDF was not requested


def render_form(form: AnyForm, formats: Sequence[str], templates: Path | None = None) -> FormOutput:
    """Lay one form out once and write it in every format of ``formats``.

    HTML is rendered once, the grid read once (shared by DOCX and XLSX) and the PDF laid out once
    (again only when a merged cell crosses a page break); the PDF numbers the form's own pages.
    Raises :class:`~jixiao.errors.JixiaoError` (e.g. a template error) for this form only.
    """
    for fmt in formats:
        if fmt not in WRITERS:
            raise OutputError.at(f"不支持的格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    doc = document(form, templates)
    files, pages = {}, 0
    if "pdf" in formats:  # first: the DOCX footer caches the PDF's page count
        from .writers import pdf  # WeasyPrint only when a PDF is asked for

        laid_out = pdf.lay_out(doc.html)
        files["pdf"], pages = laid_out.write_pdf(), len(laid_out.pages)
    for fmt in formats:
        if fmt == "docx":
            from .writers import docx

            files[fmt] = docx.write(doc.grids, pages=[pages])
        elif fmt != "pdf":
            files[fmt] = WRITERS[fmt](doc)
    return FormOutput(form.display_name, {fmt: files[fmt] for fmt in formats}, doc.grids[0], pages)
