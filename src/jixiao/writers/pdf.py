"""PDF writer: the rendered HTML in, the bytes of a PDF out, printed by WeasyPrint.

CJK fonts are embedded (WeasyPrint subsets the fonts it uses); with no CJK font on the machine the
writer stops with :class:`~jixiao.errors.FontError` instead of printing boxes. Each form's ``<h1>``
becomes a PDF bookmark. WeasyPrint fetches nothing the HTML names, except ``data:`` URLs of a user's
own template: the data cannot point the renderer at a local file or a URL.

Page breaks: WeasyPrint loses the borders of a row-spanning cell where a page break cuts it (issues
#1911, #663). So the writer lays the document out, finds the row that starts each page, ends every
merged cell that crosses that row there and continues it on the new page with its label printed again,
as the published forms do ("绩效指标" at the top of the second page), then lays it out again.
"""

from __future__ import annotations

import copy
import threading

import lxml.html
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .. import grid
from ..fonts import FONT_HELP, ensure_cjk_font  # noqa: F401  (importable without WeasyPrint)

ROW_MARK = "data-jixiao-row"
MAX_LAYOUTS = 4


class _NoFetch(URLFetcher):
    """Refuse every URL but ``data:``: user text must never make the renderer read a file or URL."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        raise ValueError(f"jixiao does not fetch resources: {url}")


def write(html: str) -> bytes:
    """The PDF of a rendered HTML document."""
    return lay_out(html).write_pdf()


def lay_out(html: str, continue_cells: bool = True):
    """The WeasyPrint document of a rendered HTML document, merged cells continued across page breaks.

    The layout is redone only when a merged cell crosses a page break (at most ``MAX_LAYOUTS``);
    ``continue_cells=False`` lays out once (a document without row-spanning cells, e.g. the contents).
    """
    ensure_cjk_font()
    if not continue_cells:
        return _layout(html)
    tree = lxml.html.document_fromstring(html)
    tables = tree.xpath("//table")
    for t, table in enumerate(tables):
        for r, tr in enumerate(grid.table_rows(table)):
            tr.set(ROW_MARK, f"{t}:{r}")
    for _ in range(MAX_LAYOUTS):
        laid_out = _layout(lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>"))
        if not any(_continue_at(tables[t], row) for t, row in _page_starts(laid_out)):
            break
    return laid_out


def _layout(html: str):
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=_NoFetch()).render(
        font_config=_font_config())


_local = threading.local()


def _font_config() -> FontConfiguration:
    """One font configuration per thread: a new one per document keeps each document's fonts (whole
    CJK font files) alive, and a batch of forms grows by tens of MB a form. (Per thread, not per
    process: Pango's font maps are not safe to share between threads, e.g. in a web server.)"""
    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


def _page_starts(document) -> list[tuple[int, int]]:
    """(table, row) of each row that starts a page in the middle of a table."""
    starts, seen = [], set()
    for page in document.pages:
        page_box = getattr(page, "_page_box", None)  # WeasyPrint's layout tree (not public API)
        if page_box is None:
            return []  # another WeasyPrint: keep the plain layout rather than fail
        rows = [box.element.get(ROW_MARK) for box in page_box.descendants()
                if getattr(box, "element_tag", None) == "tr"]
        first: dict[int, int] = {}
        for mark in filter(None, rows):
            t, r = map(int, mark.split(":"))
            first.setdefault(t, r)
        starts += [(t, r) for t, r in first.items() if t in seen and r > 0]
        seen.update(first)
    return starts


def _continue_at(table, row: int) -> bool:
    """End every cell crossing ``row`` just above it and repeat it from ``row`` on; True if any did."""
    placed = sorted(grid.place(table), key=lambda cell: cell[2])
    crossing = [cell for cell in placed if cell[1] < row < cell[1] + cell[3]]
    starting = [cell for cell in placed if cell[1] == row]
    tr = grid.table_rows(table)[row]
    for td, r, col, rowspan, _ in crossing:
        rest = copy.deepcopy(td)
        td.set("rowspan", str(row - r))
        rest.set("rowspan", str(r + rowspan - row))
        follower = next((cell[0] for cell in starting if cell[2] > col), None)
        if follower is None:
            tr.append(rest)
        else:
            follower.addprevious(rest)
    return bool(crossing)
