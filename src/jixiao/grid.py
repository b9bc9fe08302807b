"""Read the rendered HTML back as a format-neutral grid: the layout the DOCX and XLSX writers draw.

In: the HTML document of :func:`jixiao.layout.render_document`. Out: one :class:`FormGrid` per
``<section class="form">``: its title, the lines under the title, and its table as cells placed on a
row/column grid with their spans, paragraphs and role (the cell's CSS class). Cells are placed with
the HTML table algorithm, so merged ranges here are exactly the ones the PDF shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html

ROLES = ("label", "head", "value", "text")
_WIDTH = re.compile(r"width\s*:\s*([\d.]+)\s*%")


@dataclass(frozen=True)
class Cell:
    """A table cell at (row, col), 0-based, covering rowspan × colspan grid positions."""

    row: int
    col: int
    rowspan: int
    colspan: int
    paragraphs: tuple[str, ...]
    role: str

    @property
    def text(self) -> str:
        """The cell's paragraphs, one a line."""
        return "\n".join(self.paragraphs)

    @property
    def merged(self) -> bool:
        """True when the cell covers more than one grid position."""
        return self.rowspan > 1 or self.colspan > 1


@dataclass(frozen=True)
class Table:
    """Cells in reading order, column widths as fractions of the table width."""

    widths: tuple[float, ...]
    cells: tuple[Cell, ...]
    rows: int

    @property
    def cols(self) -> int:
        """Number of grid columns."""
        return len(self.widths)

    def merges(self) -> set[tuple[int, int, int, int]]:
        """Every merged range as (row, col, rowspan, colspan)."""
        return {(c.row, c.col, c.rowspan, c.colspan) for c in self.cells if c.merged}


@dataclass(frozen=True)
class Line:
    """A line of text between the title and the table (year line, 批复单位 line)."""

    text: str
    align: str  # "center" or "left"


@dataclass(frozen=True)
class FormGrid:
    """One form laid out: title, lines under it, and its table."""

    title: str
    lines: tuple[Line, ...]
    table: Table


def read(document: str) -> list[FormGrid]:
    """Every form section of a rendered HTML document, in order."""
    root = lxml.html.document_fromstring(document)
    return [_form(section) for section in root.find_class("form")]


def _form(section: lxml.html.HtmlElement) -> FormGrid:
    title = section.find(".//h1")
    lines = tuple(Line(p.text_content().strip(), "left" if "left" in p.classes else "center")
                  for p in section.find_class("line"))
    tables = section.findall(".//table")
    if len(tables) != 1:
        raise ValueError(f"a form section must hold exactly one <table>, found {len(tables)}")
    return FormGrid(title.text_content().strip() if title is not None else "", lines, _table(tables[0]))


def table_rows(table) -> list:
    """The ``<tr>`` elements of a table, in order."""
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


def place(table) -> list[tuple[object, int, int, int, int]]:
    """(td, row, col, rowspan, colspan) of every cell, placed by the HTML table algorithm."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, tr in enumerate(table_rows(table)):
        c = 0
        for td in tr.xpath("./td | ./th"):
            while (r, c) in taken:
                c += 1
            rowspan, colspan = max(1, int(td.get("rowspan", 1))), max(1, int(td.get("colspan", 1)))
            taken.update((r + i, c + j) for i in range(rowspan) for j in range(colspan))
            placed.append((td, r, c, rowspan, colspan))
            c += colspan
    return placed


def _table(table: lxml.html.HtmlElement) -> Table:
    placed = place(table)
    cells = [_cell(td, r, c, rs, cs) for td, r, c, rs, cs in placed]
    taken = {(c.row + i, c.col + j) for c in cells for i in range(c.rowspan) for j in range(c.colspan)}
    widths = _widths(table, taken)
    n_rows = max((r for r, _ in taken), default=-1) + 1
    holes = [Cell(r, c, 1, 1, ("",), "value") for r in range(n_rows) for c in range(len(widths))
             if (r, c) not in taken]
    ordered = sorted(cells + holes, key=lambda cell: (cell.row, cell.col))
    return Table(widths, tuple(ordered), n_rows)


def _cell(td: lxml.html.HtmlElement, row: int, col: int, rowspan: int, colspan: int) -> Cell:
    paras = td.findall("p")
    texts = tuple(p.text_content() for p in paras) if paras else (td.text_content().strip(),)
    role = next((c for c in td.classes if c in ROLES), "head" if td.tag == "th" else "value")
    return Cell(row, col, rowspan, colspan, texts, role)


def _widths(table: lxml.html.HtmlElement, taken: set[tuple[int, int]]) -> tuple[float, ...]:
    given = [float(m.group(1)) for col in table.iter("col")
             if (m := _WIDTH.search(col.get("style", "")))]
    n_cols = max(len(given), max((c for _, c in taken), default=-1) + 1)
    if len(given) < n_cols:  # a template without widths: share the rest evenly
        rest = max(0.0, 100.0 - sum(given)) / (n_cols - len(given))
        given += [rest or 100.0 / n_cols] * (n_cols - len(given))
    total = sum(given)
    return tuple(w / total for w in given)
