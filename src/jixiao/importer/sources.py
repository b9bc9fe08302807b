"""Read forms as rows of cells, whatever the file: XLSX, DOCX, PDF, or a PDF extractor's text.

Every reader returns :class:`Row` objects in reading order. A row's cells keep their grid positions: a
merged cell's text is in its first position and the positions it covers are ``None``; lines outside a
table (titles, the year line) are rows of one cell. Each cell knows where it was (sheet and cell, page,
line), so what cannot be placed can be reported there.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

SUFFIXES = (".xlsx", ".docx", ".pdf", ".txt")
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_STRAY_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
LINE_HEIGHT = 1.35  # templates/style.css: a wrapped line; a paragraph adds 3pt more
_PAGE_NUMBER = re.compile(r"^第\s*\d+\s*页[，,]?\s*(共\s*\d+\s*页)?$")


@dataclass(frozen=True)
class Cell:
    """Text of one cell and where it was."""

    text: str
    where: str


@dataclass(frozen=True)
class Row:
    """One row: cells by grid position, ``None`` where a merged cell covers the position."""

    cells: tuple[Cell | None, ...]
    grid: bool = True  # False for extracted text, whose positions the extractor may have shifted

    def texts(self) -> list[tuple[int, Cell]]:
        """(position, cell) of every cell with text."""
        return [(i, c) for i, c in enumerate(self.cells) if c is not None and c.text.strip()]


def read(path: Path) -> list[Row]:
    """The rows of a file, by its suffix; a damaged or unsupported file is an :class:`InputError`."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError.at("文件不存在，请检查路径", path)
    reader = {".xlsx": _xlsx, ".docx": _docx, ".pdf": _pdf, ".txt": _text}.get(suffix)
    if reader is None:
        raise InputError.at(f"不支持的文件类型「{suffix or '无后缀'}」：可导入 {'、'.join(SUFFIXES)}", path)
    try:
        return reader(path)
    except InputError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise InputError.at(f"无法读取：文件已损坏，或不是 {suffix[1:].upper()} 文件（{type(error).__name__}）",
                            path) from None
    except Exception as error:  # the PDF and Office parsers raise many kinds on damaged input
        if type(error).__module__.split(".")[0] in ("pdfminer", "pdfplumber", "openpyxl", "docx", "lxml"):
            raise InputError.at(f"无法读取：文件已损坏，或不是 {suffix[1:].upper()} 文件", path) from None
        raise


def _xlsx(path: Path) -> list[Row]:
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    rows: list[Row] = []
    for sheet in book.worksheets:
        covered = {(r, c) for merged in sheet.merged_cells.ranges
                   for r in range(merged.min_row, merged.max_row + 1)
                   for c in range(merged.min_col, merged.max_col + 1)
                   if (r, c) != (merged.min_row, merged.min_col)}
        for row in sheet.iter_rows():
            cells = tuple(None if (cell.row, cell.column) in covered
                          else Cell(_cell_text(cell.value), f"工作表「{sheet.title}」{cell.coordinate}")
                          for cell in row)
            rows.append(Row(cells))
        rows.append(Row(()))  # a sheet ends a form
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _docx(path: Path) -> list[Row]:
    from docx import Document
    from docx.oxml.ns import qn

    body = Document(path).element.body
    rows: list[Row] = []
    paragraph_no = table_no = 0
    for element in body:
        if element.tag == qn("w:p"):
            paragraph_no += 1
            text = "".join(t.text or "" for t in element.iter(qn("w:t")))
            rows.append(Row((Cell(text.strip(), f"第 {paragraph_no} 段"),)))
        elif element.tag == qn("w:tbl"):
            table_no += 1
            rows.extend(_docx_table(element, table_no, qn))
    return rows


def _docx_table(table, number: int, qn) -> list[Row]:
    rows = []
    for r, tr in enumerate(table.iter(qn("w:tr")), start=1):
        cells: list[Cell | None] = []
        for tc in tr.iter(qn("w:tc")):
            props = tc.find(qn("w:tcPr"))
            span = merge = None
            if props is not None:
                span = props.find(qn("w:gridSpan"))
                merge = props.find(qn("w:vMerge"))
            continued = merge is not None and merge.get(qn("w:val"), "continue") == "continue"
            text = "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))).strip()
                             for p in tc.iter(qn("w:p")))
            where = f"表格 {number} 第 {r} 行第 {len(cells) + 1} 列"
            cells.append(None if continued else Cell(text.strip("\n"), where))
            cells.extend([None] * (int(span.get(qn("w:val"))) - 1 if span is not None else 0))
        rows.append(Row(tuple(cells)))
    return rows


