"""XLSX writer: form grids in, the bytes of an Excel workbook out, one sheet a form.

Each sheet: the title and the lines under it merged across the table width, then the table with the
grid's merged ranges, thin borders on every cell of every range (Excel draws a merged range's border
from its cells), wrapped text, and row heights computed from the text, because Excel never grows the
height of a row that holds merged cells. A4 portrait, fitted to the page width. Every value is written
as text (an inline string; a cell typed ``=SUM(A1)`` shows those characters, never a formula, and is
marked ``quotePrefix`` so Excel keeps it text when it is edited). A combined workbook opens with an
index sheet 目录 whose lines link to the forms' sheets.

openpyxl writes the package, in its write-only mode: each sheet streams its rows to a temporary file
as they are appended and is closed before the next one starts, so a workbook of 1,000 forms never
holds every cell object at once. Widths, row heights, merged ranges, views and page setup are set on
the sheet before its first row (write-only sheets write their head when the first row comes), and the
cell formats are named styles registered once per workbook and then referred to by name, which keeps
openpyxl's style hashing off the per-cell path (its normal mode, hashing every cell's style and
re-formatting merged ranges, took 14 s for 1,000 forms). The index's links are write-only cells'
hyperlinks to a location inside the workbook.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from typing import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from ..grid import FormGrid, Table

BODY_FONT, TITLE_FONT = "宋体", "黑体"
BODY_PT, TITLE_PT, LINE_PT = 10.5, 18, 12
# A4 width less the margins is about 675 px; Excel column width n is 7n + 5 px wide.
TOTAL_WIDTH_CHARS = 92
LINE_HEIGHT_PT, PADDING_PT, MIN_ROW_PT = 14.0, 5.0, 20.0
INDEX_SHEET = "目录"
A4 = 9  # paperSize code
_FORMULA_START = ("=", "+", "-", "@")
_SHEET_NAME_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0

# The fonts by role (charset 134: GB2312, so Excel picks the CJK face), and their style-name part.
BODY, TITLE, LINE, HEAD, LINK = "正文", "标题", "说明", "表头", "链接"
_FONTS = {BODY: Font(name=BODY_FONT, size=BODY_PT, charset=134),
          TITLE: Font(name=TITLE_FONT, size=TITLE_PT, charset=134),
          LINE: Font(name=BODY_FONT, size=LINE_PT, charset=134),
          HEAD: Font(name=TITLE_FONT, size=BODY_PT, charset=134),
          LINK: Font(name=BODY_FONT, size=BODY_PT, charset=134, underline="single", color="FF0563C1")}
_THIN = Side(style="thin", color="FF000000")
_HORIZONTAL = {"left": "左", "center": "中", "right": "右"}


class _Styles:
    """The workbook's cell formats as named styles, each registered on first use."""

    def __init__(self, book: Workbook):
        self.book = book
        self.names: dict[tuple, str] = {}

    def name(self, font: str, border: bool, horizontal: str | None = None, wrap: bool = False) -> str:
        """The name of the style with this font, border, alignment and wrapping (registered once)."""
        key = (font, border, horizontal, wrap)
        if key not in self.names:
            parts = [font, "框线" if border else "", _HORIZONTAL.get(horizontal or "", ""), "换行" if wrap else ""]
            style = NamedStyle(name="·".join(p for p in parts if p), font=_FONTS[font])
            if border:
                style.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
            if horizontal or wrap:
                style.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=wrap or None)
            self.book.add_named_style(style)
            self.names[key] = style.name
        return self.names[key]


def _cell(sheet, style: str, text: str = "") -> WriteOnlyCell:
    """A cell with a named style and, unless empty, its text: always text, never a formula."""
    cell = WriteOnlyCell(sheet)
    cell.style = style
    if text:
        cell.value = _NOT_XML.sub("", text)
        cell.data_type = "s"  # openpyxl reads "=..." as a formula and "#N/A" as an error
        if text.startswith(_FORMULA_START):
            cell.quotePrefix = True
    return cell


def write(forms: list[FormGrid], names: list[str] | None = None, index: str | None = None) -> bytes:
    """The XLSX file of the given forms; ``names`` are the wanted sheet names (made valid and unique).

    With ``index`` (the document's title) the workbook opens with a sheet 目录 listing the forms, each
    a link to its sheet.
    """
    return write_named(((names[n] if names and n < len(names) else form.title, form)
                        for n, form in enumerate(forms)), index)


def write_named(forms: Iterable[tuple[str, FormGrid]], index: str | None = None) -> bytes:
    """:func:`write` for (wanted sheet name, form) pairs, taken one at a time: each form's sheet (and its
    line in the index) is written before the next form is taken, so a generator of 1,000 forms is never
    held at once."""
    used: set[str] = set()
    book = Workbook(write_only=True)
    book.properties.creator = "jixiao"
    styles = _Styles(book)
    listing, line_styles = None, ("", "", "")
    if index is not None:
        listing = book.create_sheet(sheet_name(INDEX_SHEET, used))
        line_styles = _index_start(listing, index, styles)
    for number, (wanted, form) in enumerate(forms, start=1):
        title = sheet_name(wanted, used)
        _form_sheet(book.create_sheet(title), form, styles, selected=listing is None and number == 1)
        if listing is not None:
            _index_line(listing, number, wanted, title, line_styles)
    if listing is not None:
        listing.close()
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_name(wanted: str, used: set[str]) -> str:
    """A valid Excel sheet name (≤31 characters, no []:*?/\\), unique among ``used`` (which it joins)."""
    base = (_NOT_XML.sub("", wanted).translate(_SHEET_NAME_BAD).strip("' ") or "表")[:31]
    name, n = base, 1
    while name.lower() in used:
        n += 1
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.lower())
    return name


