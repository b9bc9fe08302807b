"""Reading input: shared values, JSON and YAML alike, and every kind of bad input with its message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao import InputError, load

from .conftest import PROJECT, write


def problem_of(path):
    """The single problem of a file that does not load, or of its one bad form."""
    try:
        loaded = load(path)
    except InputError as error:
        return error.problems[0]
    assert loaded.errors, "expected an error"
    return loaded.errors[0].problems[0]


def test_a_form_loads_and_keeps_values_as_typed(tmp_path):
    form = load(write(tmp_path, "a.yaml", PROJECT.replace("当年度指标值: 4次}", "当年度指标值: 1.50}"))).all_forms()[0]
    assert form.name == "测试项目" and form.amount == Decimal("100000")
    assert form.indicators["产出指标"]["数量指标"][0].annual_value == "1.50"  # not 1.5


def test_shared_values_fill_each_form_and_a_form_overrides_them(tmp_path):
    text = """\
公共:
  表样: 项目绩效目标表
  项目类型: 共用类型
  项目等级: 二级项目
  主管部门: 某办公室
  用款单位: 某办公室
  实施周期: {起始年度: 2024, 到期年度: 2026}
  预算年度: 2025
表单:
  - 项目名称: 甲
    预算金额: 1
    总体绩效目标: {实施周期总目标: 总, 年度目标: 年}
    绩效指标: {产出指标: {数量指标: []}}
  - 项目名称: 乙
    项目类型: 自己的类型
    实施周期: {到期年度: 2030}
    预算金额: 2
    总体绩效目标: {实施周期总目标: 总, 年度目标: 年}
    绩效指标: {产出指标: {数量指标: []}}
