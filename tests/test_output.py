"""Output names stay inside the output folder and are safe on Windows; files are written whole."""

from __future__ import annotations

import pytest

from jixiao import OutputError, load, render_to_path
from jixiao.output import plan, safe_name, write_atomic

from .conftest import PROJECT, SAMPLES, write


def test_names_are_safe_on_windows_and_linux():
    assert "/" not in safe_name("../../etc/passwd") and ".." not in safe_name("../../etc/passwd")
    assert safe_name("CON").upper() != "CON"
    assert safe_name('a<b>c:d"e|f?g*h\\i') == "abcdefghi"
    assert safe_name("  ") == "表" and safe_name("...") == "表"


def test_a_project_name_cannot_leave_the_output_folder(tmp_path):
    name = "../../逃逸/../../x"
    out = tmp_path / "out"
    paths = plan(out, "../in", [name, name])
    for path in paths.forms + [paths.combined]:
        assert path.resolve().is_relative_to(out.resolve())
    form = load(write(tmp_path, "a.yaml", PROJECT.replace("项目名称: 测试项目", f'项目名称: "{name}"'))).all_forms()[0]
    assert form.name == name


def test_failed_write_leaves_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_atomic(blocker / "sub" / "a.pdf", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_python_api_renders_to_a_path(tmp_path):
    forms = load(SAMPLES / "wangniudun-union-2024-project-approval.yaml").all_forms()
    path = render_to_path(forms, tmp_path / "两张.docx")
    assert path.read_bytes()[:2] == b"PK"
    assert [p.name for p in tmp_path.iterdir()] == ["两张.docx"]


def test_written_files_follow_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.pdf", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.pdf").stat().st_mode & 0o777 == 0o644


def test_rendering_nothing_is_a_clear_error():
    from jixiao import render

    with pytest.raises(OutputError, match="没有可生成的表"):
        render([], "docx")
