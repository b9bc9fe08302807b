"""Every review rule with a form that breaks it and one that does not; settings; the real samples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao import InputError, load
from jixiao.checks import ERROR, RULES, WARNING, check_file

from .conftest import PROJECT, SAMPLES, write

DEPARTMENT = """\
表样: 部门整体支出绩效目标表
预算年度: 2026
部门名称: 某办公室
金额单位: 万元
预算整体情况: {基本支出: 100.00, 项目支出: 50.00, 财政拨款: 150.00, 其他资金: 0.00}
总体绩效目标: 目标
年度重点工作任务:
  - {名称: 任务, 主要实施内容: 内容, 拟投入的资金: 50.00, 期望达到的目标: 目标}
绩效指标:
  产出指标:
    数量指标:
      - {三级指标: 培训人数, 年度指标值: ≥100人}
    质量指标:
      - {三级指标: 合格率, 年度指标值: 100%}
    时效指标:
      - {三级指标: 预算执行率, 年度指标值: ≥90%}
  效益指标:
    社会效益:
      - {三级指标: 群众获得感, 年度指标值: 提高}
  满意度指标:
    服务对象满意度:
      - {三级指标: 受益群众满意度, 年度指标值: ≥95%}
  成本指标:
    经济成本指标:
      - {三级指标: 运营成本, 年度指标值: ≤50万元}
