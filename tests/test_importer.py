"""jixiao import: rendered forms and published text read back into exactly the input they came from."""

from __future__ import annotations

import glob
import os
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jixiao import InputError, load, render
from jixiao.cli import main
from jixiao.frameworks import STANDARD
from jixiao.importer import emit, import_file
from jixiao.model import FORM_CLASSES

from .conftest import REFERENCE_OF, SAMPLE_FILES, SAMPLES, sample_forms, write
from .readback import REFERENCE


def reimport(path: Path, tmp_path: Path) -> list:
    """Import a file, write the input file as `jixiao import` does, and load that back."""
    result = import_file(path)
    assert result.warnings == []
    written = write(tmp_path, "imported.yaml", emit.to_yaml(result.forms, str(path)))
    return load(written).all_forms()


@pytest.mark.parametrize("fmt", ["xlsx", "docx", "pdf"])
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_render_import_round_trip_of_every_sample(rendered, tmp_path, sample, fmt):
    expected = sample_forms(sample)
    combined = rendered / f"{sample.stem}.{fmt}"
    produced = combined if combined.exists() else Path(sorted(glob.glob(f"{rendered}/{sample.stem}/*.{fmt}"))[0])
    assert reimport(produced, tmp_path) == expected


@pytest.mark.parametrize("sample_name", sorted(REFERENCE_OF))
def test_published_text_imports_as_the_sample(tmp_path, sample_name):
    imported = reimport(REFERENCE / REFERENCE_OF[sample_name], tmp_path)
    assert imported == sample_forms(SAMPLES / sample_name)


def test_the_imported_file_reads_like_a_sample(tmp_path):
    result = import_file(REFERENCE / "dongkeng-party-office-2024-project-targets.txt")
    text = emit.to_yaml(result.forms)
    assert text.startswith("# yaml-language-server: $schema=jixiao.schema.json\n")
    assert "公共:\n  表样: 项目绩效目标表\n" in text and "  主管部门: 东莞市东坑镇党建工作办公室\n" in text
    assert "          - {三级指标: 党建活动参加人次（次）, 实施周期指标值: 约862人次, 当年度指标值: 约862人次}\n" in text
    assert text.count("  - 项目名称: ") == 22


