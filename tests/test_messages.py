"""What check and render say about forms they could not check, and summaries that count what was printed."""

from __future__ import annotations

import re

from click.testing import CliRunner

from jixiao.cli import main

from .conftest import PROJECT, write


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def many(*forms: str) -> str:
    """A file of several forms, each given as a one-form YAML text."""
    items = ["  - " + "\n    ".join(form.rstrip("\n").splitlines()) for form in forms]
    return "表单:\n" + "\n".join(items) + "\n"


def test_check_counts_the_forms_it_could_not_check(tmp_path):
    bad = PROJECT.replace("预算金额: 100000", '预算金额: "12万"')
    result = run("check", str(write(tmp_path, "a.yaml", many(PROJECT, bad))))
    assert result.exit_code == 2
    assert "检查了 1 张表" in result.output and "另有 1 张表（或文件）未能读入，没有检查" in result.output
    assert "应为数字金额" in result.output  # why, above the summary


def test_check_of_a_file_that_does_not_load_is_not_a_clean_bill(tmp_path):
    result = run("check", str(write(tmp_path, "a.yaml", "项目名称: [")))
    assert result.exit_code == 2 and "未发现问题" not in result.output
    assert "检查了 0 张表" in result.output and "另有 1 张表（或文件）未能读入" in result.output
    as_json = run("check", str(write(tmp_path, "b.yaml", many(PROJECT, "表样: 项目绩效目标表\n"))), "--format", "json")
    assert '"unchecked": 1' in as_json.output


def test_render_summary_counts_the_problems_it_printed(tmp_path):
    bad = PROJECT.replace("预算金额: 100000", '预算金额: "约5000"').replace("预算年度: 2025", "预算年度: 2028")
    result = run("render", str(write(tmp_path, "a.yaml", many(PROJECT, bad, bad))), "-f", "html",
                 "-o", str(tmp_path / "out"))
    printed = [line for line in result.output.splitlines() if line.startswith("错误：")]
    summary = re.search(r"；(\d+) 处错误", result.output)
    assert printed and summary and int(summary.group(1)) == len(printed)


def test_forced_render_says_what_is_wrong(tmp_path):
    empty = PROJECT.replace("当年度指标值: 4次}", "当年度指标值: ''}")
    result = run("render", str(write(tmp_path, "a.yaml", empty)), "-f", "html", "-o", str(tmp_path / "out"), "--force")
    assert result.exit_code == 0
    assert "[V001]" in result.output and "补贴发放次数" in result.output and "已按 --force 生成" in result.output