"""


def findings(tmp_path, text, name="a.yaml", **options):
    return check_file(load(write(tmp_path, name, text)), **options)


def rules_of(tmp_path, text, **options):
    return {f.rule for f in findings(tmp_path, text, **options)}


def test_the_clean_forms_are_clean(tmp_path):
    assert findings(tmp_path, PROJECT) == []
    assert findings(tmp_path, DEPARTMENT) == []


BREAKS = {  # rule: (the clean form, what to replace, with what)
    "S001": (PROJECT, "  满意度指标:\n    服务对象满意度指标:\n      - {三级指标: 服务对象满意度, 实施周期指标值: ≥90%, "
                      "当年度指标值: ≥90%}\n", ""),
    "S002": (PROJECT, "    质量指标:", "    社会效益指标:\n      - {三级指标: 甲, 实施周期指标值: 好, 当年度指标值: 好}\n    质量指标:"),
    "S003": (PROJECT, "    质量指标:\n      - {三级指标: 发放准确率, 实施周期指标值: 100%, 当年度指标值: 100%}\n",
             "    质量指标: []\n"),
    "S004": (PROJECT, "    社会效益指标:\n      - {三级指标: 提高工作效率, 实施周期指标值: 有效提高, 当年度指标值: 有效提高}\n",
             "    社会效益指标: []\n"),
    "S005": (PROJECT, "预算年度: 2025\n", "预算年度: 2025\n打印空二级指标: false\n"),
    "V001": (PROJECT, "当年度指标值: 4次}", '当年度指标值: ""}'),
    "V002": (PROJECT, "当年度指标值: 4次}", "当年度指标值: 4}"),
    "V003": (PROJECT, "服务对象满意度, 实施周期指标值: ≥90%, 当年度指标值: ≥90%",
             "服务对象满意度, 实施周期指标值: ≥75%, 当年度指标值: ≥75%"),
    "V004": (PROJECT, "三级指标: 预算执行率", "三级指标: 资金到位率"),
    "V005": (PROJECT, "实施周期指标值: 12次", "实施周期指标值: 2次"),
    "V006": (PROJECT, "实施周期指标值: ≥90%, 当年度指标值: ≥90%}\n  效益", "实施周期指标值: '>=90%', 当年度指标值: ≥90%}\n  效益"),
    "C001": (PROJECT, "三级指标: 发放及时率", "三级指标: 发放准确率"),
    "C003": (PROJECT, "预算年度: 2025", "预算年度: 2028"),
    "C004": (DEPARTMENT, "财政拨款: 150.00", "财政拨款: 140.00"),
    "C005": (DEPARTMENT, "拟投入的资金: 50.00", "拟投入的资金: 60.00"),
    "C006": (PROJECT, "预算金额: 100000", "预算金额: 51.72"),
}


@pytest.mark.parametrize("rule_id", sorted(BREAKS))
def test_a_form_that_breaks_the_rule(tmp_path, rule_id):
    clean, old, new = BREAKS[rule_id]
    assert old in clean
    found = findings(tmp_path, clean.replace(old, new))
    assert rule_id in {f.rule for f in found}
    assert rule_id not in rules_of(tmp_path, clean)
    finding = next(f for f in found if f.rule == rule_id)
    assert finding.severity == RULES[rule_id].severity and finding.message and finding.line


def test_every_rule_is_tested_and_documented():
    assert set(RULES) == set(BREAKS) | {"C002"}
    readme = (SAMPLES.parent / "README.md").read_text("utf-8")
    for rule in RULES.values():
        assert f"| {rule.id} |" in readme, rule.id
    assert {r.severity for r in RULES.values()} == {ERROR, WARNING}


def test_duplicate_form_in_a_file(tmp_path):
    form = "\n    ".join(PROJECT.splitlines())
    other = form.replace("项目名称: 测试项目", "项目名称: 另一个项目")
    found = findings(tmp_path, f"表单:\n  - {form}\n  - {other}\n  - {form}\n")
    assert [(f.rule, f.form) for f in found] == [("C002", 3)]
    assert "与表单第1项完全相同" in found[0].message
    assert findings(tmp_path, f"表单:\n  - {form}\n  - {other}\n") == []


def test_value_details_that_are_not_findings(tmp_path):
    text = PROJECT.replace("补贴发放次数, 实施周期指标值: 12次, 当年度指标值: 4次",
                           "补贴发放次数（次）, 实施周期指标值: 12, 当年度指标值: 4")
    assert findings(tmp_path, text) == []  # the unit is in the name, as published forms write it
    text = PROJECT.replace("服务对象满意度, 实施周期指标值: ≥90%, 当年度指标值: ≥90%",
                           "服务对象满意度, 实施周期指标值: '>80%', 当年度指标值: 80%以上")
    assert findings(tmp_path, text) == []


def test_rules_switch_off_and_thresholds_in_the_file_and_on_the_command_line(tmp_path):
    low = BREAKS["V003"][0].replace(BREAKS["V003"][1], BREAKS["V003"][2])
    assert "V003" in rules_of(tmp_path, low)
    assert "V003" not in rules_of(tmp_path, low + "检查: {满意度下限: 70}\n")
    assert "V003" not in rules_of(tmp_path, low, floor=Decimal(70))
    assert "V003" not in rules_of(tmp_path, low + "检查: {关闭: [V003]}\n")
    assert "V003" not in rules_of(tmp_path, low, off=["v003"])
    shared = "公共:\n  检查: {关闭: [V003]}\n表单:\n  - " + "\n    ".join(low.splitlines()) + "\n"
    assert "V003" not in rules_of(tmp_path, shared)


def test_an_unknown_rule_is_an_input_error_with_its_line(tmp_path):
    with pytest.raises(InputError) as raised:
        findings(tmp_path, PROJECT + "检查: {关闭: [V999]}\n")
    problem = raised.value.problems[0]
    assert "未知的检查规则「V999」" in problem.message and problem.line == 27


def test_findings_on_the_real_samples_are_the_ones_an_officer_would_raise():
    found = set()
    for sample in sorted(SAMPLES.glob("*.yaml")):
        found |= {(sample.name.split("-")[0], f.form, f.rule) for f in check_file(load(sample))}
    assert found == {
        ("dongkeng", 3, "V002"),   # 补贴发放次数: 4, no unit
        ("dongkeng", 6, "C002"),   # 老干部支部党建工作经费 published twice
        ("dongkeng", 8, "V004"),   # no 预算执行率
        ("dongkeng", 9, "V004"),
        ("houjie", 1, "V002"),     # 基层组织满意度: 满意, no number
        ("houjie", 1, "V004"),
    }
