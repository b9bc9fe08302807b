"""DOCX writer: form grids in, a Word document out (bytes, or streamed into a file), packaged by python-docx.

python-docx assembles the package (content types, relationships, parts, the footer parts and their
references in each section); the body is WordprocessingML built here as text, which is faster than
adding paragraphs and cells one by one through python-docx's objects and keeps the few attributes
python-docx has no API for (East Asian fonts, ``gridSpan``/``vMerge``, bookmarks, links to them, fields).

The body is streamed: python-docx's document holds only the paragraph that ends each section (with its
``sectPr`` and footer reference). It is saved, then copied into the output zip entry by entry, and
``word/document.xml`` is written a piece at a time (``ZipFile.open(name, "w")``), each section's content
(the front, then each form's XML made from its grid, parsed with :func:`docx.oxml.parse_xml` so it is
well formed and written back as lxml writes it) before the paragraph that ends it. A 1,000-form document
never exists as one tree (that took about 300 MB); the footers are plain parts sharing their bytes among
forms of the same page count. The bytes are the same as when python-docx held the whole body.

python-docx's default template is not opened for each document: its styles and the styles-with-effects
copy are 430 KB each and parsing them cost more than drawing the form, and LibreOffice took about twice
as long to open such a file. Once per process :func:`_base` opens that default template, replaces the
styles and settings with the few this writer uses (below), drops the parts it does not use (theme,
numbering, font table, web settings, styles with effects, custom XML, thumbnail) and keeps the result's
bytes; each document opens those bytes (a few KB). It is built rather than shipped as a ``base.docx``
so that nothing binary has to be kept in step with the styles written here.

Tables have real merges (``gridSpan``/``vMerge``) with the text once, fixed column widths (``gridCol``
and ``tcW``), borders on the whole table, rows that do not split across pages. Fonts set the East Asian
slot (``w:eastAsia``) so Word and WPS use 宋体 and 黑体. A4 portrait.

Each form is a section of its own that restarts page numbering, and its footer (a part per form)
reads "第 x 页，共 y 页" of that form (``PAGE`` and ``SECTIONPAGES``; ``NUMPAGES`` in a one-form
file), the form's PDF page count as the cached "y".
A combined document opens with a :class:`Front`: the cover, then the contents, a line a form, each a
link to a bookmark on the form's title, with its page as the PDF numbers it (form pages from 1 after
the cover and contents). The number is text, not a ``PAGEREF`` field: a form's section restarts page
numbering, so a PAGEREF to any form's title shows 1 once the field is updated (LibreOffice updates it
on opening, Word on printing or F9).
"""

from __future__ import annotations

import functools
import io
import itertools
import os
import zipfile
from dataclasses import dataclass
from typing import IO, Iterator, Sequence
from xml.sax.saxutils import escape

import docx
import lxml.html
from docx.enum.section import WD_HEADER_FOOTER
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.parts.hdrftr import FooterPart
from lxml import etree

from ..grid import Cell, FormGrid, Table

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 18, "right": 16, "bottom": 20, "left": 16}  # as templates/style.css
BODY_FONT, TITLE_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BODY_PT, TITLE_PT, LINE_PT = 10.5, 18, 12
TWIPS_PER_MM = 1440 / 25.4
FORM_BOOKMARK = "_jxForm{}"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS = f'xmlns:w="{_W}" xmlns:r="{_R}"'
_DOCUMENT = "word/document.xml"
_PARAGRAPH = b"<w:p>"  # how lxml writes the start of a paragraph without attributes
_XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"


@dataclass(frozen=True)
class Front:
    """The cover and contents of a combined document, as texts (read from ``cover.html.j2``'s HTML)."""

    cover: tuple[tuple[str, str], ...]             # (class, text): cover-title, cover-unit, cover-date
    contents_title: str
    entries: tuple[tuple[str, str, str], ...]      # (number, name, page), a form each, in order

    @classmethod
    def read(cls, html: str) -> "Front":
        """The texts of the template's ``section.cover`` and ``section.contents``."""
        root = lxml.html.document_fromstring(html)
        cover = tuple((next(iter(p.classes), ""), p.text_content().strip())
                      for section in root.find_class("cover") for p in section.iter("p", "h1", "h2"))
        title = next((p.text_content().strip() for p in root.find_class("contents-title")), "目录")
        rows = tuple(tuple(td.text_content().strip() for td in tr.findall("td"))[-3:]
                     for table in root.xpath("//table[contains(@class, 'contents')]") for tr in table.iter("tr"))
        return cls(cover, title, tuple(r for r in rows if len(r) == 3))


