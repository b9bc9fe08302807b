"""Amounts as people write and print them: thousands separators in, each block's unit, layout formatting."""

from __future__ import annotations

import re
from decimal import Decimal

import jsonschema
import pytest

from jixiao import load
from jixiao.checks import check_file
from jixiao.model import format_amount, unit_suffix
from jixiao.schema import json_schema

from .conftest import PROJECT, write
from .test_checks import DEPARTMENT
from .test_loader import problem_of


@pytest.mark.parametrize(("typed", "expected"), [("1,172.47", "1172.47"), ("998,550.00", "998550.00"),
                                                 ("517200", "517200"), ("1,000,000", "1000000")])
def test_thousands_separators_are_read(tmp_path, typed, expected):
    form = load(write(tmp_path, "a.yaml", PROJECT.replace("预算金额: 100000", f'预算金额: "{typed}"'))).all_forms()[0]
    assert form.amount == Decimal(expected)


@pytest.mark.parametrize("typed", ["1,17,2", "12万", "约5000", "1,1724.5", ",100"])
def test_clear_mistakes_stay_errors_with_their_message(tmp_path, typed):
    problem = problem_of(write(tmp_path, "a.yaml", PROJECT.replace("预算金额: 100000", f'预算金额: "{typed}"')))
    assert problem.message.startswith("应为数字金额") and typed in problem.message
    assert problem.line == 9 and problem.field == "预算金额"


def test_the_schema_says_what_the_loader_accepts():
    schema = json_schema()
    amount = schema["$defs"]["ProjectForm"]["properties"]["预算金额"]
    for good in (517200, 137.34, "1,172.47", "998,550.00", "12"):
        jsonschema.validate(good, amount)
    for bad in ("1,17,2", "12万", "约5000", "abc"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, amount)


def test_format_and_unit_filters():
    assert format_amount(Decimal("998550"), "元", grouping=True, decimals=2) == "998,550.00"
    assert format_amount(Decimal("1172.47"), "万元", grouping=True) == "1,172.47"
    assert format_amount(Decimal("517200"), "元") == "517200"
    assert format_amount(Decimal("0"), "万元", decimals=0) == "0"
    assert unit_suffix("元", "()") == "(元)" and unit_suffix("万元") == "（万元）" and unit_suffix("", "()") == ""


def department(tmp_path, **replace) -> list:
    text = DEPARTMENT
    for old, new in replace.items():
        text = text.replace(old, new)
    return [f.rule for f in check_file(load(write(tmp_path, "d.yaml", text)))]


def test_task_funds_in_yuan_are_compared_with_a_budget_in_wan_yuan(tmp_path):
    # 项目支出 50 万元; the task's 498,550.00 元 is 49.86 万元: within the budget, and no unit warning.
    yuan = {"金额单位: 万元": "金额单位: 万元\n任务金额单位: 元", "拟投入的资金: 50.00": '拟投入的资金: "498,550.00"'}
    assert not {"C005", "C006"} & set(department(tmp_path, **yuan))
    over = dict(yuan, **{"拟投入的资金: 50.00": '拟投入的资金: "598,550.00"'})
    assert "C005" in department(tmp_path, **over)
    # The same funds under the form's 万元 would be a unit mistake (C006) and far over budget (C005).
    assert {"C005", "C006"} <= set(department(tmp_path, **{"拟投入的资金: 50.00": '拟投入的资金: "498,550.00"'}))


def test_a_task_unit_prints_in_the_task_header(tmp_path):
    from jixiao import render

    text = DEPARTMENT.replace("金额单位: 万元", "金额单位: 万元\n任务金额单位: 元")
    html = render(load(write(tmp_path, "d.yaml", text)).all_forms(), "html").decode()
    assert "拟投入的资金（元）" in html and "预算金额（万元）" in html
    assert re.search(r">\s*50\s*<", html)  # 50 元 printed as a whole number, as 元 amounts are


def test_other_task_funds_of_the_city_layout_are_checked_in_their_unit(tmp_path):
    from .conftest import SAMPLES

    text = (SAMPLES / "dongguan-city-department-2023-targets.yaml").read_text(encoding="utf-8")
    small = text.replace("其他需完成的任务: []", "其他需完成的任务:\n  - {名称: 检查, 目标内容: 完成, 拟投入的资金: 12}")
    findings = check_file(load(write(tmp_path, "c.yaml", small)))
    assert [(f.rule, f.field) for f in findings if f.rule == "C006"] == [
        ("C006", "其他需完成的任务 › 第1项 › 拟投入的资金")]
    assert "任务金额单位: 万元" in next(f.message for f in findings if f.rule == "C006")
