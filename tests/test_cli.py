"""The command line, in-process (click's runner) and as ``python -m jixiao``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from jixiao.cli import main

from .conftest import PROJECT, SAMPLES, write
from .test_checks import BREAKS
from .test_loader import BAD_INPUTS


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_render_writes_every_format_of_a_file(tmp_path):
    result = run("render", str(SAMPLES / "wangniudun-union-2024-project-approval.yaml"), "-f",
                 "docx,xlsx,pdf,html", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")
                   if ".jixiao-cache" not in p.parts)
    assert names == sorted(
        [f"wangniudun-union-2024-project-approval/{n}.{f}" for n in ("01-工会活动", "02-购买社工服务费")
         for f in ("docx", "xlsx", "pdf", "html")]
        + [f"wangniudun-union-2024-project-approval.{f}" for f in ("docx", "xlsx", "pdf", "html")])
    assert "已生成 12 个文件" in result.output


def test_bad_inputs_exit_2_with_a_chinese_message_and_no_output(tmp_path):
    out = tmp_path / "out"
    for case, (name, text, _line, _field, message) in BAD_INPUTS.items():
        path = write(tmp_path, f"{case}{Path(name).suffix}", text)
        result = run("render", str(path), "-f", "docx,xlsx", "-o", str(out))
        assert result.exit_code == 2, (case, result.output)
        assert "错误" in result.output and message in result.output, (case, result.output)
        assert str(path) in result.output and "Traceback" not in result.output
        assert not out.exists() or not any(out.rglob("*.*")), case


def test_missing_path_exits_2(tmp_path):
    result = run("render", str(tmp_path / "none.yaml"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "文件不存在" in result.output


def test_a_batch_renders_the_good_forms_and_reports_the_bad(tmp_path):
    good = "\n    ".join(PROJECT.splitlines())
    bad = good.replace("起始年度: 2024", "起始年度: 2030")
    path = write(tmp_path, "batch.yaml", f"表单:\n  - {good}\n  - {bad}\n  - {good}\n")
    other = write(tmp_path, "other.yaml", PROJECT)
    out = tmp_path / "out"
    result = run("render", str(path), str(other), "-f", "docx", "-o", str(out))
    assert result.exit_code == 2
    assert "表单第2项 › 实施周期" in result.output and "晚于" in result.output
    assert sorted(p.name for p in (out / "batch").iterdir()) == ["01-测试项目.docx", "03-测试项目.docx"]
    assert not (out / "batch.docx").exists(), "no combined document when a form is missing"
    assert (out / "other" / "01-测试项目.docx").exists()
    assert "未生成合并文件" in result.output


def test_a_folder_is_read_without_the_schema_file(tmp_path):
    result = run("render", str(SAMPLES), "-f", "html", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir() and p.name != ".jixiao-cache") == [
        "dongguan-city-department-2023-targets", "dongkeng-party-office-2024-project-targets", "houjie-party-office-2026-department-approval",
        "houjie-party-office-2026-department-targets", "wangniudun-union-2024-project-approval"]


def test_unknown_format_is_refused(tmp_path):
    result = run("render", str(SAMPLES), "-f", "docx,odt", "-o", str(tmp_path))
    assert result.exit_code == 2 and "不支持的格式「odt」" in result.output


def test_schema_command_prints_json_schema():
    result = run("schema")
    schema = json.loads(result.output)
    assert result.exit_code == 0 and schema["$schema"].endswith("2020-12/schema")
    assert "项目名称" in schema["$defs"]["ProjectForm"]["properties"]


def test_new_writes_a_starter_per_layout_that_renders(tmp_path):
    result = run("new", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    starters = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert starters == ["东莞市部门整体预算绩效目标表.yaml", "部门整体支出绩效目标批复表.yaml", "部门整体支出绩效目标表.yaml",
                        "项目支出绩效目标批复表.yaml", "项目绩效目标表.yaml"]
    assert (tmp_path / "jixiao.schema.json").exists()
    rendered = run("render", str(tmp_path), "-f", "docx,html", "-o", str(tmp_path / "out"))
    assert rendered.exit_code == 0, rendered.output
    again = run("new", "-o", str(tmp_path))
    assert again.exit_code == 2 and "已存在" in again.output


def test_python_dash_m_works_and_shows_chinese_help():
    result = subprocess.run([sys.executable, "-m", "jixiao", "render", "--help"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and "生成表格" in result.stdout


def test_no_cjk_font_stops_pdf_with_install_advice(tmp_path):
    empty = tmp_path / "fonts"
    empty.mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><dir>{empty}</dir>'
                      f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "jixiao", "render", str(SAMPLES), "-o", str(out)],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 2
    assert "未找到中文（CJK）字体" in result.stderr and "fonts-noto-cjk" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_broken_template_is_reported_once_with_file_and_line(tmp_path):
    (tmp_path / "project.html.j2").write_text("<section>\n{% for x in %}\n", "utf-8")
    result = run("render", str(SAMPLES / "wangniudun-union-2024-project-approval.yaml"), "-f", "html",
                 "--templates", str(tmp_path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.output.count("模板语法错误") == 1 and "project.html.j2，第 2 行" in result.output


def test_check_exit_status_follows_the_worst_finding(tmp_path):
    clean = write(tmp_path, "clean.yaml", PROJECT)
    warned = write(tmp_path, "warned.yaml", PROJECT.replace("当年度指标值: 4次}", "当年度指标值: 4}"))
    wrong = write(tmp_path, "wrong.yaml", PROJECT.replace(*BREAKS["C003"][1:]))
    assert run("check", str(clean)).exit_code == 0
    result = run("check", str(warned))
    assert result.exit_code == 1 and "V002" in result.output and "1 个警告" in result.output
    assert run("check", str(warned), "--strict").exit_code == 2
    assert run("check", str(warned), "--off", "V002").exit_code == 0
    result = run("check", str(wrong))
    assert result.exit_code == 2 and "C003" in result.output and "预算年度 2028 不在实施周期" in result.output


def test_check_json_and_bad_input(tmp_path):
    report = json.loads(run("check", str(SAMPLES), "--format", "json").output)
    assert report["summary"] == {"forms": 27, "errors": 0, "warnings": 8, "unchecked": 0}
    assert {f["rule"] for f in report["findings"]} == {"V002", "V004", "C002"}
    first = report["findings"][0]
    assert set(first) == {"rule", "severity", "message", "file", "form", "name", "field", "line"}
    bad = write(tmp_path, "bad.yaml", "项目名称: [")
    result = run("check", str(bad))
    assert result.exit_code == 2 and "YAML 语法错误" in result.output


def test_render_refuses_a_form_with_errors_unless_forced(tmp_path):
    wrong = write(tmp_path, "wrong.yaml", PROJECT.replace(*BREAKS["C003"][1:]))
    out = tmp_path / "out"
    result = run("render", str(wrong), "-f", "docx", "-o", str(out))
    assert result.exit_code == 2 and "[C003]" in result.output and "--force" in result.output
    assert not out.exists() or not any(out.rglob("*.docx"))
    forced = run("render", str(wrong), "-f", "docx", "-o", str(out), "--force")
    assert forced.exit_code == 0 and (out / "wrong" / "01-测试项目.docx").exists()
