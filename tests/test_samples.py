"""Every sample in every format, read back: files, merged cells, reference text, fonts, bookmarks."""

from __future__ import annotations

import json

import jsonschema
import pypdf
import pytest
from ruamel.yaml import YAML

from jixiao import document, grid, render
from jixiao.output import plan
from jixiao.schema import SCHEMA_FILE, schema_text
from jixiao.writers import FORMATS

from .conftest import REFERENCE_OF, SAMPLE_FILES, SAMPLES, sample_forms
from .readback import (
    docx_merges,
    docx_text,
    missing_in_order,
    pdf_fonts,
    pdf_text,
    reference_cells,
    xlsx_merges,
    xlsx_text,
)


def _outputs(out, sample):
    names = [f.display_name for f in sample_forms(sample)]
    return plan(out, sample.stem, names)


def test_samples_are_the_reference_forms():
    counts = {p.name: len(sample_forms(p)) for p in SAMPLE_FILES}
    assert counts == {
        "dongkeng-party-office-2024-project-targets.yaml": 22,
        "wangniudun-union-2024-project-approval.yaml": 2,
        "houjie-party-office-2026-department-approval.yaml": 1,
        "houjie-party-office-2026-department-targets.json": 1,
        "dongguan-city-department-2023-targets.yaml": 1,
    }
    layouts = {type(f).__name__ for p in SAMPLE_FILES for f in sample_forms(p)}
    assert layouts == {"ProjectForm", "ProjectApprovalForm", "DepartmentForm", "DepartmentApprovalForm",
                       "CityDepartmentForm"}


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_every_form_in_every_format(rendered, sample):
    paths = _outputs(rendered, sample)
    for base in paths.forms + ([paths.combined] if paths.combined else []):
        for fmt in FORMATS:
            produced = base.with_name(f"{base.name}.{fmt}")
            assert produced.is_file() and produced.stat().st_size > 1000, produced
    assert not list(rendered.rglob("*.tmp")), "a temporary file was left behind"


def test_docx_and_xlsx_of_a_form_share_a_name(rendered):
    docx = {p.with_suffix("") for p in rendered.rglob("*.docx")}
    xlsx = {p.with_suffix("") for p in rendered.rglob("*.xlsx")}
    assert docx == xlsx and len(docx) == 27 + 2  # 27 forms + the 2 combined documents


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_merged_cells_equal_in_docx_xlsx_and_layout(rendered, sample):
    paths = _outputs(rendered, sample)
    for form, base in zip(sample_forms(sample), paths.forms, strict=True):
        layout = grid.read(document(form).html)[0]
        expected = layout.table.merges()
        docx = docx_merges(base.with_name(base.name + ".docx").read_bytes())
        first_row = 2 + len(layout.lines)  # title row and the lines under it come first
        xlsx = xlsx_merges(base.with_name(base.name + ".xlsx").read_bytes(), first_row=first_row)
        assert docx == expected, form.display_name
        assert xlsx == expected, form.display_name


def test_merged_cells_of_the_first_dongkeng_form_as_published():
    form = sample_forms(SAMPLES / "dongkeng-party-office-2024-project-targets.yaml")[0]
    merges = docx_merges(render(form, "docx"))
    assert {(r, 0, 1, 2) for r in range(7)} <= merges          # 项目名称 … 2024年预算金额（元）
    assert {(r, 2, 1, 4) for r in (0, 1, 2, 3, 4, 6)} <= merges  # their values
    assert (7, 0, 4, 2) in merges                                 # 总体绩效目标
    assert (11, 0, 12, 1) in merges                               # 绩效指标: header + 11 rows
    assert (12, 1, 6, 1) in merges                                # 产出指标
    assert (12, 2, 2, 1) in merges and (15, 2, 2, 1) in merges    # 数量指标, 时效指标
    assert (18, 1, 4, 1) in merges                                # 效益指标, empty 二级 included
    assert not any(r == 22 for r, *_ in merges)                   # 满意度指标: one row, no merge