def handmade_workbook(path: Path) -> None:
    """A project form typed into Excel by hand: its own widths, a blank row, another title, a stray note."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2025年项目"
    for column, width in zip("ABCDEFG", (6, 10, 14, 24, 30, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    rows = [
        ["东坑镇2025年度项目支出绩效目标申报表"],
        [],
        [None, "项目名称", None, "党员教育经费"],
        [None, "项目类型", None, "其他特定目标类"],
        [None, "项目等级", None, "二级项目"],
        [None, "主管部门", None, "某办公室"],
        [None, "用款单位", None, "某办公室"],
        [None, "实施周期", None, "起始年度", 2025, "到期年度", 2027],
        [None, "2025年预算金额（元）", None, 88000],
        [],  # a blank row typed in the middle
        [None, "总体绩效目标", None, "实施周期总目标"],
        [None, None, None, "提高党员素质。"],
        [None, None, None, "2025年度目标"],
        [None, None, None, "培训党员300人次。"],
        [None, "绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "当年度指标值"],
        [None, None, "产出指标", "数量指标", "培训人次", "≥900人次", "≥300人次"],
        [None, None, None, "质量指标", "合格率", 1, 1],
        [None, None, None, "时效指标", "完成及时率", "100%", "100%"],
        [None, None, None, "成本指标", "预算执行率", "≥90%", "≥90%"],
        [None, None, "效益指标", "社会效益指标", "党员素质", "提高", "提高"],
        [None, None, "满意度指标", "服务对象满意度指标", "满意度", "≥90%", "≥90%"],
        [],
        [None, "备注：请于3月前报送"],
    ]
    for row in rows:
        sheet.append(row)
    for top, bottom, column in ((3, 3, "B:C"), (11, 14, "B:C"), (15, 21, "B:B"), (16, 19, "C:C")):
        first, last = column.split(":")
        sheet.merge_cells(f"{first}{top}:{last}{bottom}")
    book.save(path)


def test_a_form_made_by_hand_in_excel(tmp_path):
    path = tmp_path / "手工.xlsx"
    handmade_workbook(path)
    result = import_file(path)
    assert len(result.forms) == 1
    assert result.warnings == [f"{path}：工作表「2025年项目」B23：未能识别的内容「备注：请于3月前报送」，未导入"]
    form = result.models[0]
    assert form.heading == "东坑镇2025年度项目支出绩效目标申报表"
    assert (form.name, form.year, form.amount, form.amount_unit) == ("党员教育经费", 2025, Decimal(88000), "元")
    assert (form.period.start, form.period.end) == (2025, 2027)
    assert form.goals.annual == "培训党员300人次。"
    assert list(form.indicators) == ["产出指标", "效益指标", "满意度指标"]
    assert [i.name for i in form.indicators["产出指标"]["质量指标"]] == ["合格率"]
    assert form.indicators["产出指标"]["质量指标"][0].annual_value == "1"


def test_several_forms_one_after_another_on_one_sheet(tmp_path):
    forms = sample_forms(SAMPLES / "wangniudun-union-2024-project-approval.yaml")
    single = openpyxl.load_workbook(__import__("io").BytesIO(render(forms, "xlsx")))
    book = openpyxl.Workbook()
    target = book.active
    for sheet in single.worksheets:  # copy both sheets' values one after another, a blank row between
        for row in sheet.iter_rows(values_only=True):
            target.append(row)
        target.append([])
    path = tmp_path / "one-sheet.xlsx"
    book.save(path)
    result = import_file(path)
    assert [m.name for m in result.models] == ["工会活动", "购买社工服务费"]


@pytest.mark.parametrize("case", ["unrelated", "empty_pdf", "picture", "truncated", "text"])
def test_a_file_without_forms_is_a_clear_error(tmp_path, case):
    if case == "unrelated":
        path = tmp_path / "预算.xlsx"
        book = openpyxl.Workbook()
        book.active.append(["科目", "金额"])
        book.active.append(["办公费", 1200])
        book.save(path)
        message = "没有找到绩效目标表"
    elif case == "empty_pdf":
        path = tmp_path / "空.pdf"
        from pypdf import PdfWriter

        writer = PdfWriter()
        writer.add_blank_page(595, 842)
        writer.write(path)
        message = "没有找到绩效目标表"
    elif case == "picture":
        from PIL import Image

        path = tmp_path / "扫描件.png"
        Image.new("RGB", (10, 10)).save(path)
        message = "不支持的文件类型「.png」"
    elif case == "truncated":
        source = render(sample_forms(SAMPLES / "wangniudun-union-2024-project-approval.yaml")[0], "xlsx")
        path = tmp_path / "坏.xlsx"
        path.write_bytes(source[: len(source) // 2])
        assert not zipfile.is_zipfile(path)
        message = "文件已损坏"
    else:
        path = write(tmp_path, "说明.txt", "这里没有表格。\n")
        message = "没有找到绩效目标表"
    with pytest.raises(InputError) as raised:
        import_file(path)
    assert message in str(raised.value) and str(path) in str(raised.value)
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_import_command_writes_yaml_or_json_and_keeps_an_existing_file(tmp_path):
    source = REFERENCE / "houjie-party-office-2026-department-approval.txt"
    out = tmp_path / "厚街.yaml"
    result = CliRunner().invoke(main, ["import", str(source), "-o", str(out)])
    assert result.exit_code == 0 and "已导入 1 张表" in result.output
    assert load(out).all_forms() == sample_forms(SAMPLES / "houjie-party-office-2026-department-approval.yaml")
    again = CliRunner().invoke(main, ["import", str(source), "-o", str(out)])
    assert again.exit_code == 2 and "已存在" in again.output
    as_json = tmp_path / "厚街.json"
    assert CliRunner().invoke(main, ["import", str(source), "-o", str(as_json)]).exit_code == 0
    assert load(as_json).all_forms() == load(out).all_forms()


# ---- generated forms -------------------------------------------------------------------------

ODD = "（）《》“”、，。；：%≥≤<>&'\"=+-@#/"
characters = st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
                       st.sampled_from(ODD), st.characters(min_codepoint=0x30, max_codepoint=0x7A))
word = st.text(characters, min_size=1, max_size=10)
name = st.builds(lambda head, tail: head + tail, st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
                 st.text(characters, max_size=14))
long_text = st.lists(st.lists(word, min_size=1, max_size=25).map(" ".join), min_size=1, max_size=3).map("\n".join)
value = st.one_of(st.just(""), word, st.sampled_from(["≥90%", "约862人次", "100%", "=1+1", "<b>x</b>"]))


@st.composite
def indicator_tree(draw, framework: int, annual_key: str):
    tree = {}
    for level1, standard in STANDARD[framework].items():
        groups = {}
        for level2 in standard + tuple(draw(st.lists(name.map(lambda n: n + "类指标"), max_size=1))):
            items = draw(st.lists(st.fixed_dictionaries(
                {"三级指标": name, "实施周期指标值": value, annual_key: value}), max_size=3))
            groups[level2] = items if items or level2 in standard else [draw(st.fixed_dictionaries(
                {"三级指标": name, "实施周期指标值": value, annual_key: value}))]
        tree[level1] = groups
    return tree


@st.composite
def project_form(draw):
    approval = draw(st.booleans())
    data = {
        "表样": "项目支出绩效目标批复表" if approval else "项目绩效目标表",
        "项目名称": draw(name), "项目类型": draw(name), "项目等级": "二级项目", "主管部门": draw(name),
        "用款单位": draw(name), "实施周期": {"起始年度": 2024, "到期年度": draw(st.sampled_from([2026, 2099]))},
        "预算年度": 2025, "预算金额": draw(st.integers(1000, 10**8)), "金额单位": draw(st.sampled_from(["元", "万元", ""])),
        "总体绩效目标": {"实施周期总目标": draw(long_text), "年度目标": draw(long_text)},
        "绩效指标": draw(indicator_tree(2015, "当年度指标值")),
    }
    if approval:
        data["批复"] = {"意见": draw(long_text), "合并为一格": draw(st.booleans())}
    return FORM_CLASSES[data["表样"]].model_validate(data)


@st.composite
def department_form(draw):
    approval = draw(st.booleans())
    amount = st.decimals(min_value=0, max_value=99999, places=2)
    data = {
        "表样": "部门整体支出绩效目标批复表" if approval else "部门整体支出绩效目标表",
        "预算年度": 2026, "部门名称": draw(name), "财政供养人员数": draw(st.integers(0, 500)),
        "下属二级单位数": draw(st.integers(0, 9)),
        "预算整体情况": {"基本支出": draw(amount), "项目支出": draw(amount), "财政拨款": draw(amount)},
        "总体绩效目标": draw(long_text),
        "年度重点工作任务": draw(st.lists(st.fixed_dictionaries({
            "名称": name, "主要实施内容": long_text, "拟投入的资金": amount, "期望达到的目标": long_text}), max_size=3)),
        "其他需完成的任务": draw(st.one_of(st.just(""), long_text)),
        "绩效指标": draw(indicator_tree(2021, "年度指标值")),
    }
    if approval:
        data["批复"] = {"批复单位": draw(name), "意见": draw(long_text)}
    return FORM_CLASSES[data["表样"]].model_validate(data)


@st.composite
def city_form(draw):
    wan = st.decimals(min_value=0, max_value=99999, places=2)
    yuan = st.decimals(min_value=0, max_value=10**8, places=2)
    data = {
        "表样": "东莞市部门整体预算绩效目标表", "预算年度": 2023, "部门名称": draw(name),
        "财政供养人员数": draw(st.one_of(st.none(), st.integers(0, 500))),
        "预算整体情况": {"基本支出": draw(wan), "项目支出": draw(wan), "财政拨款": draw(wan), "其他资金": draw(wan)},
        "总体绩效目标": draw(long_text),
        "年度重点工作任务": draw(st.lists(st.fixed_dictionaries({
            "名称": name, "主要实施内容": long_text, "拟投入的资金": yuan, "期望达到的目标": long_text}), max_size=2)),
        "其他需完成的任务": draw(st.lists(st.fixed_dictionaries({
            "名称": name, "目标内容": long_text, "拟投入的资金": yuan}), max_size=2)),
        "绩效指标": draw(indicator_tree("2015市直", "年度指标值")),
    }
    return FORM_CLASSES[data["表样"]].model_validate(data)


def missing_value_warnings(result) -> list[str]:
    """The warnings an import gives for empty indicator values (all others are failures here)."""
    return [w for w in result.warnings if "已导入为空" in w]


# PDF rendering and reading make each example take seconds: no shrinking (the failing form is printed).
# JIXIAO_EXAMPLES=200 for a thorough run.
@settings(max_examples=int(os.environ.get("JIXIAO_EXAMPLES", 10)), deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(form=st.one_of(project_form(), department_form(), city_form()))
def test_generated_forms_round_trip_through_every_format(tmp_path, form):
    empty = sum(1 for groups in form.indicators.values() for items in groups.values() for item in items
                if not item.annual_value or (type(form).__name__.startswith("Project") and not item.period_value))
    for fmt in ("xlsx", "docx", "pdf"):
        path = tmp_path / f"form.{fmt}"
        path.write_bytes(render(form, fmt))
        result = import_file(path)
        assert result.warnings == missing_value_warnings(result), fmt
        assert len(result.warnings) == empty, fmt
        assert result.models == [form], fmt


def test_a_form_made_by_hand_in_word(tmp_path):
    from docx import Document

    document = Document()
    document.add_paragraph("某镇财政项目支出绩效目标批复表（2025年）")
    document.add_paragraph("")
    rows = [
        ["项目名称", "", "社工服务", "", "", ""],
        ["项目类型", "", "其他运转类", "", "", ""],
        ["项目等级", "", "二级项目", "", "", ""],
        ["主管部门", "", "某总工会", "", "", ""],
        ["用款单位", "", "某总工会", "", "", ""],
        ["实施周期", "", "起始年度", "2025", "到期年度", "2099"],
        ["2025年预算金额（元）", "", "210000", "", "", ""],
        ["", "", "", "", "", ""],
        ["总体绩效目标", "", "实施周期总目标", "", "", ""],
        ["", "", "招聘社工2人。", "", "", ""],
        ["", "", "2025年度目标", "", "", ""],
        ["", "", "招聘社工2人，保障运作。", "", "", ""],
        ["绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "当年度指标值"],
        ["", "产出指标", "数量指标", "社工岗位数量", "2人", "2人"],
        ["", "", "成本指标", "预算执行率", "≥90%", "≥90%"],
        ["", "效益指标", "社会效益指标", "服务水平", "有效提高", "有效提高"],
        ["", "满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "≥90%"],
        ["某分局批复意见", "", "经审核，基本符合要求。", "", "", ""],
    ]
    table = document.add_table(rows=len(rows), cols=6)
    for r, values in enumerate(rows):
        for c, text in enumerate(values):
            table.cell(r, c).text = text
    for r in (0, 1, 2, 3, 4, 6, 17):  # labels over two columns, values over four, as people merge them
        table.cell(r, 0).merge(table.cell(r, 1))
        table.cell(r, 2).merge(table.cell(r, 5))
    for r in (9, 10, 11):
        table.cell(r, 2).merge(table.cell(r, 5))
    table.cell(8, 0).merge(table.cell(11, 1))
    table.cell(8, 2).merge(table.cell(8, 5))
    table.cell(12, 0).merge(table.cell(16, 0))
    table.cell(13, 1).merge(table.cell(14, 1))
    path = tmp_path / "手工.docx"
    document.save(path)
    result = import_file(path)
    assert result.warnings == []
    form = result.models[0]
    assert type(form).__name__ == "ProjectApprovalForm"
    assert (form.heading, form.name, form.amount) == ("某镇财政项目支出绩效目标批复表（2025年）", "社工服务", Decimal(210000))
    assert form.goals.overall == "招聘社工2人。" and form.approval.heading == "某分局批复意见"
    assert list(form.indicators["产出指标"]) == ["数量指标", "成本指标"]
    assert form.approval.opinion == "经审核，基本符合要求。"


def test_an_incomplete_form_is_still_imported_with_chinese_warnings(tmp_path):
    path = tmp_path / "半张.xlsx"
    book = openpyxl.Workbook()
    for row in (["项目绩效目标表"], ["项目名称", "甲"], ["主管部门", "乙"]):
        book.active.append(row)
    book.save(path)
    result = import_file(path)
    assert result.forms[0]["项目名称"] == "甲" and result.models == [None]
    assert f"{path}：第 1 张表（始于工作表「Sheet」A1）：预算年度：缺少必填字段「预算年度」。导入的文件需要补充后才能生成" \
        in result.warnings