def _pdf(path: Path) -> list[Row]:
    import pdfplumber

    rows: list[Row] = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            rows.extend(_pdf_page(page, number))
    return rows


def _pdf_page(page, number: int) -> list[Row]:
    finder = page.debug_tablefinder()  # the table finder, with every ruled cell it found
    tables = finder.tables
    placed: list[tuple[float, Row]] = []
    for table in tables:
        for row in table.rows:
            cells = tuple(None if box is None else Cell(_pdf_cell_text(page, box), f"第 {number} 页")
                          for box in row.cells)
            placed.append((row.bbox[1], Row(cells)))
    # pdfplumber drops a table of one cell, such as an approval row alone at the top of a page
    in_tables = {box for table in tables for box in table.cells}
    lone = [box for box in finder.cells if box not in in_tables]
    for box in lone:
        placed.append((box[1], Row((Cell(_pdf_cell_text(page, box), f"第 {number} 页"),))))
    inside = [t.bbox for t in tables] + lone
    # a word belongs to a table if its middle does: a space kept at a wrapped line's end
    # (white-space: pre-wrap) may hang over the cell's right edge
    outside = [w for w in page.extract_words(keep_blank_chars=True, use_text_flow=True)
               if not any(x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and top <= (w["top"] + w["bottom"]) / 2 <= bottom
                          for x0, top, x1, bottom in inside)]
    for top, words in _lines(outside):
        text = "".join(w["text"] for w in words).strip()
        if text and not _PAGE_NUMBER.match(text):
            placed.append((top, Row((Cell(text, f"第 {number} 页"),))))
    return [row for _, row in sorted(placed, key=lambda item: item[0])]


def _lines(words: list[dict]) -> list[tuple[float, list[dict]]]:
    lines: list[tuple[float, list[dict]]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0] - word["top"]) < 3:
            lines[-1][1].append(word)
        else:
            lines.append((word["top"], [word]))
    return lines


def _baseline(char: dict) -> float:
    """Where a character sits, downwards: its baseline, the same for every font of a line (a glyph from
    a fallback font has another ascent, so its ``top`` differs)."""
    matrix = char.get("matrix")
    return -matrix[5] if matrix else char["bottom"]


def _pdf_cell_text(page, box) -> str:
    """A cell's text from its characters: wrapped lines joined, paragraphs (a wider gap) kept apart.

    jixiao's PDFs keep the space a line wrapped at (``white-space: pre-wrap``), so lines join as they are.
    """
    chars = [c for c in page.crop(box, strict=False).chars if c["text"].strip() or c["text"] == " "]
    lines: list[list[dict]] = []
    for char in sorted(chars, key=lambda c: (round(_baseline(c), 1), c["x0"])):
        if lines and abs(_baseline(lines[-1][0]) - _baseline(char)) < char["size"] * 0.5:
            lines[-1].append(char)
        else:
            lines.append([char])
    if not lines:
        return ""
    tops = [_baseline(line[0]) for line in lines]
    pitches = [b - a for a, b in zip(tops, tops[1:], strict=False)]
    text = "".join(c["text"] for c in sorted(lines[0], key=lambda c: c["x0"]))
    for pitch, line in zip(pitches, lines[1:], strict=True):
        part = "".join(c["text"] for c in sorted(line, key=lambda c: c["x0"]))
        if pitch > line[0]["size"] * LINE_HEIGHT * 1.1:
            text += "\n"  # a paragraph break: the renderer puts space between paragraphs
        text += part  # a wrapped line; a space it wrapped at is kept (white-space: pre-wrap)
    return text.strip()


def _text(path: Path) -> list[Row]:
    """Text as PDF extractors write it: a line a row, tab-separated cells, merged cells' text once."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError.at("文本文件不是 UTF-8 编码，请另存为 UTF-8 后再导入", path) from None
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        fields = line.split("\t") if line.strip() else []
        rows.append(Row(tuple(Cell(_STRAY_SPACE.sub("", f.strip()), f"第 {number} 行") for f in fields),
                        grid=False))
    return rows
