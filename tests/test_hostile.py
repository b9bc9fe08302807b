"""Hostile input (issue 8): every case gets a Chinese message naming where, exit 2, no traceback, no hang,
and nothing from the user reaches the terminal as markup or control codes.

The numbers in the test names are the cases of the issue. Everything runs through the CLI in-process, as
a user would meet it.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao.cli import main
from jixiao.limits import MAX_DEPTH, MAX_ITEMS, MAX_TEXT, audit
from jixiao.terminal import for_terminal

from .conftest import PROJECT, write
from .readback import REFERENCE

RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert "内部错误" not in result.output and "Traceback" not in result.output, result.output
    assert not RAW_CONTROL.search(result.output), repr(result.output)
    return result


def forms_file(*forms: str) -> str:
    """A file of several forms, each given as a one-form YAML text."""
    return "表单:\n" + "".join("  - " + "\n    ".join(form.splitlines()) + "\n" for form in forms)


def with_item(value: str) -> str:
    """PROJECT with its first indicator's annual value replaced by ``value`` (a YAML scalar)."""
    return PROJECT.replace("当年度指标值: 4次}", f"当年度指标值: {value}}}")


# 1 and 9: user text is never console markup and never raw control codes


def test_1_markup_like_text_is_printed_as_typed(tmp_path):
    bad = write(tmp_path, "markup.yaml", PROJECT + "坏[/x]: 1\n")
    for command in ("check", "render"):
        result = run(command, str(bad), "-o" if command == "render" else "--strict", *(
            [str(tmp_path / "out")] if command == "render" else []))
        assert result.exit_code == 2
        assert "未知字段「坏[/x]」" in result.output
    named = write(tmp_path, "named.yaml", with_item("4").replace("项目名称: 测试项目", "项目名称: '[red]未知[/red]'"))
    result = run("check", str(named))
    assert result.exit_code == 1 and "[red]未知[/red]" in result.output  # the table title, as typed
    text = write(tmp_path, "form.txt", (REFERENCE / "wangniudun-union-2024-project-approval.txt").read_text()
                 + "\n[/x] [bold]注[/bold]\n")
    result = run("import", str(text), "-o", str(tmp_path / "imported.yaml"))
    assert result.exit_code == 0 and "[/x] [bold]注[/bold]" in result.output


def test_9_control_characters_are_shown_escaped(tmp_path):
    bad = write(tmp_path, "esc.yaml", PROJECT + '"\\e]0;PWNED\\a\\e[2J": 1\n"\\u202eabc": 2\n')
    result = run("check", str(bad))
    assert result.exit_code == 2
    assert "未知字段「\\x1b]0;PWNED\\x07\\x1b[2J」" in result.output
    escaped_name = write(tmp_path, "name.yaml", PROJECT.replace("项目名称: 测试项目", '项目名称: "测\\u202e试\\x9b"')
                         .replace("当年度指标值: 4次}", "当年度指标值: 4}"))
    result = run("check", str(escaped_name))
    assert result.exit_code == 1 and "测\\u202e试\\x9b" in result.output


# 2, 3, 6, 8: limits on what a file may hold, each stated in its message


def test_2_an_integer_of_thousands_of_digits_is_a_field_error(tmp_path):
    for name, text in [("big.yaml", PROJECT.replace("预算年度: 2025", "预算年度: " + "9" * 5000)),
                       ("big.json", json.dumps({"表样": "项目绩效目标表"}, ensure_ascii=False)[:-1]
                        + ', "预算年度": ' + "9" * 5000 + "}")]:
        result = run("check", str(write(tmp_path, name, text)))
        assert result.exit_code == 2 and "字段「预算年度」" in result.output and "应为整数" in result.output


def test_3_deep_nesting_fails_only_its_form_with_the_limit_in_the_message(tmp_path):
    deep_flow = with_item("[" * 1000 + "]" * 1000)
    deep_block = PROJECT + "".join("  " * i + f"k{i}:\n" for i in range(1500)) + "  " * 1500 + "v\n"  # 2.3 MB
    path = write(tmp_path, "deep.yaml", forms_file(PROJECT, deep_flow, PROJECT))
    out = tmp_path / "out"
    result = run("render", str(path), "-f", "docx", "-o", str(out))
    assert result.exit_code == 2
    assert "字段「表单第2项 › 绩效指标 › 产出指标 › 数量指标 › 第1项 › 当年度指标值 › 第1项" in result.output
    assert f"嵌套超过 {MAX_DEPTH} 层" in result.output and "deep.yaml，第 41 行" in result.output
    assert sorted(p.name for p in (out / "deep").iterdir()) == ["01-测试项目.docx", "03-测试项目.docx"]
    block = run("check", str(write(tmp_path, "block.yaml", deep_block)))
    assert block.exit_code == 2 and f"嵌套超过 {MAX_DEPTH} 层" in block.output and "字段「k0 › k1" in block.output
    deep_json = json.dumps({"表样": "项目绩效目标表", "x": 1})[:-1] + ', "y": ' + "[" * 10000 + "]" * 10000 + "}"
    result = run("check", str(write(tmp_path, "deep.json", deep_json)))
    assert result.exit_code == 2 and f"嵌套超过 {MAX_DEPTH} 层" in result.output and "字段「y › 第1项" in result.output