"""
    first, second = load(write(tmp_path, "m.yaml", text)).all_forms()
    assert first.project_type == "共用类型" and second.project_type == "自己的类型"
    assert (second.period.start, second.period.end) == (2024, 2030)


def test_json_gives_the_same_model_as_yaml(tmp_path):
    import json

    from ruamel.yaml import YAML

    text = PROJECT.replace("当年度指标值: 4次}", "当年度指标值: 1.50}")
    data = YAML(typ="safe").load(text)
    data["绩效指标"]["产出指标"]["数量指标"][0]["当年度指标值"] = "1.50"
    from_json = load(write(tmp_path, "a.json", json.dumps(data, ensure_ascii=False))).all_forms()[0]
    from_yaml = load(write(tmp_path, "a.yaml", text)).all_forms()[0]
    assert from_json == from_yaml



def test_json_problems_name_their_lines(tmp_path):
    """JSON is read by json (fast); the lines of its problems are looked up when a problem needs one."""
    import json

    from ruamel.yaml import YAML

    from jixiao.checks import check_file

    good = YAML(typ="safe").load(PROJECT)
    bad = dict(good, 实施周期={"起始年度": 2026, "到期年度": 2024})
    unset = dict(good, 绩效指标={"产出指标": {"数量指标": [{"三级指标": "补贴发放次数"}]}})
    text = json.dumps({"公共": {"主管部门": "某办公室"}, "表单": [good, bad, unset]}, ensure_ascii=False, indent=2)
    lines = text.splitlines()
    loaded = load(write(tmp_path, "m.json", text))
    problem = loaded.errors[0].problems[0]
    assert problem.field == "表单第2项 › 实施周期" and '"实施周期": {' in lines[problem.line - 1]
    starts = [n for n, line in enumerate(lines, start=1) if line == "    {"]  # the three forms
    assert [form.line for form in loaded.forms] == [starts[0], starts[2]]
    empty = next(f for f in check_file(loaded, [], None) if f.rule == "V001")
    assert "补贴发放次数" in "".join(lines[empty.line - 1:empty.line + 1])  # the item's "{" or its first key
    assert empty.field.startswith("表单第3项 › 绩效指标")

BAD_INPUTS = {
    "yaml_syntax": ("a.yaml", PROJECT.replace("项目等级: 二级项目", "项目等级: [二级项目"), 5, None,
                    "问题始于第 4 行"),
    "json_syntax": ("a.json", '{\n  "表样": "项目绩效目标表",\n  "项目名称": "x",,\n}', 3, None,
                    "JSON 语法错误（第 15 列）：键名应写在双引号里"),
    "empty": ("a.yaml", "  \n", None, None, "文件为空"),
    "not_utf8": ("a.yaml", PROJECT.encode("gbk"), 1, None, "不是 UTF-8"),
    "unknown_key": ("a.yaml", PROJECT.replace("项目名称:", "项目名:"), 2, "项目名", "是否想写「项目名称」"),
    "missing_field": ("a.yaml", PROJECT.replace("主管部门: 某办公室\n", ""), 1, "主管部门", "缺少必填字段「主管部门」"),
    "wrong_type": ("a.yaml", PROJECT.replace("起始年度: 2024", "起始年度: 二〇二四"), 7,
                   "实施周期 › 起始年度", "应为整数"),
    "years_reversed": ("a.yaml", PROJECT.replace("到期年度: 2026", "到期年度: 2023"), 7, "实施周期",
                       "起始年度（2024）晚于到期年度（2023）"),
    "empty_tree": ("a.yaml", PROJECT.split("绩效指标:")[0] + "绩效指标: {}\n", 11, "绩效指标", "绩效指标为空"),
    "level1_without_level2": ("a.yaml", PROJECT + "  其他指标: {}\n", 11, "绩效指标",
                              "一级指标「其他指标」下没有二级指标"),
    "xml_illegal": ("a.yaml", PROJECT.replace("项目名称: 测试项目", '项目名称: "测试\\a项目"'), 2, "项目名称",
                    "控制字符 U+0007"),
    "unknown_layout": ("a.yaml", PROJECT.replace("表样: 项目绩效目标表", "表样: 项目绩效表"), 1, "表样",
                       "是否想写「项目绩效目标表」"),
    "not_a_number": ("a.yaml", PROJECT.replace("预算金额: 100000", "预算金额: 1,000元"), 9, "预算金额", "应为数字金额"),
    "approval_on_plain_form": ("a.yaml", PROJECT + "批复: {意见: 同意}\n", 27, "批复", "没有批复栏"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_line_and_field(tmp_path, case):
    name, text, line, field, message = BAD_INPUTS[case]
    path = write(tmp_path, name, text)
    problem = problem_of(path)
    assert problem.file == str(path)
    assert problem.line == line, str(problem)
    assert problem.field == field, str(problem)
    assert message in problem.message, str(problem)
    rendered = str(problem)
    assert str(path) in rendered and (line is None or f"第 {line} 行" in rendered)


def test_missing_path(tmp_path):
    problem = problem_of(tmp_path / "nothing.yaml")
    assert problem.message.startswith("文件不存在") and problem.file.endswith("nothing.yaml")


def test_field_path_names_the_form_in_a_file_of_many(tmp_path):
    text = ("公共: {表样: 项目绩效目标表}\n表单:\n  - " + PROJECT.replace("\n", "\n    ").rstrip()
            .replace("当年度指标值: 4次}", "当年度值: 4次}") + "\n")
    problem = problem_of(write(tmp_path, "m.yaml", text))
    assert problem.field == "表单第1项 › 绩效指标 › 产出指标 › 数量指标 › 第1项 › 当年度值"
    assert "是否想写「当年度指标值」" in problem.message
    assert problem.line == 16


def test_shared_value_error_points_at_its_line_in_shared(tmp_path):
    text = "公共:\n  表样: 项目绩效目标表\n  预算年度: 今年\n表单:\n  - " + "\n    ".join(
        line for line in PROJECT.splitlines() if not line.startswith("预算年度")) + "\n"
    problem = problem_of(write(tmp_path, "m.yaml", text))
    assert problem.line == 3 and problem.field == "表单第1项 › 预算年度"


def test_unknown_key_in_shared(tmp_path):
    text = "公共:\n  主管部分: x\n表单:\n  - 项目名称: 甲\n"
    problem = problem_of(write(tmp_path, "m.yaml", text))
    assert problem.line == 2 and "是否想写「主管部门」" in problem.message


def test_duplicate_key_is_an_error(tmp_path):
    problem = problem_of(write(tmp_path, "a.yaml", PROJECT + "项目名称: 又一个\n"))
    assert "重复" in problem.message and problem.line == 27


def test_one_bad_form_does_not_stop_the_others(tmp_path):
    good = "\n    ".join(PROJECT.splitlines())
    bad = good.replace("预算金额: 100000", "预算金额: 很多")
    loaded = load(write(tmp_path, "m.yaml", f"表单:\n  - {good}\n  - {bad}\n  - {good}\n"))
    assert [f.index for f in loaded.forms] == [1, 3] and len(loaded.errors) == 1
    assert loaded.errors[0].problems[0].field == "表单第2项 › 预算金额"
    with pytest.raises(InputError):
        loaded.all_forms()
