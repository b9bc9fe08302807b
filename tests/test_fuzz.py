"""Fuzz test: hostile YAML/JSON and corrupted XLSX/DOCX/PDF/text through ``render``, ``check`` and ``import``.

Hypothesis mutates real inputs (inserted snippets, hostile values, deep nesting, huge numbers, control
characters, markup-like text, odd keys, byte flips, truncation, replaced or missing zip entries) and runs
the commands in-process. Whatever the input, a run must:

- exit 0, 1 or 2, never with "内部错误" or a traceback, and say what is wrong in Chinese when it exits 2;
- finish within the time budget (``JIXIAO_FUZZ_BUDGET`` seconds, default 15, measured per command);
- print nothing from the user raw (no control or bidi characters reach the terminal; JSON stays JSON);
- write nothing outside its output folder, and leave no temporary or half-written file.

CI runs ``JIXIAO_FUZZ_EXAMPLES`` examples per test (default 25); README gives the command for thousands.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.cli import main
from jixiao.errors import InputError
from jixiao.syntax import parse

from .conftest import PROJECT, SAMPLES
from .readback import REFERENCE

EXAMPLES = int(os.environ.get("JIXIAO_FUZZ_EXAMPLES", 25))
BUDGET = float(os.environ.get("JIXIAO_FUZZ_BUDGET", 15))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
CJK = re.compile("[\u4e00-\u9fff]")

# --- hostile YAML and JSON ------------------------------------------------------------------------

MARKUP_AND_CONTROLS = ["[/x]", "[red]未知[/red]", "[bold", ":smile:", "\x1b]0;PWNED\x07\x1b[2J", "\x9b31m",
                       "\u202egnp.exe", "\u2066隔离", "=1+1", "@SUM(A1)", "<p>a</p><p>b</p>", "<script>x</script>",
                       "{{ 7*7 }}", "{% raw %}", "../../etc/passwd", "CON", "a/b\\c", "\x00", "\x07", "\ufeff",
                       "\u2028", "file:///etc/passwd", "url(http://127.0.0.1/)"]
NUMBERS = ["1e999999999", "-1e999999999", "1e-999999999", "NaN", "Infinity", ".inf", "-.nan", "0x" + "f" * 5000,
           "1_000_000", "0o777", "9" * 5000, "-" + "9" * 4400, "2024.0", "1,234", "true", "null", "~", "''"]
YAML_SNIPPETS = ["1: 2", "? [a, b]\n: 1", "~: x", "true: 1", "x: &a [*a]", "x: *nope", "x: !!python/object:os.system ls",
                 "x: !!set {a, b}", "x: !!binary aGk=", "x:\t1", "\tx: 1", "%YAML 1.1", "---", "...", "x: |\n  多行\n   文字",
                 "x: >-\n  折叠", "x: 'unclosed", 'x: "\\udfff"', 'x: "\\e[2J"', "x: [a, {b: c}", "<<: {表样: 项目绩效目标表}",
                 "表样: 部门整体支出绩效目标表", "表单: []", "公共: {x: 1}", "绩效指标: {}", "绩效指标: {产出指标: {}}"]


def _deep(n: int, kind: str) -> str:
    return {"list": "[" * n + "]" * n, "map": "{a: " * n + "1" + "}" * n,
            "block": "\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(n)) + "  " * (n + 1) + "v"}[kind]


hostile_scalar = st.one_of(
    st.sampled_from(MARKUP_AND_CONTROLS + NUMBERS),
    st.text(max_size=40),  # any code point: controls, surrogates, bidi
    st.builds(lambda n, c: c * n, st.integers(0, 12_000), st.sampled_from(["9", "绩", "a ", "≥"])),
    st.builds(_deep, st.integers(1, 2_000), st.sampled_from(["list", "map", "block"])),
)


@st.composite
def hostile_input(draw) -> tuple[str, bytes]:
    """A real input with a few hostile edits: (suffix, content)."""
    kind = draw(st.sampled_from(["yaml", "forms", "json", "sample"]))
    if kind == "json":
        text = json.dumps(parse(Path("x.yaml"), PROJECT), ensure_ascii=False, indent=1)
    elif kind == "forms":
        text = "表单:\n" + "".join("  - " + "\n    ".join(PROJECT.splitlines()) + "\n" for _ in range(3))
    elif kind == "sample":
        text = (SAMPLES / "wangniudun-union-2024-project-approval.yaml").read_text(encoding="utf-8")
    else:
        text = PROJECT
    for _ in range(draw(st.integers(1, 3))):
        text = draw(_edit(text, json_like=kind == "json"))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # now and then a flipped byte: broken UTF-8
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    return (".json" if kind == "json" else ".yaml"), data


@st.composite
def _edit(draw, text: str, json_like: bool) -> str:
    lines = text.split("\n")
    at = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["value", "quoted", "snippet", "delete", "duplicate", "key"]))
    if op in ("value", "quoted"):
        value = draw(hostile_scalar)
        shown = json.dumps(value, ensure_ascii=draw(st.booleans())) if op == "quoted" or json_like else value
        line = lines[at]
        cut = line.find(": ")
        lines[at] = (line[:cut + 2] + shown + ("," if json_like and line.rstrip().endswith(",") else "")
                     if cut >= 0 else line + shown)
    elif op == "snippet":
        indent = re.match(r"\s*", lines[at]).group()
        snippet = draw(st.sampled_from(YAML_SNIPPETS))
        lines.insert(at, "\n".join(indent + s for s in snippet.split("\n")))
    elif op == "delete":
        del lines[at:at + draw(st.integers(1, 5))]
    elif op == "duplicate":
        lines.insert(at, lines[at])
    else:
        key = draw(st.one_of(st.sampled_from(MARKUP_AND_CONTROLS), st.text(min_size=1, max_size=20)))
        indent = re.match(r"\s*", lines[at]).group()
        lines.insert(at, f"{indent}{json.dumps(key)}: 1" + ("," if json_like else ""))
    return "\n".join(lines)


# --- corrupted files for import ---------------------------------------------------------------------

HUGE_SHEET = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe9\xa1\xb9'
              b'\xe7\x9b\xae\xe5\x90\x8d\xe7\xa7\xb0</t></is></c></row></sheetData>'
              b'<mergeCells count="1"><mergeCell ref="B1:Z20000"/></mergeCells></worksheet>')
XML_BOMB = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><x>&d;</x>')


@pytest.fixture(scope="session")
def originals(rendered) -> dict[str, bytes]:
    """One real file of each importable kind: jixiao's own output and a published text."""
    folder = rendered / "wangniudun-union-2024-project-approval"
    files = {f".{fmt}": (folder / f"01-工会活动.{fmt}").read_bytes() for fmt in ("xlsx", "docx", "pdf")}
    files[".txt"] = (REFERENCE / "wangniudun-union-2024-project-approval.txt").read_bytes()
    return files


