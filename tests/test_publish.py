"""The combined documents, read back as a reader sees them: cover, contents with page numbers, one
bookmark per form, each form numbering its own pages, fonts embedded once, the XLSX index's links."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections import Counter

import openpyxl
import pypdf
import pytest
from docx import Document
from docx.oxml.ns import qn

from jixiao.errors import OutputError
from jixiao.publish import Cover, write_combined
from jixiao.render import document, render_form
from jixiao.writers import pdf as pdf_writer

from .conftest import ROOT, SAMPLES, sample_forms
from .readback import docx_merges, pdf_fonts, squash

COVER = Cover("某镇2026年绩效目标表汇编", "某镇财政分局", "2026年11月")
FORMATS = ["pdf", "docx", "xlsx"]


@pytest.fixture(scope="module")
def forms():
    """A 3-page department approval form, then two project forms (2 pages and 1 page)."""
    return (sample_forms(SAMPLES / "houjie-party-office-2026-department-approval.yaml")
            + sample_forms(SAMPLES / "wangniudun-union-2024-project-approval.yaml"))


@pytest.fixture(scope="module")
def parts(forms):
    return [render_form(form, FORMATS) for form in forms]


@pytest.fixture(scope="module")
def combined(parts, tmp_path_factory):
    folder = tmp_path_factory.mktemp("combined")
    for fmt in FORMATS:
        write_combined((part for part in parts), fmt, COVER, folder / f"all.{fmt}")  # a generator
    return folder


def page_texts(path) -> list[str]:
    """The squashed text of each page, by pdftotext."""
    count = len(pypdf.PdfReader(path).pages)
    return [squash(subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"],
                                  capture_output=True, text=True, check=True).stdout) for n in range(1, count + 1)]


def form_pages(parts) -> list[int]:
    """Each form's page count, read from its own PDF."""
    return [len(pypdf.PdfReader(io.BytesIO(part.files["pdf"])).pages) for part in parts]


def test_each_form_pdf_numbers_its_own_pages(parts, tmp_path):
    path = tmp_path / "form.pdf"
    path.write_bytes(parts[0].files["pdf"])
    texts = page_texts(path)
    assert len(texts) == parts[0].pages == 3
    for number, text in enumerate(texts, start=1):
        assert f"第{number}页，共3页" in text


def test_combined_pdf_opens_with_cover_and_contents_giving_each_form_its_page(combined, parts):
    texts = page_texts(combined / "all.pdf")
    counts = form_pages(parts)
    assert counts == [3, 2, 1]
    assert all(s in texts[0] for s in (COVER.title, COVER.unit, COVER.date))
    contents = texts[1]
    assert "目录" in contents
    starts = [1, 4, 6]  # form pages counted from 1 after the cover and the contents
    for number, (part, start) in enumerate(zip(parts, starts, strict=True), start=1):
        assert f"{number}{squash(part.name)}{start}" in contents
    body = texts[2:]
    assert len(body) == sum(counts)
    for part, start, count in zip(parts, starts, counts, strict=True):
        for page in range(count):  # every form numbers its own pages
            assert f"第{page + 1}页，共{count}页" in body[start - 1 + page]
        assert squash(part.grid.title) in body[start - 1]
    labels = pypdf.PdfReader(combined / "all.pdf").page_labels
    assert labels == ["i", "ii", "1", "2", "3", "4", "5", "6"]  # the viewer shows the contents' numbers


def test_combined_pdf_has_one_bookmark_per_form_at_its_first_page(combined, parts):
    reader = pypdf.PdfReader(combined / "all.pdf")
    assert reader.metadata.title == COVER.title and reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"
    marks = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert marks == [(COVER.title, 0), ("目录", 1), (parts[0].name, 2), (parts[1].name, 5), (parts[2].name, 7)]


