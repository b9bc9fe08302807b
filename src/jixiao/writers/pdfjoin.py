"""Join per-form PDFs into one file with pikepdf (qpdf): no second layout, bounded memory, bookmarks.

Pages are copied from each form's PDF as it arrives; their content streams are copied into the joined
file at once, so the form's PDF can be closed and forgotten (a generator of 1,000 forms never has more
than one form's PDF open). Fonts are handled by :mod:`jixiao.writers.fontmerge`: every form embeds its
own subset of the same fonts, and the joined file gets one font object per font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from ..output import atomic_file
from .fontmerge import FontMerger


@dataclass(frozen=True)
class Mark:
    """A bookmark: its title and the 0-based index of the page it points at."""

    title: str
    page: int


class Joiner:
    """Collects pages form after form, then writes the joined file with front pages and bookmarks."""

    def __init__(self) -> None:
        self.pdf = pikepdf.new()
        self.fonts = FontMerger(self.pdf)
        self.marks: list[Mark] = []

    @property
    def page_count(self) -> int:
        """Pages collected so far."""
        return len(self.pdf.pages)

    def add(self, data: bytes, title: str | None = None) -> int:
        """Append every page of a PDF (bookmarked ``title`` at its first page); returns its page count."""
        with pikepdf.open(io.BytesIO(data)) as source:
            first = self.page_count
            for page in source.pages:
                self._copy(page, len(self.pdf.pages))
            if title is not None:
                self.marks.append(Mark(title, first))
            return len(source.pages)

    def prepend(self, data: bytes, marks: list[Mark]) -> None:
        """Put a PDF's pages in front (cover, contents); existing bookmarks move down by its pages."""
        with pikepdf.open(io.BytesIO(data)) as source:
            count = len(source.pages)
            for index, page in enumerate(source.pages):
                self._copy(page, index)
        self.marks = marks + [Mark(m.title, m.page + count) for m in self.marks]

    def _copy(self, page: pikepdf.Page, index: int) -> None:
        self.fonts.detach(page)
        self.pdf.pages.insert(index, page)
        copied = self.pdf.pages[index]
        self.fonts.attach(copied)
        _own_streams(copied.obj)

    def label_pages(self, front: int) -> None:
        """Page labels: the first ``front`` pages i, ii, …; the pages after them 1, 2, …"""
        nums = [0, pikepdf.Dictionary(S=pikepdf.Name.r)] if front else []
        nums += [front, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)]
        self.pdf.Root.PageLabels = self.pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(nums)))

    def close(self) -> None:
        """Drop the collected pages without writing."""
        self.pdf.close()

    def save(self, path: Path, title: str = "") -> None:
        """Write the joined file atomically: fonts merged, one bookmark per mark, opening on them."""
        self.fonts.finish()
        with self.pdf.open_outline() as outline:
            outline.root.extend(pikepdf.OutlineItem(m.title, m.page) for m in self.marks)
        self.pdf.Root.PageMode = pikepdf.Name.UseOutlines  # the viewer shows the bookmarks
        self.pdf.docinfo["/Producer"] = "jixiao (WeasyPrint, pikepdf)"
        if title:
            self.pdf.docinfo["/Title"] = pikepdf.String(title)
            self.pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        try:
            with atomic_file(path) as temporary:
                self.pdf.save(temporary, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        finally:
            self.pdf.close()


def _own_streams(obj, seen: set | None = None) -> None:
    """Copy the (still encoded) data of every stream under ``obj`` into the joined file.

    qpdf copies a foreign stream's data lazily, from the source PDF, when the joined file is written;
    owning the data now lets the source be closed, so only the joined pages stay in memory.
    """
    seen = set() if seen is None else seen
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, (pikepdf.Dictionary, pikepdf.Stream)):
            if item.is_indirect:
                if item.objgen in seen:
                    continue
                seen.add(item.objgen)
            if isinstance(item, pikepdf.Stream):
                filters = item.get("/Filter")
                parms = item.get("/DecodeParms")
                raw = item.read_raw_bytes()
                item.write(raw, filter=filters, decode_parms=parms, type_check=False)
            for key in item.keys():
                if key not in ("/Parent", "/P"):
                    stack.append(item[key])
        elif isinstance(item, pikepdf.Array):
            stack.extend(item)