def test_combined_xlsx_has_a_sheet_per_form_with_unique_names(rendered):
    import openpyxl

    book = openpyxl.load_workbook(rendered / "dongkeng-party-office-2024-project-targets.xlsx")
    assert book.sheetnames[0] == "目录"  # the index sheet, then a sheet a form
    names = book.sheetnames[1:]
    assert len(names) == 22 and len(set(n.lower() for n in names)) == 22
    assert names[4] == "老干部支部党建工作经费" and names[5] == "老干部支部党建工作经费(2)"


@pytest.mark.parametrize("sample_name", sorted(REFERENCE_OF))
@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_every_reference_cell_appears_in_order(rendered, sample_name, fmt):
    sample = SAMPLES / sample_name
    paths = _outputs(rendered, sample)
    base = paths.combined or paths.forms[0]
    produced = base.with_name(f"{base.name}.{fmt}")
    text = {"pdf": lambda: pdf_text(produced), "docx": lambda: docx_text(produced.read_bytes()),
            "xlsx": lambda: xlsx_text(produced.read_bytes())}[fmt]()
    cells = reference_cells(REFERENCE_OF[sample_name])
    assert len(cells) > 50
    assert missing_in_order(cells, text) == []


def test_order_check_can_fail():
    assert missing_in_order(["产出指标", "效益指标"], "效益指标 产出指标") == ["效益指标"]


def test_pdf_embeds_cjk_fonts(rendered):
    for pdf in rendered.rglob("*.pdf"):
        rows = pdf_fonts(pdf)
        assert rows and all(" yes " in row for row in rows), pdf
        assert any("CJK" in row or "Song" in row or "Hei" in row for row in rows), rows


def test_combined_pdf_has_a_bookmark_per_form_and_page_numbers(rendered):
    reader = pypdf.PdfReader(rendered / "dongkeng-party-office-2024-project-targets.pdf")
    titles = [item.title for item in reader.outline]
    names = [f.display_name for f in sample_forms(SAMPLES / "dongkeng-party-office-2024-project-targets.yaml")]
    assert titles[:2] == ["2024年项目绩效目标表", "目录"]  # cover (公共.封面标题), contents
    assert titles[2:] == names
    pages = [reader.get_destination_page_number(item) for item in reader.outline]
    assert pages == sorted(set(pages)), "each form starts on a page of its own"
    last_form_pages = len(reader.pages) - pages[-1]
    assert f"第{last_form_pages}页，共{last_form_pages}页" in "".join(reader.pages[-1].extract_text().split())


def test_department_pdf_repeats_the_merged_label_after_a_page_break(rendered):
    pdf = next(rendered.glob("houjie-party-office-2026-department-approval/*.pdf"))
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) >= 2
    later = ["".join(page.extract_text().split()) for page in reader.pages[1:]]
    assert any("绩效指标" in text for text in later), "the published form prints 绩效指标 again"


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_json_schema_validates_every_sample(sample):
    schema = json.loads(schema_text())
    data = YAML(typ="safe").load(sample.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)


def test_json_schema_rejects_an_unknown_key():
    schema = json.loads(schema_text())
    bad = YAML(typ="safe").load((SAMPLES / "wangniudun-union-2024-project-approval.yaml").read_text())
    bad["表单"][0]["项目名"] = bad["表单"][0].pop("项目名称")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_schema_file_beside_samples_is_current():
    assert (SAMPLES / SCHEMA_FILE).read_text(encoding="utf-8") == schema_text()


def test_yaml_samples_start_with_the_schema_comment():
    for sample in SAMPLE_FILES:
        if sample.suffix == ".yaml":
            first = sample.read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"


def test_html_is_written_too(rendered):
    html = next(rendered.glob("wangniudun-union-2024-project-approval/*.html")).read_text("utf-8")
    assert "<table>" in html and 'rowspan="' in html and "工会活动" in html
    assert "望牛墩镇财政项目支出绩效目标批复表" in html

