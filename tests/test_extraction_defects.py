"""jixiao import on text as real PDF extractors write it: shifted rows, lost cells, broken labels.

Each defect class seen in published forms is a mutation of the text. The same mutations are applied to
the published reference texts and to the text of jixiao's own rendered samples (an XLSX read as an
extractor would write it: a line a row, tab-separated, a merged cell's text once). A mutation that
loses nothing must import as the unmutated text did; one that loses a cell must leave every remaining
cell in the data or in a warning with its line, and each empty value named in a warning.
"""

from __future__ import annotations

import io
import os
import re
from functools import lru_cache
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao import load, render
from jixiao.cli import main
from jixiao.frameworks import STANDARD, norm
from jixiao.importer import import_file
from jixiao.importer.recognize import VALUE_LIKE

from .conftest import SAMPLES, write
from .readback import REFERENCE

LEVEL1 = {norm(n) for levels in STANDARD.values() for n in levels}
LEVEL2 = {norm(n) for levels in STANDARD.values() for names in levels.values() for n in names}


def xlsx_as_extracted_text(data: bytes) -> str:
    """An XLSX as an extractor writes it: a line a row, tabs between cells, merged cells' text once."""
    lines = []
    for sheet in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells = ["" if v is None else str(v).replace("\n", "") for v in row]
            lines.append("\t".join(cells).rstrip("\t"))
        lines.append("")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=None)
def source_text(name: str) -> str:
    """A reference text, or a sample rendered and written out as extracted text."""
    if name.endswith(".txt"):
        return (REFERENCE / name).read_text(encoding="utf-8")
    return xlsx_as_extracted_text(render(load(SAMPLES / name).all_forms(), "xlsx"))


SOURCES = ["dongkeng-party-office-2024-project-targets.txt", "wangniudun-union-2024-project-approval.txt",
           "houjie-party-office-2026-department-approval.txt", "dongguan-city-department-2023-targets.yaml",
           "wangniudun-union-2024-project-approval.yaml", "houjie-party-office-2026-department-targets.json"]


def imported(tmp_path: Path, text: str, name: str = "form.txt"):
    return import_file(write(tmp_path, name, text))


def indicator_rows(lines: list[str]) -> list[int]:
    """Line numbers (0-based) of indicator rows: after an indicator header, up to a blank line or a
    row that starts another part of the form (批复意见)."""
    rows, inside = [], False
    for n, line in enumerate(lines):
        cells = [c.strip() for c in line.split("\t")]
        if "一级指标" in cells and "三级指标" in cells:
            inside = True
            continue
        if inside and any("批复意见" in c or "其他需完成的任务" in c for c in cells):
            inside = False
        if inside and any(cells) and not ({"一级指标", "名称", "项目名称", "部门名称"} & set(cells)) \
                and not re.search(r"绩效目标.{0,8}表", line):
            rows.append(n)
        if not any(cells) and inside and n + 1 < len(lines) and not lines[n + 1].startswith(("绩效指标", "\t")):
            inside = False
    return rows


def fields(line: str) -> list[str]:
    return line.split("\t")


# ---- lossless defects: the import must not change -----------------------------------------------

def shift_left(line: str) -> str:
    """The extractor drops one leading empty cell: a 二级 lands in the 一级 column, a 三级 in the 二级."""
    cells = fields(line)
    return "\t".join(cells[1:]) if len(cells) > 1 and not cells[0].strip() else line


def to_column_zero(line: str) -> str:
    """Every leading empty cell dropped: a label or a 三级 at column 0."""
    cells = fields(line)
    while len(cells) > 1 and not cells[0].strip():
        cells = cells[1:]
    return "\t".join(cells)


def break_label(line: str) -> str:
    """A wrapped label cell: spaces inside a standard 一级/二级 name (满意度指 标, 服务对象 满意 度指标)."""
    cells = fields(line)
    for i, cell in enumerate(cells):
        if len(cell) > 3 and norm(cell) in LEVEL1 | LEVEL2:
            cells[i] = f"{cell[:2]} {cell[2:-1]}  {cell[-1]}"
            break
    return "\t".join(cells)


def name_in_level2_column(line: str) -> str:
    """A 三级-only row with its name one column left and its values where they were."""
    cells = fields(line)
    if len(cells) >= 5 and not any(c.strip() for c in cells[:3]) and cells[3].strip():
        return "\t".join(cells[:2] + [cells[3], ""] + cells[4:])
    return line


def with_dashes(line: str) -> str:
    """A rule line of dashes after the row."""
    return line + "\n" + "-" * 24