def _form_sheet(sheet, form: FormGrid, styles: _Styles, selected: bool) -> None:
    table = form.table
    widths = [max(4.0, round(w * TOTAL_WIDTH_CHARS, 1)) for w in table.widths]
    heading = [(form.title, TITLE, "center", 32.0)]
    heading += [(line.text, LINE, line.align, 20.0) for line in form.lines]
    first = len(heading) + 1
    merges = [(r, 1, r, table.cols) for r in range(1, first)]
    merges += [(first + c.row, c.col + 1, first + c.row + c.rowspan - 1, c.col + c.colspan)
               for c in table.cells if c.merged]
    heights = [height for *_, height in heading] + _row_heights(table, widths)
    _start(sheet, widths, heights, merges, selected)
    for text, font, align, _ in heading:
        sheet.append([_cell(sheet, styles.name(font, False, align), text)])
    # The cells a merged range covers are empty and alike (only their borders show): one cell object
    # serves them all, since a write-only sheet writes each cell of a row as it goes.
    covered = _cell(sheet, styles.name(BODY, True))
    rows: list[list[WriteOnlyCell | None]] = [[None] * table.cols for _ in range(table.rows)]
    for cell in table.cells:
        for r in range(cell.row, cell.row + cell.rowspan):
            rows[r][cell.col:cell.col + cell.colspan] = [covered] * cell.colspan
        horizontal = "left" if cell.role == "text" else "center"
        rows[cell.row][cell.col] = _cell(sheet, styles.name(BODY, True, horizontal, True), cell.text)
    for row in rows:
        sheet.append(row)
    sheet.close()  # its rows go to its temporary file now, not when the workbook is saved


def _index_start(sheet, title: str, styles: _Styles) -> tuple[str, str, str]:
    """The index's head: the title, then the column heads; returns the styles of a form's line
    (:func:`_index_line`): number, name, sheet name."""
    _start(sheet, [8, 56, 48], [36.0], [(1, 1, 1, 3)], selected=True)  # a sheet name: up to 31 CJK
    sheet.append([_cell(sheet, styles.name(TITLE, False, "center", True), title)])
    head = styles.name(HEAD, True, "center")
    sheet.append([_cell(sheet, head, text) for text in ("序号", "表名", "工作表")])
    return styles.name(BODY, True, "center"), styles.name(LINK, True, None, True), styles.name(BODY, True, None, True)


def _index_line(sheet, number: int, name: str, target: str, line_styles: tuple[str, str, str]) -> None:
    """A form's line in the index: number, name (a link to its sheet), sheet name."""
    number_style, link, plain = line_styles
    name_cell = _cell(sheet, link, name)
    location = "'" + target.replace("'", "''") + "'!A1"
    name_cell.hyperlink = Hyperlink(ref="", location=location, display=_NOT_XML.sub("", name))
    sheet.append([_cell(sheet, number_style, str(number)), name_cell, _cell(sheet, plain, target)])


def _start(sheet, widths: list[float], heights: list[float], merges: list[tuple[int, int, int, int]],
           selected: bool) -> None:
    """What a write-only sheet needs before its first row: columns, row heights, merges, view, page."""
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    for row, height in enumerate(heights, start=1):
        sheet.row_dimensions[row].height = height
    sheet.merged_cells = MultiCellRange([CellRange(min_row=top, min_col=left, max_row=bottom, max_col=right)
                                         for top, left, bottom, right in merges])
    sheet.sheet_view.showGridLines = False
    if selected:
        sheet.sheet_view.tabSelected = True
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.6, right=0.6, top=0.7, bottom=0.8, header=0.3, footer=0.3)
    sheet.page_setup.paperSize = A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.oddFooter.center.size = 9


def _row_heights(table: Table, widths: list[float]) -> list[float]:
    """Heights (pt) that show every wrapped line: single-row cells first, then spread the rest."""
    heights = [MIN_ROW_PT] * table.rows
    for cell in sorted(table.cells, key=lambda c: c.rowspan):
        need = _text_height(cell.paragraphs, sum(widths[cell.col:cell.col + cell.colspan]))
        rows = range(cell.row, cell.row + cell.rowspan)
        missing = need - sum(heights[r] for r in rows)
        if missing > 0:
            for r in rows:
                heights[r] += missing / cell.rowspan
    return [round(h, 1) for h in heights]


def _text_height(paragraphs: tuple[str, ...], width_chars: float) -> float:
    # A column n characters wide holds n half-width characters of the default font; a CJK
    # character of 宋体 10.5pt is two of them. Keep a little margin for word wrapping.
    capacity = max(1.0, (width_chars * 7 + 5 - 8) / 7 * 0.95)
    lines = sum(max(1, math.ceil(_display_width(p) / capacity)) for p in paragraphs)
    return lines * LINE_HEIGHT_PT + PADDING_PT


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)