def test_joined_pdf_embeds_each_font_once_and_stays_near_one_layout(combined, forms, parts, tmp_path):
    rows = pdf_fonts(combined / "all.pdf")
    names = [row.split()[0].split("+", 1)[-1] for row in rows]
    assert len(rows) >= 2 and Counter(names).most_common(1)[0][1] == 1, rows
    per_form = set()
    for index, part in enumerate(parts):
        path = tmp_path / f"{index}.pdf"
        path.write_bytes(part.files["pdf"])
        per_form |= {row.split()[0].split("+", 1)[-1] for row in pdf_fonts(path)}
    assert per_form <= set(names)
    one_layout = pdf_writer.write(document(forms).html)
    assert (combined / "all.pdf").stat().st_size <= 1.5 * len(one_layout)


def noto_parts(forms, tmp_path):
    """The forms printed with Noto CJK (CFF fonts) first, through a --templates folder."""
    css = (ROOT / "templates" / "style.css").read_text("utf-8")
    css = css.replace('"AR PL UMing CN", ', "").replace('"WenQuanYi Zen Hei", ', "")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "style.css").write_text(css, "utf-8")
    return [render_form(form, ["pdf"], templates) for form in forms], templates


def test_a_cff_font_is_subset_again_from_the_installed_file(forms, tmp_path):
    """Noto CJK is CFF: its subsets cannot be merged glyph by glyph, so the installed font (the same
    version) is subset once for all the glyphs; each font once, every page drawn as before."""
    parts, templates = noto_parts(forms, tmp_path)
    path = tmp_path / "noto.pdf"
    write_combined(iter(parts), "pdf", COVER, path, templates)
    rows = pdf_fonts(path)
    assert sum("Noto-Serif" in row for row in rows) == 1 and all("Type 0C" in row for row in rows), rows
    own = tmp_path / "own.pdf"
    own.write_bytes(parts[0].files["pdf"])
    for page in (1, 2, 3):
        assert pixels(path, 2 + page) == pixels(own, page)


def test_a_font_without_its_installed_file_is_kept_per_form(forms, tmp_path, monkeypatch):
    """E.g. a dask client without the workers' CFF font: correct, but the font once per form."""
    from jixiao.writers import fontmerge

    monkeypatch.setattr(fontmerge, "_find_original", lambda family, identity: None)
    parts, templates = noto_parts(forms, tmp_path)
    path = tmp_path / "noto.pdf"
    write_combined(iter(parts), "pdf", COVER, path, templates)
    assert sum("Noto-Serif" in row for row in pdf_fonts(path)) == len(parts) + 1  # the forms and the front
    text = "".join(page_texts(path))
    assert all(squash(part.name) in text for part in parts)


def pixels(path, page: int) -> bytes:
    """A page drawn by poppler, grey, 40 dpi."""
    return subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", str(page), "-l", str(page), str(path)],
                          capture_output=True, check=True).stdout


def test_combined_docx_has_cover_contents_and_a_section_per_form(combined, parts):
    data = (combined / "all.docx").read_bytes()
    document = Document(io.BytesIO(data))
    body = document.element.body
    texts = [p.text for p in document.paragraphs]
    assert texts[:3] == [COVER.title, COVER.unit, COVER.date]
    links = body.findall(f".//{qn('w:hyperlink')}")
    anchors = [link.get(qn("w:anchor")) for link in links]
    entries = ["".join(t.text for t in link.iter(qn("w:t"))) for link in links]
    assert [re.sub(r"\s", "", e) for e in entries] == [f"{n}{squash(p.name)}{s}" for n, p, s in
                                                        zip((1, 2, 3), parts, (1, 4, 6), strict=True)]
    marks = {b.get(qn("w:name")): b for b in body.iter(qn("w:bookmarkStart"))}
    for anchor, part in zip(anchors, parts, strict=True):  # each link lands on its form's title
        title = marks[anchor].getparent()
        assert "".join(t.text for t in title.iter(qn("w:t"))) == part.grid.title
    sections = document.sections
    assert len(sections) == 1 + len(parts)
    package = zipfile.ZipFile(io.BytesIO(data))
    for section, count in zip(sections[1:], form_pages(parts), strict=True):
        assert section._sectPr.find(qn("w:pgNumType")).get(qn("w:start")) == "1"
        footer = section.footer._element
        fields = [f.get(qn("w:instr")).strip() for f in footer.iter(qn("w:fldSimple"))]
        assert fields == ["PAGE", "SECTIONPAGES"]
        cached = "".join(t.text for t in footer.iter(qn("w:t")))
        assert cached == f"第 1 页，共 {count} 页"
    assert sections[0].footer.is_linked_to_previous  # the cover and contents: no page number
    assert len([n for n in package.namelist() if n.startswith("word/footer")]) == len(parts)