def write(forms: Sequence[FormGrid], front: Front | None = None, pages: Sequence[int] | None = None) -> bytes:
    """The DOCX file of the given forms (a section each), after the cover and contents if given.

    ``pages`` are the forms' page counts in the PDF: the cached result of each footer's "共 y 页"
    field (Word recomputes it; LibreOffice shows the cached number, it has no SECTIONPAGES).
    """
    buffer = io.BytesIO()
    write_to(buffer, forms, front, pages)
    return buffer.getvalue()


def write_to(target: str | os.PathLike | IO[bytes], forms: Sequence[FormGrid], front: Front | None = None,
             pages: Sequence[int] | None = None) -> None:
    """Write the DOCX of :func:`write` to ``target`` (a path or a binary file), a form at a time.

    python-docx builds the package: the paragraph ending each section (the front's, each form's) and
    the footers. ``word/document.xml`` is then streamed into the zip, each form's XML made from its
    grid when its turn comes and written before the paragraph that ends its section: memory holds the
    grids given and one form's XML, never the whole body. Not atomic: a failure midway leaves a partial
    file at ``target``; write to a temporary file and rename it (as :mod:`jixiao.publish` does).
    """
    package = _package(len(forms), front is not None, pages or ())
    width = _text_width_twips()

    def fragments() -> Iterator[bytes]:
        if front is not None:
            yield _fragment(_front_xml(front, width))
        for index, form in enumerate(forms):
            yield _fragment(_form_xml(form, index, width))

    _write_zip(target, package, fragments(), len(forms) + (front is not None))


def _package(count: int, front: bool, pages: Sequence[int]) -> bytes:
    """The package of a document of ``count`` forms: every part, and a body without the content.

    The body holds the paragraph that ends each section (with the section's ``sectPr``; the last
    form's is followed by the body's ``sectPr``), a section's content goes before it
    (:func:`_write_zip`). Each form's section has a footer part of its own; the parts of forms with
    the same page count share one ``bytes`` (python-docx writes a footer part's XML as it made it).
    """
    document = docx.Document(io.BytesIO(_base()))
    body = document.element.body
    ends = [f"<w:p><w:pPr>{_sect_pr(restart=False)}</w:pPr></w:p>"] if front else []
    ends += [_form_end(last=index == count - 1) for index in range(count)]
    if not count:
        ends.append(f"<w:p/>{_sect_pr(restart=False)}")
    for start in range(0, len(ends), 256):  # a slice at a time: no long string of them all
        body.extend(parse_xml(f'<w:body {_NS}>{"".join(ends[start:start + 256])}</w:body>'))
    total = "SECTIONPAGES" if count > 1 else "NUMPAGES"
    counts = [max(1, n) for n in pages[:count]] + [1] * (count - len(pages))
    sections = document.element.sectPr_lst
    rels = document.part.rels
    # the rIds python-docx's relate_to would give, without its search of every relationship for one to
    # the same part (a new footer has none; searching made 1,000 footers take 0.5 s and 3,000 4.5 s)
    free_ids = (rId for rId in (f"rId{n}" for n in itertools.count(1)) if rId not in rels)
    blobs: dict[int, bytes] = {}
    for index, (total_pages, sect_pr) in enumerate(zip(counts, sections[len(sections) - count:], strict=True)):
        if total_pages not in blobs:
            blobs[total_pages] = _footer_blob(document, total, total_pages)
        footer = Part(PackURI(f"/word/footer{index + 1}.xml"), CT.WML_FOOTER, blobs[total_pages],
                      document.part.package)
        rel = rels.add_relationship(RT.FOOTER, footer, next(free_ids))
        sect_pr.add_footerReference(WD_HEADER_FOOTER.PRIMARY, rel.rId)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _footer_blob(document, total_field: str, total: int) -> bytes:
    """The XML of a footer reading "第 x 页，共 y 页", as python-docx writes a footer part it made."""
    footer = FooterPart.new(document.part.package)  # related to nothing: not in the package
    _replace_children(footer.element, _footer_xml(total_field, total))
    return footer.blob


