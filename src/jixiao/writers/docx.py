"""DOCX writer: form grids in, the bytes of a Word document out.

Tables are built as WordprocessingML directly (python-docx's ``cell.merge()`` is slow and joins the
texts of merged cells): real merges (``gridSpan``/``vMerge``) with the text once, fixed column widths
(``gridCol`` and ``tcW``), borders on the whole table, rows that do not split across pages. Fonts set
the East Asian slot (``w:eastAsia``) so Word and WPS use 宋体 and 黑体. A4 portrait; one form a page
(the next form's title starts a new page); page numbers in the footer.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from ..grid import Cell, FormGrid, Table

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 18, "right": 16, "bottom": 20, "left": 16}  # as templates/style.css
BODY_FONT, TITLE_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BODY_PT, TITLE_PT, LINE_PT = 10.5, 18, 12
TWIPS_PER_MM = 1440 / 25.4


def write(forms: list[FormGrid]) -> bytes:
    """The DOCX file of the given forms, a page break before each form after the first."""
    document = Document()
    _page_setup(document)
    _default_font(document)
    _footer_page_numbers(document)
    body = document.element.body
    sect_pr = body[-1]
    for index, form in enumerate(forms):
        title = document.add_paragraph()
        _format_paragraph(title, WD_ALIGN_PARAGRAPH.CENTER, after=6, page_break=index > 0)
        _set_font(title.add_run(form.title), TITLE_FONT, TITLE_PT)
        for line in form.lines:
            paragraph = document.add_paragraph()
            align = WD_ALIGN_PARAGRAPH.LEFT if line.align == "left" else WD_ALIGN_PARAGRAPH.CENTER
            _format_paragraph(paragraph, align, after=4)
            _set_font(paragraph.add_run(line.text), BODY_FONT, LINE_PT)
        sect_pr.addprevious(parse_xml(_table_xml(form.table, _text_width_twips())))
        tail = document.add_paragraph()  # Word wants a paragraph after a table; keep it tiny
        _format_paragraph(tail, WD_ALIGN_PARAGRAPH.LEFT, after=0)
        tail.paragraph_format.line_spacing = Pt(1)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _page_setup(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])


def _default_font(document) -> None:
    style = document.styles["Normal"]
    _set_font(style, BODY_FONT, BODY_PT)
    style.paragraph_format.space_before = Pt(0)
    style.paragraph_format.space_after = Pt(0)


def _set_font(target, east_asian: str, size: float) -> None:
    """Set Latin and East Asian fonts; ``font.name`` alone leaves Chinese text in the fallback font."""
    target.font.name = LATIN_FONT
    target.font.size = Pt(size)
    r_pr = target.element.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _format_paragraph(paragraph, align, after: float, page_break: bool = False) -> None:
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(after)
    paragraph.paragraph_format.page_break_before = page_break


def _footer_page_numbers(document) -> None:
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run_pr = f'<w:rPr><w:rFonts w:eastAsia="{BODY_FONT}"/><w:sz w:val="18"/></w:rPr>'
    parts = ["第 ", ("PAGE",), " 页，共 ", ("NUMPAGES",), " 页"]
    for part in parts:
        if isinstance(part, tuple):
            xml = (f'<w:fldSimple {nsdecls("w")} w:instr=" {part[0]} "><w:r>{run_pr}<w:t>1</w:t></w:r>'
                   "</w:fldSimple>")
        else:
            xml = f'<w:r {nsdecls("w")}>{run_pr}<w:t xml:space="preserve">{part}</w:t></w:r>'
        footer._p.append(parse_xml(xml))


def _text_width_twips() -> int:
    return round((PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]) * TWIPS_PER_MM)


def _table_xml(table: Table, width: int) -> str:
    cols = [round(w * width) for w in table.widths]
    cover = {(cell.row + i, cell.col + j): cell for cell in table.cells
             for i in range(cell.rowspan) for j in range(cell.colspan)}
    border = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    parts = [
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{sum(cols)}" w:type="dxa"/><w:jc w:val="center"/>',
        "<w:tblBorders>",
        *(f"<w:{side} {border}/>" for side in ("top", "left", "bottom", "right", "insideH", "insideV")),
        '</w:tblBorders><w:tblLayout w:type="fixed"/>',
        '<w:tblCellMar><w:top w:w="40" w:type="dxa"/><w:left w:w="70" w:type="dxa"/>'
        '<w:bottom w:w="40" w:type="dxa"/><w:right w:w="70" w:type="dxa"/></w:tblCellMar>',
        '<w:tblLook w:val="0000"/></w:tblPr><w:tblGrid>',
        *(f'<w:gridCol w:w="{w}"/>' for w in cols),
        "</w:tblGrid>",
    ]
    for r in range(table.rows):
        parts.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        c = 0
        while c < table.cols:
            cell = cover[(r, c)]
            parts.append(_cell_xml(cell, sum(cols[cell.col:cell.col + cell.colspan]), cell.row == r))
            c = cell.col + cell.colspan
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    return "".join(parts)


def _cell_xml(cell: Cell, width: int, origin: bool) -> str:
    span = f'<w:gridSpan w:val="{cell.colspan}"/>' if cell.colspan > 1 else ""
    merge = ""
    if cell.rowspan > 1:
        merge = '<w:vMerge w:val="restart"/>' if origin else "<w:vMerge/>"
    props = f'<w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{span}{merge}<w:vAlign w:val="center"/></w:tcPr>'
    align = "left" if cell.role == "text" else "center"
    paragraphs = cell.paragraphs if origin else ("",)
    return f"<w:tc>{props}{''.join(_paragraph_xml(p, align) for p in paragraphs)}</w:tc>"


def _paragraph_xml(text: str, align: str) -> str:
    run = f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>' if text else ""
    return f'<w:p><w:pPr><w:jc w:val="{align}"/></w:pPr>{run}</w:p>'