@st.composite
def corruption(draw, original: bytes, suffix: str) -> bytes:
    """``original`` with bytes flipped, cut short, or (XLSX/DOCX) a zip entry replaced or left out."""
    op = draw(st.sampled_from(["flip", "truncate", "entry", "entry", "text"] if suffix in (".xlsx", ".docx")
                              else ["flip", "truncate", "text"]))
    if op == "flip":
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 20))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= draw(st.integers(1, 255))
        return bytes(data)
    if op == "truncate":
        return original[:draw(st.integers(0, len(original) - 1))]
    if op == "text":
        lines = original.split(b"\n")
        at = draw(st.integers(0, len(lines) - 1))
        inserted = draw(st.one_of(st.sampled_from(MARKUP_AND_CONTROLS), st.text(max_size=60)))
        inserted += "\t" * draw(st.integers(0, 8)) + draw(st.sampled_from(["", "三级指标\t指标值", "项目名称\tx"]))
        lines.insert(at, inserted.encode("utf-8", "surrogatepass"))
        return b"\n".join(lines)
    source = zipfile.ZipFile(io.BytesIO(original))
    names = source.namelist()
    victim = draw(st.sampled_from(names))
    replacement = draw(st.one_of(st.just(None), st.binary(max_size=200), st.sampled_from([b"", HUGE_SHEET, XML_BOMB]),
                                 st.just(source.read(victim)[: len(source.read(victim)) // 2])))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in names:
            if name != victim:
                out.writestr(name, source.read(name))
            elif replacement is not None:
                out.writestr(name, replacement)
    return target.getvalue()


# --- running a command and what every run must satisfy ----------------------------------------------

def invoke(args: list[str]):
    """Run a command in-process; check exit status, time, and that what it printed is safe and Chinese."""
    started = time.perf_counter()
    result = CliRunner().invoke(main, args)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET, f"{args[0]} took {elapsed:.1f} s (budget {BUDGET} s)"
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    assert "内部错误" not in result.output and "Traceback" not in result.output, result.output
    assert not RAW_CONTROL.search(result.output), repr(result.output[:2000])
    if result.exit_code == 2 and "json" in args:
        report = json.loads(result.stdout)
        assert report["summary"]["errors"] or all(CJK.search(line) for line in report["input_errors"]), report
    elif result.exit_code == 2:
        errors = [line for line in result.output.splitlines() if line.startswith("错误：")]
        findings = re.search(r"检查了 \d+ 张表：[1-9]\d* 个错误", result.output)  # check's review errors
        assert errors or findings, result.output
        assert all(CJK.search(line.split("：", 1)[1]) for line in errors), result.output
    return result


def assert_clean(workdir: Path, inputs: Path, out: Path) -> None:
    """Nothing outside the input and output folders; no temporary file; every file written whole."""
    for path in workdir.rglob("*"):
        if path.is_dir():
            continue
        assert path.is_relative_to(inputs) or path.is_relative_to(out), f"file outside the output folder: {path}"
        if path.is_relative_to(out):
            assert not path.name.endswith(".tmp"), f"temporary file left: {path}"
            data = path.read_bytes()
            if path.suffix in (".docx", ".xlsx"):
                assert zipfile.ZipFile(path).testzip() is None
            elif path.suffix == ".pdf":
                assert data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]


@FUZZ
@given(case=hostile_input(), formats=st.sampled_from(["docx,xlsx,html", "pdf", "html"]))
def test_render_and_check_survive_hostile_yaml_and_json(tmp_path_factory, case, formats):
    suffix, data = case
    workdir = tmp_path_factory.mktemp("fuzz")
    inputs, out = workdir / "in", workdir / "out"
    inputs.mkdir()
    path = inputs / f"input{suffix}"
    path.write_bytes(data)
    invoke(["render", str(path), "-f", formats, "-o", str(out)])
    invoke(["check", str(path)])
    invoke(["check", str(path), "--format", "json"])
    assert_clean(workdir, inputs, out)


@pytest.mark.parametrize("suffix", [".xlsx", ".docx", ".pdf", ".txt"])
def test_import_survives_corrupted_files(tmp_path_factory, originals, suffix):
    @FUZZ
    @given(data=corruption(originals[suffix], suffix))
    def run(data: bytes) -> None:
        workdir = tmp_path_factory.mktemp("fuzz")
        inputs, out = workdir / "in", workdir / "out"
        inputs.mkdir()
        path = inputs / f"form{suffix}"
        path.write_bytes(data)
        result = invoke(["import", str(path), "-o", str(out / "imported.yaml")])
        assert (out / "imported.yaml").exists() == ("已导入" in result.output and "到" in result.output)
        if (out / "imported.yaml").exists():
            try:  # what import writes, jixiao can read back
                parse(out / "imported.yaml", (out / "imported.yaml").read_text(encoding="utf-8"))
            except InputError as error:
                pytest.fail(f"import wrote a file jixiao cannot read: {error}")
        assert_clean(workdir, inputs, out)

    run()