def _write_zip(target: str | os.PathLike | IO[bytes], package: bytes, fragments: Iterator[bytes],
               sections: int) -> None:
    """Copy ``package`` to ``target``, each fragment written before the paragraph that ends its section."""
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            if info.filename != _DOCUMENT:
                out.writestr(info, source.read(info))
                continue
            head, *ends = source.read(info).split(_PARAGRAPH)  # the body holds the section ends only
            if len(ends) != sections:
                raise RuntimeError(f"{_DOCUMENT}: {len(ends)} paragraphs end a section, {sections} expected")
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
            with out.open(entry, "w") as stream:
                stream.write(head)
                for fragment, end in zip(fragments, ends, strict=True):
                    stream.write(fragment)
                    stream.write(_PARAGRAPH + end)


def _fragment(parts: list[str]) -> bytes:
    """The XML of a section's content, parsed (so it is well formed) and written back as lxml writes it."""
    xml = etree.tostring(parse_xml(f'<w:body {_NS}>{"".join(parts)}</w:body>'), encoding="UTF-8",
                         xml_declaration=False)
    return xml[xml.index(b">") + 1:-len(b"</w:body>")]


def _form_xml(form: FormGrid, index: int, width: int) -> list[str]:
    mark = FORM_BOOKMARK.format(index + 1)
    title = (f'<w:p><w:pPr><w:keepNext/><w:spacing w:after="120"/><w:jc w:val="center"/>'
             f'<w:outlineLvl w:val="0"/></w:pPr><w:bookmarkStart w:id="{index + 1}" w:name="{mark}"/>'
             f'{_run(form.title, TITLE_FONT, TITLE_PT)}<w:bookmarkEnd w:id="{index + 1}"/></w:p>')
    parts = [title]
    for line in form.lines:
        align = "left" if line.align == "left" else "center"
        parts.append(f'<w:p><w:pPr><w:spacing w:after="80"/><w:jc w:val="{align}"/></w:pPr>'
                     f"{_run(line.text, BODY_FONT, LINE_PT)}</w:p>")
    parts.append(_table_xml(form.table, width))
    return parts


def _form_end(last: bool) -> str:
    """The paragraph after a form's table (Word wants one; kept tiny): it ends the form's section."""
    section = "" if last else _sect_pr(restart=True)
    end = f'<w:p><w:pPr><w:spacing w:after="0" w:line="20" w:lineRule="exact"/>{section}</w:pPr></w:p>'
    return end + _sect_pr(restart=True) if last else end


def _front_xml(front: Front, width: int) -> list[str]:
    sizes = {"cover-title": (TITLE_FONT, 26, 4500), "cover-unit": (BODY_FONT, 16, 3400),
             "cover-date": (BODY_FONT, 16, 400)}
    parts = []
    for css, text in front.cover:
        font, size, before = sizes.get(css, (BODY_FONT, 16, 400))
        parts.append(f'<w:p><w:pPr><w:spacing w:before="{before}" w:after="0"/><w:jc w:val="center"/></w:pPr>'
                     f"{_run(text, font, size)}</w:p>")
    parts.append(f'<w:p><w:pPr><w:pageBreakBefore/><w:spacing w:after="200"/><w:jc w:val="center"/></w:pPr>'
                 f"{_run(front.contents_title, TITLE_FONT, TITLE_PT)}</w:p>")
    for index, (number, name, page) in enumerate(front.entries, start=1):
        mark = FORM_BOOKMARK.format(index)
        parts.append(
            f'<w:p><w:pPr><w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{width}"/></w:tabs>'
            f'<w:spacing w:after="60"/><w:ind w:left="480" w:hanging="480"/></w:pPr>'
            f'<w:hyperlink w:anchor="{mark}" w:history="1">{_run(f"{number}　{name}", BODY_FONT, LINE_PT)}'
            f'<w:r><w:tab/></w:r>{_run(page, BODY_FONT, LINE_PT)}</w:hyperlink></w:p>')
    return parts


def _run(text: str, east_asian: str, size: float) -> str:
    return f"<w:r>{_r_pr(east_asian, size)}<w:t xml:space=\"preserve\">{escape(text)}</w:t></w:r>"


def _r_pr(east_asian: str, size: float) -> str:
    half_points = round(size * 2)
    return (f'<w:rPr><w:rFonts w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" w:eastAsia="{east_asian}" '
            f'w:hint="eastAsia"/><w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>')