def test_3_an_alias_cycle_and_a_billion_laughs_are_refused(tmp_path):
    cycle: dict = {"b": []}
    cycle["b"].append(cycle)  # ruamel.yaml never builds one, but the API may be handed one
    assert "循环引用" in audit({"x": cycle}).message
    laughs = "a0: &a0 [" + ",".join(["'哈哈哈哈哈哈哈哈哈哈'"] * 10) + "]\n" + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    result = run("check", str(write(tmp_path, "laughs.yaml", PROJECT + laughs)))
    assert result.exit_code == 2 and "超过一张表的上限 100000 字" in result.output


def test_6_text_past_the_cell_limit_is_refused_and_a_cell_at_the_limit_renders(tmp_path):
    for value in ('"≥' + "9" * 100_000 + '...x"', "绩" * 1_000_000):
        result = run("check", str(write(tmp_path, "long.yaml", with_item(value))))
        assert result.exit_code == 2 and f"超过一格的上限 {MAX_TEXT} 字" in result.output
        assert "字段「绩效指标 › 产出指标 › 数量指标 › 第1项 › 当年度指标值」" in result.output
    at_limit = "≥" + "9" * (MAX_TEXT - 1)
    path = write(tmp_path, "limit.yaml", with_item(f'"{at_limit}"'))
    result = run("render", str(path), "-f", "pdf,docx", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "out" / "limit" / "01-测试项目.pdf"
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True).stdout
    assert text.count("9") >= MAX_TEXT - 1  # all of it printed, wrapped


