"""XLSX writer: form grids in, the bytes of an Excel workbook out, one sheet a form.

Each sheet: the title and the lines under it merged across the table width, then the table with the
grid's merged ranges, thin borders on every cell of every range (Excel draws a merged range's border
from its cells), wrapped text, and row heights computed from the text, because Excel never grows the
height of a row that holds merged cells. A4 portrait, fitted to the page width. Every value is written
as text (an inline string; a cell typed ``=SUM(A1)`` shows those characters, never a formula, and is
marked ``quotePrefix`` so Excel keeps it text when it is edited).

The package is written as SpreadsheetML parts with :mod:`zipfile` (as the DOCX writer): openpyxl spent
most of its time hashing style objects and re-formatting merged ranges, 14 s for a workbook of 1,000
forms. A combined workbook opens with an index sheet 目录 whose lines link to the forms' sheets.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from ..grid import FormGrid, Table

BODY_FONT, TITLE_FONT = "宋体", "黑体"
BODY_PT, TITLE_PT, LINE_PT = 10.5, 18, 12
# A4 width less the margins is about 675 px; Excel column width n is 7n + 5 px wide.
TOTAL_WIDTH_CHARS = 92
LINE_HEIGHT_PT, PADDING_PT, MIN_ROW_PT = 14.0, 5.0, 20.0
INDEX_SHEET = "目录"
_FORMULA_START = ("=", "+", "-", "@")
_SHEET_NAME_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"

# fonts: 0 the workbook's default (its digit width sets the column unit), then ours
_FONTS = ('<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
          f'<font><sz val="{BODY_PT}"/><name val="{BODY_FONT}"/><charset val="134"/></font>',
          f'<font><sz val="{TITLE_PT}"/><name val="{TITLE_FONT}"/><charset val="134"/></font>',
          f'<font><sz val="{LINE_PT}"/><name val="{BODY_FONT}"/><charset val="134"/></font>',
          f'<font><sz val="{BODY_PT}"/><name val="{TITLE_FONT}"/><charset val="134"/></font>',
          f'<font><u/><sz val="{BODY_PT}"/><color rgb="FF0563C1"/><name val="{BODY_FONT}"/>'
          '<charset val="134"/></font>')
BODY, TITLE, LINE, HEAD, LINK = 1, 2, 3, 4, 5


@dataclass
class _Styles:
    """The cell formats used, each once: (font, border, horizontal, wrap, quote) → index in cellXfs."""

    formats: dict[tuple, int] = field(default_factory=lambda: {(0, False, None, False, False): 0})

    def get(self, font: int, border: bool, horizontal: str | None = None, wrap: bool = False,
            quote: bool = False) -> int:
        key = (font, border, horizontal, wrap, quote)
        return self.formats.setdefault(key, len(self.formats))

    def xml(self) -> str:
        xfs = []
        for font, border, horizontal, wrap, quote in self.formats:
            attrs = f'numFmtId="0" fontId="{font}" fillId="0" borderId="{int(border)}" xfId="0"'
            attrs += ' applyFont="1"' if font else ""
            attrs += ' applyBorder="1"' if border else ""
            attrs += ' quotePrefix="1"' if quote else ""
            align = ""
            if horizontal or wrap:
                attrs += ' applyAlignment="1"'
                wrap_attr = ' wrapText="1"' if wrap else ""
                horizontal_attr = f" horizontal={quoteattr(horizontal)}" if horizontal else ""
                align = f'<alignment{horizontal_attr} vertical="center"{wrap_attr}/>'
            xfs.append(f"<xf {attrs}>{align}</xf>" if align else f"<xf {attrs}/>")
        side = 'style="thin"><color rgb="FF000000"/>'
        thin = "".join(f"<{s} {side}</{s}>" for s in ("left", "right", "top", "bottom"))
        return (f'{_XML}<styleSheet xmlns="{_MAIN}"><fonts count="{len(_FONTS)}">{"".join(_FONTS)}</fonts>'
                '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill></fills>'
                f'<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
                f"<border>{thin}<diagonal/></border></borders>"
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                "</styleSheet>")


@dataclass
class _Sheet:
    """One worksheet being written: cells by row, merges, row heights, column widths, links."""

    widths: list[float]
    cells: dict[int, dict[int, str]] = field(default_factory=dict)   # row → col → <c> xml
    heights: dict[int, float] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def put(self, row: int, col: int, style: int, text: str = "") -> None:
        """A cell (1-based) with a style and, unless empty, its text as an inline string."""
        ref = _ref(row, col)
        if text:
            value = escape(_NOT_XML.sub("", text))
            xml = f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
        else:
            xml = f'<c r="{ref}" s="{style}"/>'
        self.cells.setdefault(row, {})[col] = xml

    def merge(self, top: int, left: int, bottom: int, right: int) -> None:
        self.merges.append(f'<mergeCell ref="{_ref(top, left)}:{_ref(bottom, right)}"/>')

    def xml(self, selected: bool) -> str:
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(self.widths, start=1))
        rows = []
        for r in sorted(self.cells):
            height = f' ht="{self.heights[r]}" customHeight="1"' if r in self.heights else ""
            rows.append(f'<row r="{r}"{height}>{"".join(self.cells[r][c] for c in sorted(self.cells[r]))}</row>')
        last = _ref(max(self.cells, default=1), len(self.widths) or 1)
        merges = f'<mergeCells count="{len(self.merges)}">{"".join(self.merges)}</mergeCells>' if self.merges else ""
        links = f"<hyperlinks>{''.join(self.links)}</hyperlinks>" if self.links else ""
        tab = ' tabSelected="1"' if selected else ""
        return (f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
                f'<dimension ref="A1:{last}"/><sheetViews><sheetView showGridLines="0"{tab} workbookViewId="0"/>'
                "</sheetViews>"
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>{"".join(rows)}</sheetData>'
                f'{merges}{links}<printOptions horizontalCentered="1"/>'
                '<pageMargins left="0.6" right="0.6" top="0.7" bottom="0.8" header="0.3" footer="0.3"/>'
                '<pageSetup paperSize="9" orientation="portrait" fitToWidth="1" fitToHeight="0"/>'
                "<headerFooter><oddFooter>&amp;C&amp;9第 &amp;P 页，共 &amp;N 页</oddFooter></headerFooter>"
                "</worksheet>")


def write(forms: list[FormGrid], names: list[str] | None = None, index: str | None = None) -> bytes:
    """The XLSX file of the given forms; ``names`` are the wanted sheet names (made valid and unique).

    With ``index`` (the document's title) the workbook opens with a sheet 目录 listing the forms, each
    a link to its sheet.
    """
    styles, used = _Styles(), set()
    index_name = sheet_name(INDEX_SHEET, used) if index is not None else None
    titles, sheets = [], []
    for number, form in enumerate(forms):
        wanted = names[number] if names and number < len(names) else form.title
        titles.append((wanted, sheet_name(wanted, used)))
        sheets.append(_form_sheet(form, styles))
    if index_name is not None:
        titles.insert(0, (index_name, index_name))
        sheets.insert(0, _index_sheet(index, titles[1:], styles))
    return _package([t for _, t in titles], sheets, styles)


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


def _form_sheet(form: FormGrid, styles: _Styles) -> _Sheet:
    table = form.table
    sheet = _Sheet([max(4.0, round(w * TOTAL_WIDTH_CHARS, 1)) for w in table.widths])
    heading = [(form.title, TITLE, "center", 32.0)]
    heading += [(line.text, LINE, line.align, 20.0) for line in form.lines]
    for r, (text, font, align, height) in enumerate(heading, start=1):
        sheet.merge(r, 1, r, table.cols)
        sheet.put(r, 1, styles.get(font, False, align, quote=_looks_like_formula(text)), text)
        sheet.heights[r] = height
    first = len(heading) + 1
    for r, height in enumerate(_row_heights(table, sheet.widths)):
        sheet.heights[first + r] = height
    border = styles.get(BODY, True)
    for cell in table.cells:
        top, left = first + cell.row, cell.col + 1
        bottom, right = top + cell.rowspan - 1, left + cell.colspan - 1
        if cell.merged:
            sheet.merge(top, left, bottom, right)
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                sheet.put(r, c, border)
        horizontal = "left" if cell.role == "text" else "center"
        sheet.put(top, left, styles.get(BODY, True, horizontal, True, _looks_like_formula(cell.text)), cell.text)
    return sheet


def _index_sheet(title: str, sheets: list[tuple[str, str]], styles: _Styles) -> _Sheet:
    """The index: the title, then a row a form: number, name (a link to its sheet), sheet name."""
    sheet = _Sheet([8, 56, 48])  # a sheet name: up to 31 CJK characters
    sheet.merge(1, 1, 1, 3)
    sheet.put(1, 1, styles.get(TITLE, False, "center", True, _looks_like_formula(title)), title)
    sheet.heights[1] = 36.0
    for col, text in enumerate(("序号", "表名", "工作表"), start=1):
        sheet.put(2, col, styles.get(HEAD, True, "center"), text)
    for row, (name, target) in enumerate(sheets, start=3):
        sheet.put(row, 1, styles.get(BODY, True, "center"), str(row - 2))
        sheet.put(row, 2, styles.get(LINK, True, None, True, _looks_like_formula(name)), name)
        sheet.put(row, 3, styles.get(BODY, True, None, True, _looks_like_formula(target)), target)
        location = "'" + target.replace("'", "''") + "'!A1"
        sheet.links.append(f'<hyperlink ref="{_ref(row, 2)}" location={quoteattr(location)} '
                           f'display={quoteattr(_NOT_XML.sub("", name))}/>')
    return sheet


def _package(titles: list[str], sheets: list[_Sheet], styles: _Styles) -> bytes:
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
                        for i in range(1, len(sheets) + 1))
    content_types = (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}"
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>')
    root_rels = (
        f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>')
    workbook_rels = (
        f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, len(sheets) + 1))
        + f'<Relationship Id="rIdStyles" Type="{_REL}/styles" Target="styles.xml"/></Relationships>')
    entries = "".join(f'<sheet name={quoteattr(title)} sheetId="{i}" r:id="rId{i}"/>'
                      for i, title in enumerate(titles, start=1))
    workbook = (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView activeTab="0"/>'
                f"</bookViews><sheets>{entries}</sheets></workbook>")
    core = (f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>jixiao</dc:creator>'
            "</cp:coreProperties>")
    app = (f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           "<Application>jixiao</Application></Properties>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in (("[Content_Types].xml", content_types), ("_rels/.rels", root_rels),
                           ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", workbook_rels),
                           ("xl/styles.xml", styles.xml()), ("docProps/core.xml", core), ("docProps/app.xml", app)):
            package.writestr(name, text)
        for i, sheet in enumerate(sheets, start=1):
            package.writestr(f"xl/worksheets/sheet{i}.xml", sheet.xml(selected=i == 1))
    return buffer.getvalue()


def _ref(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def _looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA_START)


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