def _sect_pr(restart: bool) -> str:
    """A section: A4 portrait; a form's section restarts page numbering at 1 (its footer comes later)."""
    m = {side: round(mm * TWIPS_PER_MM) for side, mm in MARGINS_MM.items()}
    restart = '<w:pgNumType w:start="1"/>' if restart else ""
    return (f'<w:sectPr><w:type w:val="nextPage"/>'
            f'<w:pgSz w:w="{round(PAGE_WIDTH_MM * TWIPS_PER_MM)}" w:h="{round(PAGE_HEIGHT_MM * TWIPS_PER_MM)}"/>'
            f'<w:pgMar w:top="{m["top"]}" w:right="{m["right"]}" w:bottom="{m["bottom"]}" w:left="{m["left"]}" '
            f'w:header="851" w:footer="567" w:gutter="0"/>{restart}<w:cols w:space="425"/></w:sectPr>')


def _footer_xml(total_field: str, total: int) -> str:
    parts = [_run("第 ", BODY_FONT, 9), _simple_field("PAGE"), _run(" 页，共 ", BODY_FONT, 9),
             _simple_field(total_field, str(total)), _run(" 页", BODY_FONT, 9)]
    return (f'<w:ftr {_NS}><w:p><w:pPr><w:jc w:val="center"/></w:pPr>'
            f'{"".join(parts)}</w:p></w:ftr>')


def _simple_field(name: str, cached: str = "1") -> str:
    return f'<w:fldSimple w:instr=" {name} ">{_run(cached, BODY_FONT, 9)}</w:fldSimple>'


def _text_width_twips() -> int:
    return round((PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]) * TWIPS_PER_MM)


def _table_xml(table: Table, width: int) -> str:
    cols = [round(w * width) for w in table.widths]
    cover = {(cell.row + i, cell.col + j): cell for cell in table.cells
             for i in range(cell.rowspan) for j in range(cell.colspan)}
    border = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    parts = [
        f'<w:tbl><w:tblPr><w:tblW w:w="{sum(cols)}" w:type="dxa"/><w:jc w:val="center"/>',
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


@functools.cache
def _base() -> bytes:
    """The package every document starts from: python-docx's default template made small (see above)."""
    document = docx.Document()
    _replace_children(document.styles.element, _STYLES)
    _replace_children(document.settings.element, _SETTINGS)
    body = document.element.body
    for child in list(body):
        body.remove(child)
    for rId, rel in list(document.part.rels.items()):
        if rel.reltype not in (RT.STYLES, RT.SETTINGS):
            document.part.drop_rel(rId)
    package = document.part.package
    for rId, rel in list(package.rels.items()):
        if rel.reltype not in (RT.OFFICE_DOCUMENT, RT.CORE_PROPERTIES):
            del package.rels[rId]   # the package has no drop_rel; its rels are a dict
    _replace_children(package.part_related_by(RT.CORE_PROPERTIES).element, _CORE)
    app = Part(PackURI("/docProps/app.xml"), CT.OFC_EXTENDED_PROPERTIES, _APP.encode(), package)
    package.relate_to(app, RT.EXTENDED_PROPERTIES)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_children(element, xml: str) -> None:
    """Give ``element`` the children of the root of ``xml`` instead of its own."""
    for child in list(element):
        element.remove(child)
    element.extend(parse_xml(xml))


_FONTS = (f'<w:rFonts w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" w:eastAsia="{BODY_FONT}" '
          f'w:cs="{LATIN_FONT}" w:hint="eastAsia"/>')
_BODY_SIZE = f'<w:sz w:val="{round(BODY_PT * 2)}"/><w:szCs w:val="{round(BODY_PT * 2)}"/>'
_STYLES = (
    f'<w:styles xmlns:w="{_W}"><w:docDefaults><w:rPrDefault><w:rPr>{_FONTS}{_BODY_SIZE}'
    '<w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>'
    '<w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
    '</w:docDefaults>'
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/>'
    f'<w:pPr><w:spacing w:before="0" w:after="0"/></w:pPr><w:rPr>{_FONTS}{_BODY_SIZE}</w:rPr></w:style>'
    '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
    '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>'
    '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
    '<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/>'
    '<w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/>'
    '</w:tblCellMar></w:tblPr></w:style></w:styles>')
_SETTINGS = (
    f'<w:settings xmlns:w="{_W}"><w:defaultTabStop w:val="420"/>'
    '<w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:useFELayout/>'
    '<w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/>'
    '</w:compat></w:settings>')
_CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>jixiao</dc:creator></cp:coreProperties>')
_APP = (f"{_XML_DECLARATION}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>jixiao</Application></Properties>")