def test_combined_docx_puts_each_form_in_its_own_section(combined, parts):
    """The body streamed into the zip: the cover and contents, then each form (title, lines, table with its
    merged cells) between the paragraphs ending the sections before and after it, in order."""
    data = (combined / "all.docx").read_bytes()
    body = Document(io.BytesIO(data)).element.body
    sections, current = [], []
    for child in body:
        if child.tag == qn("w:sectPr"):  # the last section's, after its content
            break
        current.append(child)
        if child.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            sections.append(current)
            current = []
    sections.append(current)
    assert body[-1].tag == qn("w:sectPr") and len(sections) == 1 + len(parts)

    def texts(elements) -> list[str]:
        return ["".join(t.text for t in e.iter(qn("w:t"))) for e in elements if e.tag == qn("w:p")]

    assert texts(sections[0])[:3] == [COVER.title, COVER.unit, COVER.date]
    assert not [e for e in sections[0] if e.tag == qn("w:tbl")]
    for index, (section, part) in enumerate(zip(sections[1:], parts, strict=True)):
        tables = [e for e in section if e.tag == qn("w:tbl")]
        assert len(tables) == 1, part.name
        grid = part.grid
        assert texts(section)[:1 + len(grid.lines)] == [grid.title, *(line.text for line in grid.lines)]
        assert section[0].find(qn("w:bookmarkStart")).get(qn("w:name")) == f"_jxForm{index + 1}"
        merges = docx_merges(data, index)  # tables in document order: this section's
        assert merges and merges == grid.table.merges(), part.name


def test_combined_xlsx_starts_with_an_index_of_links(combined, parts):
    book = openpyxl.load_workbook(combined / "all.xlsx")
    index = book.worksheets[0]
    assert index.title == "目录" and index["A1"].value == COVER.title
    assert book.sheetnames[1:] == [book.worksheets[i].title for i in range(1, len(parts) + 1)]
    for row, (part, sheet) in enumerate(zip(parts, book.worksheets[1:], strict=True), start=3):
        cell = index.cell(row=row, column=2)
        assert cell.value == part.name
        assert cell.hyperlink.location == f"'{sheet.title}'!A1"
        assert squash(sheet["A1"].value) == squash(part.grid.title)


def test_nothing_to_combine_is_an_error(tmp_path):
    for fmt in FORMATS:
        with pytest.raises(OutputError, match="至少需要一张表"):
            write_combined(iter([]), fmt, COVER, tmp_path / f"none.{fmt}")
        assert not (tmp_path / f"none.{fmt}").exists()


def test_joined_pages_look_exactly_like_the_forms_own_pages(combined, parts, tmp_path):
    """The merged fonts draw every glyph as the form's own subset did (pixels, not only text)."""
    starts = [3, 6, 8]  # 1-based pages of the joined file: after the cover and the contents
    for index, (part, start) in enumerate(zip(parts, starts, strict=True)):
        own = tmp_path / f"{index}.pdf"
        own.write_bytes(part.files["pdf"])
        for page in range(1, part.pages + 1):
            assert pixels(combined / "all.pdf", start + page - 1) == pixels(own, page), (part.name, page)


