"""XLSX writer: form grids in, the bytes of an Excel workbook out, one sheet a form.

Each sheet: the title and the lines under it merged across the table width, then the table with the
grid's merged ranges, thin borders on every cell of every range (Excel draws a merged range's border
from its cells), wrapped text, and row heights computed from the text, because Excel never grows the
height of a row that holds merged cells. A4 portrait, fitted to the page width. Every value is written
as text: a cell typed ``=SUM(A1)`` shows those characters, never a formula.
"""

from __future__ import annotations

import io
import math
import unicodedata

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from ..grid import Cell, FormGrid, Table

BODY_FONT, TITLE_FONT = "宋体", "黑体"
BODY_PT, TITLE_PT, LINE_PT = 10.5, 18, 12
# A4 width less the margins is about 675 px; Excel column width n is 7n + 5 px wide.
TOTAL_WIDTH_CHARS = 92
LINE_HEIGHT_PT, PADDING_PT, MIN_ROW_PT = 14.0, 5.0, 20.0
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FORMULA_START = ("=", "+", "-", "@")
_SHEET_NAME_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


INDEX_SHEET = "目录"


# Named styles: a cell takes one by name, much faster than setting font, alignment and border one by
# one (openpyxl hashes every style object it is given).
TEXT_STYLE, VALUE_STYLE, BORDER_STYLE = "表格文字", "表格内容", "表格边框"


