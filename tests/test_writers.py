"""What each writer puts in the file: print setup, fonts, borders, heights, and user text as data."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pypdf
from docx import Document
from docx.enum.section import WD_SECTION
from docx.oxml.ns import qn

from jixiao import load, render
from jixiao.writers.xlsx import sheet_name

from .conftest import PROJECT, SAMPLES, sample_forms, write
from .readback import docx_text, squash, xlsx_raw_borders

HOUJIE = SAMPLES / "houjie-party-office-2026-department-approval.yaml"
WANGNIUDUN = SAMPLES / "wangniudun-union-2024-project-approval.yaml"


def form_with_name(tmp_path, name: str):
    text = PROJECT.replace("项目名称: 测试项目", f"项目名称: '{name}'")
    return load(write(tmp_path, "a.yaml", text)).all_forms()[0]


def test_text_that_looks_like_a_formula_stays_text_in_xlsx(tmp_path):
    for text in ("=1+1", "+SUM(A1:A3)", "-2+3", "@cmd", '=HYPERLINK("http://x","y")'):
        data = render(form_with_name(tmp_path, text), "xlsx")
        cell = openpyxl.load_workbook(io.BytesIO(data)).active["C2"]
        assert (cell.value, cell.data_type) == (text, "s"), text
        sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


def test_markup_is_printed_as_typed(tmp_path):
    typed = '<b>粗</b><img src="file:///etc/hostname">&amp;'
    form = form_with_name(tmp_path, typed.replace("'", "''"))
    pdf = render(form, "pdf")
    page_text = "".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert squash(typed) in page_text
    assert b"/Image" not in pdf
    assert typed in docx_text(render(form, "docx"))
    assert "&lt;b&gt;粗&lt;/b&gt;" in render(form, "html").decode()


def test_template_cannot_make_the_pdf_fetch_a_file(tmp_path):
    from PIL import Image  # pulled in by WeasyPrint

    picture = tmp_path / "secret.png"
    Image.new("RGB", (20, 20), "red").save(picture)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "document.html.j2").write_text(
        f'<html><body><img src="file://{picture}">{{{{ sections | join }}}}</body></html>', "utf-8")
    form = sample_forms(WANGNIUDUN)[0]
    assert b"/Image" not in render(form, "pdf", templates)


def test_p_paragraphs_become_paragraphs(tmp_path):
    form = sample_forms(HOUJIE)[0]
    document = Document(io.BytesIO(render(form, "docx")))
    goal_cell = document.tables[0].rows[8].cells[1]
    assert [p.text[:2] for p in goal_cell.paragraphs] == ["1.", "2.", "3.", "4."]
    assert "<p>" not in docx_text(render(form, "docx"))
    sheet = openpyxl.load_workbook(io.BytesIO(render(form, "xlsx"))).active
    goal = next(c.value for row in sheet.iter_rows() for c in row if c.value and c.value.startswith("1. 做好"))
    assert goal.count("\n") == 3


def test_docx_page_fonts_widths_and_rows(tmp_path):
    data = render(sample_forms(WANGNIUDUN), "docx")
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"
    title_fonts = document.paragraphs[0].runs[0].element.rPr.rFonts
    assert title_fonts.get(qn("w:eastAsia")) == "黑体"
    assert len(document.tables) == 2  # one table a form
    assert len(document.sections) == 2  # a section a form: each numbers its own pages
    assert all(s.start_type == WD_SECTION.NEW_PAGE for s in document.sections)
    for table in document.tables:
        tbl = table._tbl
        assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
        assert len(tbl.tblGrid.findall(qn("w:gridCol"))) == 6
        for tr in tbl.tr_lst:
            assert tr.trPr.find(qn("w:cantSplit")) is not None
            for tc in tr.tc_lst:
                assert tc.tcPr.find(qn("w:tcW")).get(qn("w:type")) == "dxa"


def test_docx_writes_merged_text_once(tmp_path):
    document = Document(io.BytesIO(render(sample_forms(WANGNIUDUN)[0], "docx")))
    texts = [tc.xpath("string(.)") for tr in document.tables[0]._tbl.tr_lst for tc in tr.tc_lst]
    assert texts.count("绩效指标") == 1 and texts.count("产出指标") == 1


def test_docx_carries_only_the_parts_and_styles_it_uses():
    data = render(sample_forms(WANGNIUDUN), "docx")
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == {"[Content_Types].xml", "_rels/.rels", "docProps/core.xml", "docProps/app.xml",
                     "word/document.xml", "word/_rels/document.xml.rels", "word/styles.xml",
                     "word/settings.xml", "word/footer1.xml", "word/footer2.xml"}
    document = Document(io.BytesIO(data))
    assert {s.name for s in document.styles} == {"Normal", "Default Paragraph Font", "Normal Table"}
    assert document.core_properties.author == "jixiao"
    assert document.sections[1].footer.part is not document.sections[0].footer.part


def test_xlsx_borders_wrap_heights_and_print_setup():
    form = sample_forms(WANGNIUDUN)[0]
    data = render(form, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "portrait"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    stored = xlsx_raw_borders(data)
    covered = [cell.coordinate for merged in sheet.merged_cells.ranges if merged.min_row >= 2
               for row in sheet.iter_rows(min_row=merged.min_row, max_row=merged.max_row,
                                          min_col=merged.min_col, max_col=merged.max_col) for cell in row]
    assert len(covered) > 60  # the title row (no border) left out
    for coordinate in covered:
        assert stored.get(coordinate) == {"left", "right", "top", "bottom"}, coordinate
    goal = sheet["C10"]
    assert goal.alignment.wrap_text and len(goal.value) > 300
    width = sum(sheet.column_dimensions[c].width for c in "CDEF")
    lines_needed = len(goal.value) * 2 / width  # two columns of width a Chinese character
    assert sheet.row_dimensions[10].height >= lines_needed * 13


def test_xlsx_fonts_footer_gridlines_and_quote_prefix(tmp_path):
    sheet = openpyxl.load_workbook(io.BytesIO(render(form_with_name(tmp_path, "=1+1"), "xlsx"))).active
    title, name = sheet["A1"], sheet["C2"]
    assert (title.font.name, title.font.sz, title.font.charset) == ("黑体", 18, 134)
    assert (name.font.name, name.font.sz, name.font.charset) == ("宋体", 10.5, 134)
    assert name.quotePrefix and not sheet["A2"].quotePrefix
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert sheet.sheet_view.showGridLines is False


def test_sheet_names_are_valid_and_unique():
    used: set[str] = set()
    names = [sheet_name(n, used) for n in ("a/b:c*?[x]", "甲" * 40, "甲" * 40, "Sheet", "sheet")]
    assert names[0] == "a_b_c___x_"
    assert len(names[1]) == 31 and names[2] == "甲" * 28 + "(2)"
    assert names[3:] == ["Sheet", "sheet(2)"]
