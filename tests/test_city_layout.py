"""The Dongguan city department layout (东莞市部门整体预算绩效目标表) as its description gives it."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from docx import Document

from jixiao import load, render
from jixiao.checks import check_file
from jixiao.layout import render_section

from .conftest import SAMPLES, write
from .readback import docx_merges, docx_text, missing_in_order, pdf_text, squash, xlsx_merges, xlsx_text

CITY = SAMPLES / "dongguan-city-department-2023-targets.yaml"

# Every cell of the layout in reading order, as the description prints it (ASCII brackets).
CELLS = [
    "东莞市部门整体预算绩效目标表", "(2023年)", "部门名称", "东莞市示范档案服务中心",
    "基本信息", "财政供养人员数", "48", "下属二级单位数",
    "预算整体情况", "部门预算支出", "预算金额(万元)", "收入来源", "预算金额(万元)",
    "基本支出", "1,024.36", "财政拨款", "1,239.76", "项目支出", "215.40", "其他资金", "0.00",
    "事业发展性支出", "预算金额(万元)", "按预算级次划分", "预算金额(万元)",
    "财政专项资金", "0.00", "市本级使用资金", "其他事业发展性支出", "0.00", "拟用于对下转移支付资金", "0.00",
    "总体绩效目标", "1. 完成馆藏档案数字化加工，提升档案利用服务水平。",
    "年度重点工作任务", "名称", "主要实施内容", "拟投入的资金(元)", "期望达到的目标(概述)",
    "馆藏档案数字化", "1,286,400.00", "档案利用服务", "86,550.00",
    "其他需完成的任务(可选填)", "名称", "目标内容", "拟投入的资金(元)",
    "绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "年度指标值",
    "产出指标", "数量指标", "开展党员志愿活动次数", "开展党员志愿活动次数", "年均1-2次", "1次",
    "效益指标", "经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标",
    "查档群众满意度", "查档群众满意度", "≥90%",
]


def city_form():
    return load(CITY).all_forms()[0]


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_every_cell_of_the_layout_is_printed_in_order(tmp_path, fmt):
    data = render(city_form(), fmt)
    path = write(tmp_path, f"city.{fmt}", data)
    text = {"pdf": lambda: pdf_text(path), "docx": lambda: docx_text(data), "xlsx": lambda: xlsx_text(data)}[fmt]()
    assert missing_in_order([squash(c) for c in CELLS], text) == []


def test_the_third_level_is_two_columns_with_the_name_in_both():
    table = Document(io.BytesIO(render(city_form(), "docx"))).tables[0]
    rows = list(table.rows)
    at = next(i for i, r in enumerate(rows) if r.cells[1].text == "一级指标")
    header, first = rows[at], rows[at + 1]
    assert [c.text for c in header.cells] == ["绩效指标", "一级指标", "二级指标", "三级指标", "三级指标",
                                              "实施周期指标值", "年度指标值"]  # one cell over two columns
    assert header.cells[3]._tc is header.cells[4]._tc
    assert first.cells[3]._tc is not first.cells[4]._tc  # two cells, the same name in each
    assert first.cells[3].text == first.cells[4].text == "开展党员志愿活动次数"


def test_budget_block_is_six_rows_and_other_tasks_have_a_header():
    merges = docx_merges(render(city_form(), "docx"))
    assert (2, 0, 6, 1) in merges  # 预算整体情况 over its six rows
    sheet = openpyxl.load_workbook(io.BytesIO(render(city_form(), "xlsx"))).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    other = next(r for r in rows if r[0] == "其他需完成的任务(可选填)")
    assert [v for v in other if v] == ["其他需完成的任务(可选填)", "名称", "目标内容", "拟投入的资金(元)"]
    assert xlsx_merges(render(city_form(), "xlsx"), first_row=3) == merges  # after the title and the year line


def test_the_city_tree_passes_the_structure_rules_and_a_town_tree_is_still_wrong_for_it(tmp_path):
    assert not {f.rule for f in check_file(load(CITY))} & {"S001", "S002", "S003", "V002"}
    text = CITY.read_text(encoding="utf-8").replace("    服务对象满意度指标:", "    乱放的二级:")
    assert "S001" not in {f.rule for f in check_file(load(write(tmp_path, "a.yaml", text)))}
    town = CITY.read_text(encoding="utf-8").replace("表样: 东莞市部门整体预算绩效目标表", "表样: 部门整体支出绩效目标表")
    town = town.replace("其他需完成的任务: []", "其他需完成的任务: 无")  # a text in the town layout
    assert {"S001", "S002"} <= {f.rule for f in check_file(load(write(tmp_path, "t.yaml", town)))}


def test_other_tasks_rows_and_template_data(tmp_path):
    text = CITY.read_text(encoding="utf-8").replace(
        "其他需完成的任务: []",
        "其他需完成的任务:\n  - {名称: 档案安全检查, 目标内容: 完成年度检查, 拟投入的资金: \"12,000.00\"}\n"
        "附加: {联系人: 张三}")
    form = load(write(tmp_path, "c.yaml", text)).all_forms()[0]
    assert form.other_tasks[0].funds == 12000 and form.extra == {"联系人": "张三"}
    html = str(render_section(form))
    assert "档案安全检查" in html and "12,000.00" in html
    assert 'rowspan="2">其他需完成的任务(可选填)' in html


def add_weight_column(template: str) -> str:
    """docs/templates.md §4, done to the built-in city template: a 权重 column from 附加."""
    lines, out, above = template.splitlines(), [], True
    for line in lines:
        if "<colgroup>" in line:
            line = line.replace('<col style="width:19%">', '<col style="width:11%"><col style="width:8%">')
        elif "一级指标" in line:
            above = False
            line = line.replace('<td class="head">年度指标值</td></tr>', '<td class="head">年度指标值</td><td class="head">权重</td></tr>')
        elif above and line.startswith("<tr>"):
            last = line.rindex("<td ")
            head, tail = line[:last], line[last:]
            span = re.match(r'<td class="\w+" colspan="(\d+)"', tail)
            tail = (tail.replace(f'colspan="{span.group(1)}"', f'colspan="{int(span.group(1)) + 1}"', 1) if span
                    else tail.replace("<td ", '<td colspan="2" ', 1))
            line = head + tail
        elif "row.annual_value" in line:
            line = line.replace("</td></tr>", '</td><td class="value">{{ form.extra.权重.get(row.name, "") '
                                              'if row.name else "" }}</td></tr>')
        out.append(line)
    return "\n".join(out) + "\n"


def test_a_column_added_by_a_template_author(tmp_path):
    from jixiao.layout import builtin_templates

    folder = tmp_path / "模板"
    folder.mkdir()
    original = (builtin_templates() / "city-department.html.j2").read_text(encoding="utf-8")
    (folder / "city-department.html.j2").write_text(add_weight_column(original), encoding="utf-8")
    text = CITY.read_text(encoding="utf-8") + "附加:\n  权重: {开展党员志愿活动次数: 10, 查档群众满意度: 15}\n"
    form = load(write(tmp_path, "c.yaml", text)).all_forms()[0]
    table = Document(io.BytesIO(render(form, "docx", templates=folder))).tables[0]
    rows = list(table.rows)
    at = next(i for i, r in enumerate(rows) if r.cells[1].text == "一级指标")
    assert len(rows[0].cells) == 8 and rows[at].cells[7].text == "权重"
    assert rows[at + 1].cells[7].text == "10" and rows[at + 1].cells[6].text == "1次"
    assert rows[0].cells[7].text == "东莞市示范档案服务中心"  # the full-width cells grew with the table


def test_every_sample_validates_against_the_schema():
    import json

    import jsonschema
    from ruamel.yaml import YAML

    from jixiao.schema import json_schema

    validator = jsonschema.Draft202012Validator(json_schema())
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix == ".yaml":
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".json" and not path.name.endswith(".schema.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            continue
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], path.name