def test_8_too_many_indicators_and_an_absurd_amount_are_refused(tmp_path):
    items = "".join(f"      - {{三级指标: 指标{i}, 实施周期指标值: 1次, 当年度指标值: 1次}}\n" for i in range(5000))
    many = PROJECT.replace("      - {三级指标: 补贴发放次数, 实施周期指标值: 12次, 当年度指标值: 4次}\n", items)
    result = run("check", str(write(tmp_path, "many.yaml", many)))
    assert result.exit_code == 2 and f"绩效指标有 5005 行，超过一张表的上限 {MAX_ITEMS} 行" in result.output
    listed = PROJECT + "x: [" + ", ".join(["1"] * 600) + "]\n"
    result = run("check", str(write(tmp_path, "list.yaml", listed)))
    assert result.exit_code == 2 and f"字段「x」：列表有 600 项，超过上限 {MAX_ITEMS} 项" in result.output
    rows = PROJECT.replace("    质量指标:\n", "".join(f"    数量{i}指标:\n      - {{三级指标: a, 实施周期指标值: 1次, "
                                                       f"当年度指标值: 1次}}\n" for i in range(MAX_ITEMS)) + "    质量指标:\n")
    result = run("check", str(write(tmp_path, "rows.yaml", rows)))
    assert result.exit_code == 2 and f"超过一张表的上限 {MAX_ITEMS} 行" in result.output
    huge = PROJECT.replace("预算金额: 100000", "预算金额: 1e999999999")
    result = run("render", str(write(tmp_path, "huge.yaml", huge)), "-f", "pdf", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and "字段「预算金额」：金额超出上限" in result.output


# 4: lone surrogates


def test_4_a_lone_surrogate_is_an_error_and_json_output_stays_json(tmp_path):
    path = write(tmp_path, "s.json", '{"表样": "项目绩效目标表", "x\\udfffy": 1}')
    result = run("check", str(path))
    assert result.exit_code == 2 and "字段「x\\udfffy」" in result.output and "无效的 Unicode 字符" in result.output
    report = json.loads(run("check", str(path), "--format", "json").stdout)
    assert "x\udfffy" in report["input_errors"][0]


# 5, 7, 12 (PDF): import


def test_5_an_indicator_header_with_one_value_column_imports(tmp_path):
    text = (REFERENCE / "wangniudun-union-2024-project-approval.txt").read_text()
    text = text.replace("三级指标\t实施周期指标值\t当年度指标值", "三级指标\t指标值")
    assert "三级指标\t指标值" in text
    path = write(tmp_path, "one.txt", text)
    result = run("import", str(path), "-o", str(tmp_path / "one.yaml"))
    assert result.exit_code == 0, result.output
    assert "{三级指标: 困难职工慰问次数, 实施周期指标值: 1次, 当年度指标值: 1次}" in (tmp_path / "one.yaml").read_text()


def hostile_xlsx(path: Path, far_cell: str | None = None, merge: str | None = None) -> Path:
    """A 5 KB workbook with 项目名称 in A1 that claims a huge sheet (as a hostile file would)."""
    book = openpyxl.Workbook()
    book.active.append(["项目名称", "x"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    row = re.sub(r"\D", "", far_cell or "")
    extra = f'<row r="{row}"><c r="{far_cell}" t="inlineStr"><is><t>v</t></is></c></row>' if far_cell else ""
    merged = f'<mergeCells count="1"><mergeCell ref="{merge}"/></mergeCells>' if merge else ""
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", extra.encode() + b"</sheetData>" + merged.encode())
            target.writestr(item, data)
    return path


def test_7_an_xlsx_claiming_a_huge_sheet_is_refused_with_the_limit(tmp_path):
    for name, kwargs, shown in [("far.xlsx", {"far_cell": "XFD1048576"}, "单元格 XFD1048576"),
                                ("merged.xlsx", {"merge": "B1:Z20000"}, "合并单元格 B1:Z20000")]:
        path = hostile_xlsx(tmp_path / name, **kwargs)
        assert path.stat().st_size < 6000
        result = run("import", str(path), "-o", str(tmp_path / "x.yaml"))
        assert result.exit_code == 2 and shown in result.output and "前 5000 行、前 40 列" in result.output
        assert not (tmp_path / "x.yaml").exists()


def test_12_a_password_protected_pdf_is_named_as_such(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("secret")
    path = tmp_path / "加密.pdf"
    writer.write(path)
    result = run("import", str(path))
    assert result.exit_code == 2 and "PDF 设有打开密码" in result.output and "损坏" not in result.output


# 10: nothing to read


def test_10_no_input_files_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "x.yaml").mkdir()
    for folder in ("empty", "x.yaml"):
        result = run("render", str(tmp_path / folder), "-o", str(tmp_path / "out"))
        assert result.exit_code == 2 and "这是文件夹，其中没有可读取的文件" in result.output
    assert run("check", str(tmp_path / "empty")).exit_code == 2
    result = run("import", str(tmp_path / "empty"), "-o", str(tmp_path / "result.yaml"))
    assert result.exit_code == 2 and "没有可读取的文件（.xlsx" in result.output
    assert "未导入任何表，未写入文件" in result.output and "result.yaml" not in result.output
    assert not (tmp_path / "result.yaml").exists()


# 11, 12: messages


def test_11_a_json_duplicate_key_is_an_error_with_its_line(tmp_path):
    text = json.dumps({"表样": "项目绩效目标表", "项目名称": "a"}, ensure_ascii=False, indent=2)
    text = text.replace('"项目名称": "a"', '"项目名称": "a",\n  "项目名称": "b"')
    result = run("check", str(write(tmp_path, "dup.json", text)))
    assert result.exit_code == 2 and "第 4 行" in result.output and "重复的键「项目名称」" in result.output


ENGLISH = re.compile(r"found|expected|should|position|unicode string|odict|\['|'\]| or |Error")


@pytest.mark.parametrize("case,text,shown", [
    ("tab", PROJECT + "x:\t1\n\ty: 2\n", "制表符（Tab）"),
    ("alias", PROJECT + "x: *nope\n", "别名 * 没有对应的锚点"),
    ("nul", PROJECT + "x: a\x00b\n", "控制字符 U+0000"),
    ("int_key", PROJECT + "1: 2\n", "键「1」被读成了数字"),
    ("seq_key", PROJECT + "? [a, b]\n: 1\n", "键应为文字，不能是列表"),
    ("literal", PROJECT.replace("预算金额: 100000", "预算金额: 100000\n金额单位: 美元"), "应为 “元”、“万元”、“” 之一"),
    ("layout_list", PROJECT.replace("表样: 项目绩效目标表", "表样: [项目绩效目标表]"), "「表样」应为文字，收到 列表"),
    ("set", PROJECT.replace("项目名称: 测试项目", "项目名称: !!set {a, b}"), "应为文本"),
    ("unclosed", PROJECT + 'x: "abc\n', "引号"),
    ("unclosed_list", PROJECT + "x: [[[a\n", "括号没有成对"),
    ("colon", PROJECT + "x: a: b\n", "冒号"),
    ("tag", PROJECT + "x: !!int abc\n", "以 !! 开头的标签与它的值不符"),
    ("merge", "<<: {表样: 项目绩效目标表}\n表单:\n  - 项目名称: x\n", "未知字段「表样」"),  # found by the fuzz test
])
def test_12_yaml_problems_are_said_in_chinese_on_one_line(tmp_path, case, text, shown):
    path = write(tmp_path, f"{case}.yaml", text)
    result = run("check", str(path))
    assert result.exit_code == 2 and shown in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("错误")]
    assert len(errors) == 1, result.output
    assert not ENGLISH.search(errors[0].replace(str(path), "")), errors[0]


def test_12_no_english_warning_from_the_yaml_reader(tmp_path):
    reused = PROJECT.replace("主管部门: 某办公室\n用款单位: 某办公室", "主管部门: &a 某办公室\n用款单位: &a 某办公室")
    result = run("check", str(write(tmp_path, "anchor.yaml", reused)))
    assert result.exit_code == 0 and "Warning" not in result.output and "anchor" not in result.output.lower()


def test_12_a_non_string_key_is_named_as_the_key(tmp_path):
    path = write(tmp_path, "key.yaml", PROJECT.replace("    质量指标:\n", "    1:\n"))
    result = run("check", str(path))
    assert result.exit_code == 2 and "键「1」" in result.output and "第2项" not in result.output


# 13: one refused output path does not stop the batch


def test_13_a_refused_output_path_does_not_hide_other_files(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "a-refused").symlink_to(elsewhere)  # a planted link: writing through it would leave out/
    refused = write(tmp_path, "a-refused.yaml", PROJECT)
    bad = write(tmp_path, "b-bad.yaml", PROJECT.replace("起始年度: 2024", "起始年度: 2030"))
    good = write(tmp_path, "c-good.yaml", PROJECT)
    result = run("render", str(refused), str(bad), str(good), "-f", "docx", "-o", str(out))
    assert result.exit_code == 2
    assert "不在输出目录内" in result.output and "晚于到期年度" in result.output
    assert (out / "c-good" / "01-测试项目.docx").exists()
    assert not any(elsewhere.iterdir())


def replaced(original: bytes, entry: str, data: bytes | None) -> bytes:
    """A zip with one entry's content replaced (``None``: left out)."""
    source, target = zipfile.ZipFile(io.BytesIO(original)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            if name != entry:
                out.writestr(name, source.read(name))
            elif data is not None:
                out.writestr(name, data)
    return target.getvalue()


def test_damaged_office_files_found_by_the_fuzz_test_are_named_damaged(tmp_path):
    """Each of these was an internal error (zlib.error, IndexError in openpyxl, AttributeError in python-docx)."""
    project = write(tmp_path, "p.yaml", PROJECT)
    run("render", str(project), "-f", "docx,xlsx", "-o", str(tmp_path / "out"))
    docx = (tmp_path / "out" / "p" / "01-测试项目.docx").read_bytes()
    xlsx = (tmp_path / "out" / "p" / "01-测试项目.xlsx").read_bytes()
    stored = bytearray(xlsx)
    at = stored.find(b"xl/worksheets/sheet1.xml") + 200  # inside that entry's deflate stream
    stored[at:at + 8] = b"\xff" * 8
    cases = {"main.docx": replaced(docx, "word/document.xml", b"<x/>"),
             "styles.xlsx": replaced(xlsx, "xl/styles.xml", b"<styleSheet/>"),
             "deflate.xlsx": bytes(stored)}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = run("import", str(path))
        assert result.exit_code == 2 and "文件已损坏" in result.output, (name, result.output)


def test_an_unwritable_output_is_said_in_chinese(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    text = write(tmp_path, "form.txt", (REFERENCE / "wangniudun-union-2024-project-approval.txt").read_text())
    result = run("import", str(text), "-o", str(tmp_path / "plain" / "x.yaml"))
    assert result.exit_code == 2 and "无法写入文件：路径中有一段是" in result.output
    assert "File exists" not in result.output and "Not a directory" not in result.output


def test_size_limits_of_files(tmp_path):
    from jixiao.importer.sources import MAX_UNPACKED
    from jixiao.limits import MAX_FILE_BYTES

    big = write(tmp_path, "big.yaml", PROJECT + "#" * MAX_FILE_BYTES + "\n")
    result = run("check", str(big))
    assert result.exit_code == 2 and f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB" in result.output
    project = write(tmp_path, "p.yaml", PROJECT)
    run("render", str(project), "-f", "docx", "-o", str(tmp_path / "out"))
    docx = (tmp_path / "out" / "p" / "01-测试项目.docx").read_bytes()
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
        target.writestr("word/media/zeros.bin", bytes(MAX_UNPACKED))
    assert bomb.stat().st_size < 200_000
    result = run("import", str(bomb))
    assert result.exit_code == 2 and f"文件解压后超过 {MAX_UNPACKED // 1024 // 1024} MB" in result.output


def test_imported_yaml_shows_bidi_controls_escaped_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    text = "项目名称: \u202e工会\n"
    assert for_terminal(text, Terminal()) == "项目名称: \\u202e工会\n"
    assert for_terminal(text, io.StringIO()) == text  # redirected to a file: the data as it is
