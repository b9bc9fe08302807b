"""Templates: overriding by file name, errors that name the template, and the paragraph filter."""

from __future__ import annotations

import io

import pytest
from docx import Document

from jixiao import TemplateError, render
from jixiao.layout import builtin_templates
from jixiao.model import paragraphs

from .conftest import SAMPLES, sample_forms

FORM = SAMPLES / "wangniudun-union-2024-project-approval.yaml"


def test_a_template_folder_overrides_by_file_name(tmp_path):
    own = (builtin_templates() / "project.html.j2").read_text("utf-8").replace(">项目名称<", ">项目全称<")
    (tmp_path / "project.html.j2").write_text(own, "utf-8")
    document = Document(io.BytesIO(render(sample_forms(FORM)[0], "docx", tmp_path)))
    assert document.tables[0].rows[0].cells[0].text == "项目全称"


def test_a_template_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "project.html.j2").write_text("<section class=\"form\">\n<table>\n{% if form.name %}\n", "utf-8")
    with pytest.raises(TemplateError) as raised:
        render(sample_forms(FORM)[0], "html", tmp_path)
    problem = raised.value.problems[0]
    assert problem.file.endswith("project.html.j2") and problem.line == 3
    assert "模板语法错误" in problem.message


def test_a_template_runtime_error_names_file_and_line(tmp_path):
    (tmp_path / "project.html.j2").write_text("<section class=\"form\">\n<table>\n{{ form.no_such_field }}\n",
                                              "utf-8")
    with pytest.raises(TemplateError) as raised:
        render(sample_forms(FORM)[0], "html", tmp_path)
    problem = raised.value.problems[0]
    assert problem.file.endswith("project.html.j2") and problem.line == 3
    assert "no_such_field" in problem.message


def test_paragraphs_split_p_blocks_and_lines_only():
    assert paragraphs("<p>一</p> <p>二 &amp; 三</p>") == ["一", "二 & 三"]
    assert paragraphs("甲\n\n乙") == ["甲", "乙"]
    assert paragraphs("<p>一</p> 中间 <p>二</p>") == ["<p>一</p> 中间 <p>二</p>"]
    assert paragraphs("<script>x</script>") == ["<script>x</script>"]
    assert paragraphs("") == [""]
