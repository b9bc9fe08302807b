"""Read produced files back as a reader would see them: merged ranges, cell texts, PDF text.

Shared by the tests; nothing here uses jixiao's own writers or grid, so a test compares jixiao's
output with what python-docx, openpyxl and poppler find in the file.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
from docx import Document
from docx.oxml.ns import qn

REFERENCE = Path(__file__).parent / "reference"
_TAGS = re.compile(r"</?p>")


def squash(text: str) -> str:
    """Text without white space: wrapped lines and the extractor's stray spaces do not count."""
    return "".join(text.split())


def docx_merges(data: bytes, table_index: int = 0) -> set[tuple[int, int, int, int]]:
    """Merged ranges (row, col, rowspan, colspan) of a DOCX table, from gridSpan and vMerge."""
    table = Document(io.BytesIO(data)).tables[table_index]._tbl
    open_cells: dict[int, list[int]] = {}  # col -> [row, col, rowspan, colspan]
    found = []
    for r, tr in enumerate(table.tr_lst):
        c = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            if tc.vMerge == "continue":
                open_cells[c][2] += 1
            else:
                cell = [r, c, 1, span]
                found.append(cell)
                open_cells[c] = cell
            c += span
    return {tuple(cell) for cell in found if cell[2] > 1 or cell[3] > 1}


def docx_text(data: bytes) -> str:
    """All text of a DOCX body in reading order (paragraphs and table cells)."""
    body = Document(io.BytesIO(data)).element.body
    return "\n".join(t.text or "" for t in body.iter(qn("w:t")))


def xlsx_merges(data: bytes, sheet_index: int = 0, first_row: int = 1) -> set[tuple[int, int, int, int]]:
    """Merged ranges of a sheet from ``first_row`` (1-based) on, as 0-based (row, col, rowspan, colspan)."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[sheet_index]
    return {(m.min_row - first_row, m.min_col - 1, m.max_row - m.min_row + 1, m.max_col - m.min_col + 1)
            for m in sheet.merged_cells.ranges if m.min_row >= first_row}


def xlsx_text(data: bytes) -> str:
    """All cell values of every sheet, sheet by sheet, row by row."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows()
                     for cell in row if cell.value is not None)


def pdf_text(path: Path) -> str:
    """Text of a PDF in content order (``pdftotext -raw``; ``-layout`` interleaves columns)."""
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_fonts(path: Path) -> list[str]:
    """The ``pdffonts`` table rows of a PDF."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[2:]


def reference_cells(name: str) -> list[str]:
    """Every non-empty cell of a reference text, in order, as a reader of the published form sees it.

    The source system's ``<p>`` tags are dropped (jixiao prints them as paragraphs), and the
    "绩效指标" cell that the extractor repeats at the top of a new page is not counted twice.
    """
    cells: list[str] = []
    after_break = False
    for line in (REFERENCE / name).read_text(encoding="utf-8").splitlines():
        fields = [squash(_TAGS.sub("", f)) for f in line.split("\t")]
        fields = [f for f in fields if f]
        if not fields:
            after_break = bool(cells)
            continue
        if after_break and fields[0] == "绩效指标" and "绩效指标" in cells:
            fields = fields[1:]
        after_break = False
        cells.extend(fields)
    return cells


def missing_in_order(cells: list[str], text: str) -> list[str]:
    """The cells not found in ``text`` in the given order (empty when all are there, in order)."""
    haystack, position, missing = squash(text), 0, []
    for cell in cells:
        found = haystack.find(cell, position)
        if found < 0:
            missing.append(cell)
        else:
            position = found + len(cell)
    return missing


def xlsx_raw_borders(data: bytes, sheet_index: int = 0) -> dict[str, set[str]]:
    """The sides with a border of every cell as stored in the file (openpyxl re-derives merged edges)."""
    from lxml import etree

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    package = zipfile.ZipFile(io.BytesIO(data))
    styles = etree.fromstring(package.read("xl/styles.xml"))
    borders = [{side.tag.split("}")[1] for side in border if side.get("style")}
               for border in styles.find("m:borders", ns)]
    xfs = [int(xf.get("borderId", 0)) for xf in styles.find("m:cellXfs", ns)]
    sheet = etree.fromstring(package.read(f"xl/worksheets/sheet{sheet_index + 1}.xml"))
    return {c.get("r"): borders[xfs[int(c.get("s", 0))]] for c in sheet.iter(f"{{{ns['m']}}}c")}