def thousands(line: str) -> str:
    """Amounts with thousands separators, as copied from Excel."""
    return re.sub(r"(?<![\d.,])(\d{4,})(\.\d\d)(?!\d)", lambda m: f"{int(m.group(1)):,}{m.group(2)}", line)


def wrap_name(line: str) -> str:
    """A tall 三级 cell: its values printed on the line below the name (the cell's vertical middle)."""
    cells = fields(line.rstrip("\t"))
    if len(cells) >= 3 and all(VALUE_LIKE.match(c) for c in cells[-2:]) and not VALUE_LIKE.match(cells[-3]) \
            and cells[-3].strip():
        return "\t".join(cells[:-2]) + "\n" + "\t" * (len(cells) - 2) + "\t".join(cells[-2:])
    return line


LOSSLESS = [shift_left, to_column_zero, break_label, name_in_level2_column, with_dashes, wrap_name]


def move_level1_down(lines: list[str], rows: list[int]) -> list[str]:
    """A 一级 label printed at the middle of its tall cell: it leaves its first row for a later one."""
    lines = list(lines)
    for n in rows:
        cells = fields(lines[n])
        if len(cells) > 2 and not cells[0].strip() and norm(cells[1]) in LEVEL1 and norm(cells[2]) in LEVEL2:
            block = [m for m in rows if m > n]
            later = []
            for m in block:
                following = fields(lines[m])
                if len(following) > 1 and following[1].strip() or m - (later or [n])[-1] > 1:
                    break  # the next 一级, or a page break
                if following[0].strip() or len(following) < 3:
                    continue  # a row printed from column 0 does not hold the label
                later.append(m)
            if len(later) >= 2:
                target = later[len(later) // 2]
                label, cells[1] = cells[1], ""
                lines[n] = "\t".join(cells)
                moved = fields(lines[target])
                moved[1] = label
                lines[target] = "\t".join(moved)
    return lines


def move_section_labels(lines: list[str]) -> list[str]:
    """The tall 绩效指标 and 年度重点工作任务 cells printed at their middle: the header row loses its label
    and a later row of the section (column 0 empty) gets it."""
    lines = list(lines)
    for label in ("绩效指标", "年度重点工作任务"):
        for n, line in enumerate(lines):
            cells = fields(line)
            if cells[0] == label and len(cells) > 2 and cells[1] in ("一级指标", "名称"):
                below = []  # the rows of the section: up to the next row with a label of its own
                for m in range(n + 1, min(n + 6, len(lines))):
                    if len(fields(lines[m])) <= 2 or fields(lines[m])[0].strip():
                        break
                    below.append(m)
                if below:
                    cells[0] = ""
                    lines[n] = "\t".join(cells)
                    target = fields(lines[below[len(below) // 2]])
                    target[0] = label
                    lines[below[len(below) // 2]] = "\t".join(target)
    return lines


def forms_data(result) -> list[dict]:
    return [m.model_dump(by_alias=True) if m is not None else None for m in result.models]


@settings(max_examples=int(os.environ.get("JIXIAO_EXAMPLES", 30)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_lossless_defects_import_as_the_clean_text(tmp_path, source, data):
    text = source_text(source)
    clean = imported(tmp_path, text, "clean.txt")
    lines = text.splitlines()
    rows = indicator_rows(lines)
    chosen = data.draw(st.lists(st.sampled_from(rows), min_size=1, max_size=8, unique=True), label="rows")
    for n in chosen:
        lines[n] = data.draw(st.sampled_from(LOSSLESS), label=f"defect of line {n + 1}")(lines[n])
    if data.draw(st.booleans(), label="一级 at the middle of its cell"):
        lines = "\n".join(lines).splitlines()
        lines = move_level1_down(lines, indicator_rows(lines))
    if data.draw(st.booleans(), label="section labels at the middle of their cells"):
        lines = move_section_labels("\n".join(lines).splitlines())
    lines = [thousands(line) for line in "\n".join(lines).splitlines()]
    mutated = imported(tmp_path, "\n".join(lines) + "\n")
    assert forms_data(mutated) == forms_data(clean)
    assert len(mutated.warnings) == len(clean.warnings), mutated.warnings


# ---- lossy defects: nothing silently dropped -----------------------------------------------------

def shift_right_lose_last(line: str) -> str:
    """The row shifted right by one, its last value lost ("\\t\\t\\t质量指标\\t培训资料合格率\\t100%")."""
    cells = fields(line.rstrip("\t"))
    return "\t".join([""] + cells[:-1])


def cut_after_last_level2(lines: list[str], rows: list[int]) -> list[str]:
    """The form cut off after the row of its last 二级 label (the next page is missing)."""
    level2_rows = [n for n in rows if any(norm(c) in LEVEL2 for c in fields(lines[n])[:4])]
    if not level2_rows:
        return lines
    end = level2_rows[-1] + 1
    return lines[:end] + [line for line in lines[end:] if not line.strip()][:1]


def strings_of(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *strings_of(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings_of(v)]
    return [str(value)]


def placed(result) -> str:
    """Every text the import kept or reported, without white space."""
    return "".join("".join(s.split()) for s in strings_of(result.forms) + result.warnings)


@settings(max_examples=int(os.environ.get("JIXIAO_EXAMPLES", 25)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_lossy_defects_keep_or_report_every_cell(tmp_path, source, data):
    lines = source_text(source).splitlines()
    rows = indicator_rows(lines)
    chosen = data.draw(st.lists(st.sampled_from(rows), min_size=1, max_size=4, unique=True), label="rows")
    for n in chosen:
        lines[n] = shift_right_lose_last(lines[n])
    if data.draw(st.booleans(), label="一级 at the middle of its cell"):
        lines = move_level1_down(lines, indicator_rows(lines))
    if data.draw(st.booleans(), label="cut after the last 二级"):
        lines = cut_after_last_level2(lines, indicator_rows(lines))
    result = imported(tmp_path, "\n".join(lines) + "\n")
    kept = placed(result)
    for n in indicator_rows(lines):  # every cell of the indicator table (printed labels aside)
        for cell in fields(lines[n]):
            text = "".join(re.sub(r"</?p>", "", cell).split())
            if text and text != "绩效指标" and not set(text) <= set("-—_="):
                assert text in kept or norm(text) in kept, (text, result.warnings)
    for form in result.forms:
        for groups in form.get("绩效指标", {}).values():
            for items in groups.values():
                for item in items:
                    key = "年度指标值" if "年度指标值" in item else "当年度指标值"
                    if not item[key]:
                        assert any(f"「{item['三级指标']}」没有" in w for w in result.warnings)


# ---- the defects of the issue, as published, end to end ------------------------------------------

DEFECTS = """\
项目绩效目标表
项目名称\t\t培训经费
项目类型\t\t其他运转类
项目等级\t\t二级项目
主管部门\t\t某办公室
用款单位\t\t某办公室
实施周期\t\t起始年度\t2025\t到期年度\t2025
2025年预算金额（元）\t\t1,280,000.00
总体绩效目标\t\t实施周期总目标
\t\t完成培训。
\t\t2025年度目标
\t\t完成培训。
绩效指标\t一级指标\t二级指标\t三级指标\t实施周期指标值\t当年度指标值
\t\t数量指标\t培训人次\t≥300人次\t≥300人次
\t\t\t质量指标\t培训资料合格率\t100%
\t\t培训覆盖率（%）\t\t≥80%\t≥80%
\t产出指标\t时效指标\t培训按时完成率\t100%\t100%
\t\t\t培训通知按期发出率（名称很长，换行后值印在下一行）
\t\t\t\t≥95%\t≥95%
\t成本指标\t预算执行率（%）\t≥85%\t≥85%\t
效益指标\t社会效益指标\t提升履职能力\t有效提升\t有效提升
可持续影响指标\t\t巩固工作成效\t长期巩固\t长期巩固\t
\t保障活动有序开展\t长期\t长期\t\t
满意度指 标\t服务对象 满意 度指标\t参训人员满意度\t≥90%\t≥90%\t
------------------------------------------
"""


def test_the_issue_defects_import_into_the_right_places(tmp_path):
    result = imported(tmp_path, DEFECTS)
    form = result.models[0]
    assert form is not None, result.warnings
    tree = form.indicators
    assert list(tree) == ["产出指标", "效益指标", "满意度指标"]
    assert [(i.name, i.period_value, i.annual_value) for i in tree["产出指标"]["质量指标"]] == [
        ("培训资料合格率", "100%", ""), ("培训覆盖率（%）", "≥80%", "≥80%")]
    assert list(tree["产出指标"]) == ["数量指标", "质量指标", "时效指标", "成本指标"]
    assert tree["产出指标"]["成本指标"][0].name == "预算执行率（%）"
    assert tree["产出指标"]["时效指标"][1].annual_value == "≥95%"
    assert [i.name for i in tree["效益指标"]["可持续影响指标"]] == ["巩固工作成效", "保障活动有序开展"]
    assert tree["满意度指标"]["服务对象满意度指标"][0].annual_value == "≥90%"
    assert form.amount == 1280000
    assert any("「培训资料合格率」没有当年度指标值" in w and "第 15 行" in w for w in result.warnings)


def test_import_then_forced_render_keeps_every_cell(tmp_path):
    source = write(tmp_path, "defects.txt", DEFECTS)
    out = tmp_path / "defects.yaml"
    imported_run = CliRunner().invoke(main, ["import", str(source), "-o", str(out)])
    assert imported_run.exit_code == 0, imported_run.output
    rendered = CliRunner().invoke(main, ["render", str(out), "-f", "html", "-o", str(tmp_path / "out"), "--force"])
    assert rendered.exit_code == 0, rendered.output
    assert "V001" in rendered.output and "培训资料合格率" in rendered.output
    html = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").rglob("*.html"))
    squashed = "".join(re.sub(r"<[^>]+>", "", html).split())
    for line in DEFECTS.splitlines():
        for cell in fields(line):
            text = "".join(cell.split())
            if re.fullmatch(r"[\d,]+\.\d\d", text):  # an amount: printed in the layout's own format
                text = text.replace(",", "").removesuffix(".00")
            if text and not set(text) <= set("-"):
                assert text in squashed, text


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_text_imports_cleanly(tmp_path, source):
    result = imported(tmp_path, source_text(source))
    assert all(m is not None for m in result.models), result.warnings


def test_a_third_level_named_like_a_standard_category_stays_a_third_level(tmp_path):
    text = DEFECTS.split("绩效指标\t")[0] + (
        "绩效指标\t一级指标\t二级指标\t三级指标\t实施周期指标值\t当年度指标值\n"
        "\t产出指标\t数量指标\t培训人次\t≥300人次\t≥300人次\n"
        "\t满意度指标\t服务对象满意度指标\t参训人员满意度\t≥90%\t≥90%\n"
        "\t\t\t服务对象满意度\t≥90%\t≥90%\n"
        "\t\t\t满意度\t≥95%\t≥95%\n")
    form = imported(tmp_path, text).models[0]
    assert [i.name for i in form.indicators["满意度指标"]["服务对象满意度指标"]] == [
        "参训人员满意度", "服务对象满意度", "满意度"]


def test_city_text_with_values_one_column_right_and_differing_name_cells(tmp_path):
    lines = source_text("dongguan-city-department-2023-targets.yaml").splitlines()
    header = next(i for i, line in enumerate(lines) if "一级指标" in line)
    lines[header] = "\t".join(c for c in fields(lines[header]) if c)  # the 三级 header printed once
    second = fields(lines[header + 2])
    second[4] = "按页计算的数字化档案"  # the two 三级 cells disagree
    lines[header + 2] = "\t".join(second)
    result = imported(tmp_path, "\n".join(lines) + "\n")
    form = result.models[0]
    expected = load(SAMPLES / "dongguan-city-department-2023-targets.yaml").all_forms()[0]
    assert form.indicators == expected.indicators and form.key_tasks == expected.key_tasks
    assert form.budget == expected.budget and form.task_unit == "元" and form.budget_unit == "万元"
    assert [w for w in result.warnings if "按页计算的数字化档案" in w and f"第 {header + 3} 行" in w]


def test_a_table_with_one_value_column_reads_it_as_the_annual_value(tmp_path):
    text = DEFECTS.split("绩效指标\t")[0] + (
        "绩效指标\t一级指标\t二级指标\t三级指标\t当年度指标值\n"
        "\t产出指标\t数量指标\t培训人次\t≥300人次\n"
        "\t满意度指标\t服务对象满意度指标\t参训人员满意度\t≥90%\n")
    result = imported(tmp_path, text)
    tree = result.forms[0]["绩效指标"]
    assert tree["产出指标"]["数量指标"] == [{"三级指标": "培训人次", "实施周期指标值": "", "当年度指标值": "≥300人次"}]
    assert any("「培训人次」没有实施周期指标值" in w for w in result.warnings)  # a project form needs both


def test_a_first_level_with_no_second_level_read_is_left_out_with_a_warning(tmp_path):
    text = DEFECTS.split("绩效指标\t")[0] + (
        "绩效指标\t一级指标\t二级指标\t三级指标\t实施周期指标值\t当年度指标值\n"
        "\t产出指标\t数量指标\t培训人次\t≥300人次\t≥300人次\n"
        "\t效益指标\n")
    result = imported(tmp_path, text)
    assert list(result.forms[0]["绩效指标"]) == ["产出指标"] and result.models[0] is not None
    assert any("第 15 行：一级指标「效益指标」下没有读到二级指标" in w for w in result.warnings)