def _named_styles() -> list[NamedStyle]:
    font = Font(name=BODY_FONT, size=BODY_PT, charset=134)
    return [
        NamedStyle(TEXT_STYLE, font=font, border=_BORDER,
                   alignment=Alignment(horizontal="left", vertical="center", wrap_text=True)),
        NamedStyle(VALUE_STYLE, font=font, border=_BORDER,
                   alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
        NamedStyle(BORDER_STYLE, font=font, border=_BORDER),
    ]


def write(forms: list[FormGrid], names: list[str] | None = None, index: str | None = None) -> bytes:
    """The XLSX file of the given forms; ``names`` are the wanted sheet names (made valid and unique).

    With ``index`` (the document's title) the workbook opens with a sheet 目录 listing the forms, each
    a link to its sheet.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    for style in _named_styles():
        workbook.add_named_style(style)
    used: set[str] = set()
    contents = workbook.create_sheet(sheet_name(INDEX_SHEET, used)) if index is not None else None
    sheets = []
    for number, form in enumerate(forms):
        wanted = names[number] if names and number < len(names) else form.title
        sheet = workbook.create_sheet(sheet_name(wanted, used))
        _write_sheet(sheet, form)
        sheets.append((names[number] if names and number < len(names) else form.title, sheet.title))
    if contents is not None:
        _write_index(contents, index, sheets)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_name(wanted: str, used: set[str]) -> str:
    """A valid Excel sheet name (≤31 characters, no []:*?/\\), unique among ``used`` (which it joins)."""
    base = (wanted.translate(_SHEET_NAME_BAD).strip("' ") or "表")[:31]
    name, n = base, 1
    while name.lower() in used:
        n += 1
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.lower())
    return name


def _write_index(sheet: Worksheet, title: str, sheets: list[tuple[str, str]]) -> None:
    """The index sheet: the title, then a row a form: number, name (a link to its sheet), sheet name."""
    for letter, width in zip("ABC", (8, 56, 48), strict=True):  # a sheet name: up to 31 CJK characters
        sheet.column_dimensions[letter].width = width
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=3)
    _set_text(sheet["A1"], title)
    sheet["A1"].font = Font(name=TITLE_FONT, size=TITLE_PT, charset=134)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 36
    for col, text in enumerate(("序号", "表名", "工作表"), start=1):
        cell = sheet.cell(row=2, column=col)
        cell.value = text
        cell.font = Font(name=TITLE_FONT, size=BODY_PT, charset=134)
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row, (name, target) in enumerate(sheets, start=3):
        sheet.cell(row=row, column=1, value=row - 2).alignment = Alignment(horizontal="center")
        link = sheet.cell(row=row, column=2)
        _set_text(link, name)
        quoted = target.replace("'", "''")
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!A1", display=name)
        link.font = Font(name=BODY_FONT, size=BODY_PT, charset=134, color="0563C1", underline="single")
        _set_text(sheet.cell(row=row, column=3), target)
        sheet.cell(row=row, column=3).font = Font(name=BODY_FONT, size=BODY_PT, charset=134)
        for col in (1, 2, 3):
            sheet.cell(row=row, column=col).border = _BORDER
            if col > 1:
                sheet.cell(row=row, column=col).alignment = Alignment(vertical="center", wrap_text=True)
    _print_setup(sheet)


def _write_sheet(sheet: Worksheet, form: FormGrid) -> None:
    table = form.table
    widths = [max(4.0, round(w * TOTAL_WIDTH_CHARS, 1)) for w in table.widths]
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    row = _write_heading(sheet, form, table.cols)
    heights = _row_heights(table, widths)
    for r, height in enumerate(heights):
        sheet.row_dimensions[row + r].height = height
    for cell in table.cells:
        _write_cell(sheet, cell, row)
    _print_setup(sheet)


def _write_heading(sheet: Worksheet, form: FormGrid, cols: int) -> int:
    """Write the title and lines above the table; return the first row of the table."""
    rows = [(form.title, TITLE_FONT, TITLE_PT, "center", 32)]
    rows += [(line.text, BODY_FONT, LINE_PT, line.align, 20) for line in form.lines]
    for r, (text, font, size, align, height) in enumerate(rows, start=1):
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=cols)
        target = sheet.cell(row=r, column=1)
        _set_text(target, text)
        target.font = Font(name=font, size=size, charset=134)
        target.alignment = Alignment(horizontal=align, vertical="center")
        sheet.row_dimensions[r].height = height
    return len(rows) + 1


def _write_cell(sheet: Worksheet, cell: Cell, first_row: int) -> None:
    top, left = first_row + cell.row, cell.col + 1
    bottom, right = top + cell.rowspan - 1, left + cell.colspan - 1
    if cell.merged:
        sheet.merge_cells(start_row=top, start_column=left, end_row=bottom, end_column=right)
    for r in range(top, bottom + 1):
        for c in range(left, right + 1):
            sheet.cell(row=r, column=c).style = BORDER_STYLE
    origin = sheet.cell(row=top, column=left)
    origin.style = TEXT_STYLE if cell.role == "text" else VALUE_STYLE
    _set_text(origin, cell.text)


def _set_text(target, text: str) -> None:
    target.value = text or None
    if text:
        target.data_type = "s"  # openpyxl would otherwise take "=…" for a formula
        if text.startswith(_FORMULA_START):
            target.quotePrefix = True  # and Excel keeps it text when the cell is edited


def _row_heights(table: Table, widths: list[float]) -> list[float]:
    """Heights (pt) that show every wrapped line: single-row cells first, then spread the rest."""
    heights = [MIN_ROW_PT] * table.rows
    for cell in sorted(table.cells, key=lambda c: c.rowspan):
        need = _text_height(cell, sum(widths[cell.col:cell.col + cell.colspan]))
        rows = range(cell.row, cell.row + cell.rowspan)
        missing = need - sum(heights[r] for r in rows)
        if missing > 0:
            for r in rows:
                heights[r] += missing / cell.rowspan
    return [round(h, 1) for h in heights]


def _text_height(cell: Cell, width_chars: float) -> float:
    # A column n characters wide holds n half-width characters of the default font; a CJK
    # character of 宋体 10.5pt is two of them. Keep a little margin for word wrapping.
    capacity = max(1.0, (width_chars * 7 + 5 - 8) / 7 * 0.95)
    lines = sum(max(1, math.ceil(_display_width(p) / capacity)) for p in cell.paragraphs)
    return lines * LINE_HEIGHT_PT + PADDING_PT


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _print_setup(sheet: Worksheet) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.6
    sheet.page_margins.top, sheet.page_margins.bottom = 0.7, 0.8
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.oddFooter.center.size = 9
    sheet.sheet_view.showGridLines = False