def test_subsets_of_two_versions_of_a_font_are_not_merged(parts, tmp_path):
    """Same font name, another font file (e.g. a dask worker with another version): kept apart."""
    import pikepdf
    from fontTools.ttLib.sfnt import SFNTReader, SFNTWriter

    def other_version(data: bytes) -> bytes:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for font in pdf.pages[0].obj.Resources.Font.values():
                stream = font.DescendantFonts[0].FontDescriptor.FontFile2
                reader = SFNTReader(io.BytesIO(stream.read_bytes()))
                tables = {tag: reader[tag] for tag in reader.keys()}
                head = bytearray(tables["head"])
                head[28:36] = (int.from_bytes(head[28:36], "big") + 1).to_bytes(8, "big")  # modified
                tables["head"] = bytes(head)
                out = io.BytesIO()
                writer = SFNTWriter(out, len(tables), sfntVersion="\0\1\0\0")
                for tag in sorted(tables):
                    writer[tag] = tables[tag]
                writer.close()
                stream.write(out.getvalue())
            saved = io.BytesIO()
            pdf.save(saved)
            return saved.getvalue()

    changed = type(parts[1])(parts[1].name, {"pdf": other_version(parts[1].files["pdf"])}, parts[1].grid,
                             parts[1].pages)
    path = tmp_path / "two-versions.pdf"
    write_combined(iter([parts[0], changed]), "pdf", COVER, path)
    names = [row.split()[0].split("+", 1)[-1] for row in pdf_fonts(path)]
    assert len(names) == 4 and len(set(names)) == 2  # each font twice: one per version
    text = "".join(page_texts(path))
    assert squash(parts[0].name) in text and squash(parts[1].name) in text


def test_cover_takes_the_shared_cover_title_else_the_file_name(tmp_path):
    import datetime

    from jixiao.errors import InputError
    from jixiao.loader import load
    from jixiao.publish import cover_for

    from .conftest import PROJECT, write

    form = "\n    ".join(PROJECT.splitlines())
    text = f"公共:\n  封面标题: ' 某镇  2025年 项目绩效目标表 '\n表单:\n  - {form}\n  - {form}\n"
    cover = cover_for(load(write(tmp_path, "town.yaml", text)), datetime.date(2025, 3, 1))
    assert cover == Cover("某镇 2025年 项目绩效目标表", "某办公室", "2025年3月")
    plain = load(write(tmp_path, "plain.yaml", text.replace("  封面标题: ' 某镇  2025年 项目绩效目标表 '\n", "")))
    assert cover_for(plain).title == "plain"
    for bad in ("[1, 2]", "''", "'" + "长" * 101 + "'"):
        path = write(tmp_path, "bad.yaml", text.replace("' 某镇  2025年 项目绩效目标表 '", bad))
        with pytest.raises(InputError) as error:
            load(path)
        problem = error.value.problems[0]
        assert (problem.line, problem.field) == (2, "公共 › 封面标题") and "封面标题" in problem.message


def test_a_damaged_form_pdf_is_a_clear_error_and_no_file(parts, tmp_path):
    broken = type(parts[1])(parts[1].name, {"pdf": parts[1].files["pdf"][:200]}, parts[1].grid, parts[1].pages)
    path = tmp_path / "broken.pdf"
    with pytest.raises(OutputError, match=f"无法合并第 2 张表「{re.escape(parts[1].name)}」的 PDF"):
        write_combined(iter([parts[0], broken]), "pdf", COVER, path)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_the_front_is_printed_again_only_when_its_text_changes(parts, tmp_path):
    from jixiao import publish

    publish._front_pdf.cache_clear()
    write_combined(parts, "pdf", COVER, tmp_path / "a.pdf")
    write_combined(parts, "pdf", COVER, tmp_path / "b.pdf")          # a re-run in a process that stays up
    assert publish._front_pdf.cache_info().hits == 1
    renamed = Cover("另一个标题", COVER.unit, COVER.date)
    write_combined(parts, "pdf", renamed, tmp_path / "c.pdf")
    assert publish._front_pdf.cache_info().misses == 2
    assert "另一个标题" in squash(subprocess.run(["pdftotext", str(tmp_path / "c.pdf"), "-"],
                                                capture_output=True, text=True).stdout)
    assert pdf_pages(tmp_path / "a.pdf") == pdf_pages(tmp_path / "b.pdf")


def pdf_pages(path):
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]
