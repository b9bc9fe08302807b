"""TEMPORARY adapter: the engine contract (CONTRACT-7.md) over today's render.document()/to_bytes().

Deleted once issue7-engine's render.render_form / write_combined / cover_for land.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import lxml.html
from markupsafe import Markup

from . import grid, layout
from .output import write_atomic
from .render import document, to_bytes
from .writers import docx, xlsx


@dataclass(frozen=True)
class FormOutput:
    name: str
    files: dict[str, bytes]
    grid: grid.FormGrid
    pages: int


@dataclass(frozen=True)
class Cover:
    title: str
    unit: str
    date: str


def render_form(form, formats: Sequence[str], templates: Path | None = None) -> FormOutput:
    section = layout.render_section(form, templates)
    doc = document(form, templates, sections=[section])
    files = {fmt: to_bytes(doc, fmt) for fmt in formats}
    pages = files["pdf"].count(b"/Type /Page\n") if "pdf" in files else 0
    return FormOutput(form.display_name, files, doc.grids[0], pages)


def cover_for(form_file) -> Cover:
    units = {getattr(lf.form, "department", None) or lf.form.display_name for lf in form_file.forms}
    return Cover(form_file.path.stem, units.pop() if len(units) == 1 else "",
                 datetime.date.today().strftime("%Y年%m月"))


def write_combined(parts: Iterable[FormOutput], fmt: str, cover: Cover, path: Path) -> None:
    parts = list(parts)
    grids = [p.grid for p in parts]
    if fmt == "docx":
        data = docx.write(grids)
    elif fmt == "xlsx":
        data = xlsx.write(grids, [p.name for p in parts])
    elif fmt == "html":
        sections = [Markup(lxml.html.tostring(lxml.html.document_fromstring(p.files["html"].decode())
                                              .find_class("form")[0], encoding="unicode")) for p in parts]
        data = layout.render_document(sections, cover.title).encode("utf-8")
    else:
        from pypdf import PdfReader, PdfWriter
        writer = PdfWriter()
        for p in parts:
            start = len(writer.pages)
            writer.append(PdfReader(io.BytesIO(p.files["pdf"])), import_outline=False)
            writer.add_outline_item(p.name, start)
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
    write_atomic(path, data)
