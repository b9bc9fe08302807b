"""The combined documents of one input file, ready to publish, assembled from each form's output.

In: :class:`~jixiao.render.FormOutput` of every form (possibly a generator), a :class:`Cover`. Out:
one file per format, written atomically:

- PDF: a cover and a table of contents (``templates/cover.html.j2``, printed by WeasyPrint), then every
  form's own PDF pages joined with pikepdf: no form is laid out again, each keeps its own page numbers
  ("第 x 页，共 y 页" of that form), fonts are embedded once (:mod:`jixiao.writers.fontmerge`), and
  there is one bookmark per form (plus the cover and the contents).
- DOCX: the cover and the contents read back from the same template's HTML, then each form in its
  own section, numbering its own pages; each contents line links to its form's title.
- XLSX: an index sheet listing the forms, each a link to its sheet, then a sheet per form.
- HTML: the forms' sections in one page.

Memory: the PDF keeps only the joined pages' content streams and the merged fonts' glyphs, not the
forms' PDFs; the DOCX keeps the grids, names and page counts and writes the forms' XML into the file a
form at a time; the XLSX needs the grids only (they are small).
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import lxml.html
from markupsafe import Markup

from . import layout
from .errors import OutputError
from .loader import FormFile
from .output import atomic_file, write_atomic
from .render import NO_FORMS, FormOutput

COVER_TEMPLATE = "cover.html.j2"


@dataclass(frozen=True)
class Cover:
    """The cover of a combined document."""

    title: str      # 公共.封面标题, else the input file's stem
    unit: str = ""  # the unit or department the forms belong to; may be empty
    date: str = ""  # e.g. "2026年11月"; may be empty


def cover_for(form_file: FormFile, today: datetime.date | None = None) -> Cover:
    """The cover of a file's combined documents: 公共.封面标题 (else the file's name), the unit every
    form names (主管部门 of a project form, 部门名称 of a department form; empty when they differ) and
    this month."""
    units = {getattr(loaded.form, "department", None) or loaded.form.name for loaded in form_file.forms}
    today = today or datetime.date.today()
    return Cover(form_file.cover_title or form_file.path.stem, units.pop() if len(units) == 1 else "",
                 f"{today.year}年{today.month}月")


@dataclass(frozen=True)
class Entry:
    """A line of the table of contents."""

    number: int
    name: str
    page: int       # 1-based page of the form's first page in the combined document


def write_combined(parts: Iterable[FormOutput], fmt: str, cover: Cover, path: Path,
                   templates: Path | None = None) -> None:
    """Write the combined ``fmt`` document of the forms in ``parts`` (in order) to ``path``."""
    if fmt == "pdf":
        _write_pdf(parts, cover, path, templates)
        return
    if fmt == "docx":
        _write_docx(parts, cover, path, templates)
        return
    if fmt not in ("xlsx", "html"):
        raise OutputError.at(f"不支持的格式「{fmt}」")
    parts = iter(parts)
    first = next(parts, None)
    if first is None:
        raise OutputError.at(NO_FORMS)
    parts = itertools.chain([first], parts)
    if fmt == "xlsx":
        from .writers import xlsx  # imported here: the batch's client needs cover_for() only

        # a form at a time: the workbook never holds every form's grid
        data = xlsx.write_named(((part.name, part.grid) for part in parts), index=cover.title)
    else:
        data = _joined_html(list(parts), cover.title, templates)
    write_atomic(path, data)


def front_html(cover: Cover, entries: list[Entry], templates: Path | None = None) -> str:
    """The HTML of the cover and the contents (``templates/cover.html.j2``, overridable)."""
    return layout.render_template(COVER_TEMPLATE, templates, cover=cover, entries=entries)


def _write_pdf(parts: Iterable[FormOutput], cover: Cover, path: Path, templates: Path | None) -> None:
    import pikepdf

    from .writers.pdfjoin import Joiner, Mark

    joiner = Joiner()
    names, counts = [], []
    try:
        for part in parts:
            try:
                counts.append(joiner.add(part.files["pdf"], part.name))
            except pikepdf.PdfError as error:  # a damaged PDF of one form: say which
                raise OutputError.at(f"无法合并第 {len(names) + 1} 张表「{part.name}」的 PDF：{error}", path) from None
            names.append(part.name)
        if not names:
            raise OutputError.at(NO_FORMS)
        front, front_pages = _front_pdf(front_html(cover, _entries(names, counts), templates))
        joiner.prepend(front, [Mark(cover.title, 0), Mark("目录", 1 if front_pages > 1 else 0)])
        joiner.label_pages(front_pages)
    except BaseException:
        joiner.close()
        raise
    joiner.save(path, cover.title)


def _write_docx(parts: Iterable[FormOutput], cover: Cover, path: Path, templates: Path | None) -> None:
    """The contents need every form's name and pages first; then the writer streams the forms from their
    grids into the file. Only the grids, names and page counts are kept, not each form's own DOCX."""
    from .writers import docx

    names, grids, pages = [], [], []
    for part in parts:
        names.append(part.name)
        grids.append(part.grid)
        pages.append(part.pages)
    if not names:
        raise OutputError.at(NO_FORMS)
    front = docx.Front.read(front_html(cover, _entries(names, pages), templates))
    with atomic_file(path) as temporary:
        docx.write_to(temporary, grids, front=front, pages=pages)


@lru_cache(maxsize=16)
def _front_pdf(html: str) -> tuple[bytes, int]:
    """The cover and contents printed, and their pages. Remembered by their HTML: in a process that stays
    up (jixiao serve), a re-run whose forms kept their names and page counts prints the same front."""
    from .writers import pdf

    front = pdf.lay_out(html, continue_cells=False)
    return front.write_pdf(), len(front.pages)


def _entries(names: list[str], counts: list[int]) -> list[Entry]:
    """The contents: each form's first page, counting the form pages from 1 after the cover and contents.

    The forms' pages carry the page labels 1, 2, … in the PDF (cover and contents: i, ii, …), so a
    viewer's page box shows the number the contents give; the front's length never moves a number.
    A form without a PDF (DOCX only) counts one page.
    """
    entries, page = [], 1
    for number, (name, count) in enumerate(zip(names, counts, strict=True), start=1):
        entries.append(Entry(number, name, page))
        page += max(count, 1)
    return entries


def _joined_html(forms: list[FormOutput], title: str, templates: Path | None) -> bytes:
    sections = []
    for form in forms:
        root = lxml.html.document_fromstring(form.files["html"].decode("utf-8"))
        sections += [Markup(lxml.html.tostring(s, encoding="unicode")) for s in root.find_class("form")]
    return layout.render_document(sections, title, templates).encode("utf-8")
