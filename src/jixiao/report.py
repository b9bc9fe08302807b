"""How ``jixiao check`` shows its findings: a table per form for people, or JSON for machines."""

from __future__ import annotations

import json
import re
from itertools import groupby

from rich.console import Console
from rich.table import Table

from .checks import ERROR, SEVERITY_NAMES, WARNING, Finding

_STYLE = {ERROR: "bold red", WARNING: "yellow"}
_FORM_PREFIX = re.compile(r"^表单第\d+项( › )?")


def summary(forms: int, findings: list[Finding], unchecked: int = 0) -> dict:
    """Counts: forms checked, errors, warnings, and forms (or unreadable files) that could not be checked."""
    return {"forms": forms, "errors": sum(f.severity == ERROR for f in findings),
            "warnings": sum(f.severity == WARNING for f in findings), "unchecked": unchecked}


def print_text(console: Console, forms: int, findings: list[Finding], unchecked: int = 0) -> None:
    """A table per form with findings, then the summary line."""
    for (file, index, name), group in groupby(findings, key=lambda f: (f.file, f.form, f.name)):
        table = Table(title=f"{file}  表单第{index}项「{name}」", title_justify="left", show_lines=False)
        for column in ("级别", "规则", "行", "字段", "说明"):
            table.add_column(column, overflow="fold")
        for finding in group:
            field = _FORM_PREFIX.sub("", finding.field)  # the table's title names the form
            table.add_row(f"[{_STYLE[finding.severity]}]{SEVERITY_NAMES[finding.severity]}[/]", finding.rule,
                          str(finding.line or ""), field, finding.message)
        console.print(table)
    counts = summary(forms, findings, unchecked)
    not_checked = (f"；[bold red]另有 {unchecked} 张表（或文件）未能读入，没有检查[/]：原因见上方的错误，"
                   "改正后再检查") if unchecked else ""
    if findings:
        console.print(f"检查了 {counts['forms']} 张表：[bold red]{counts['errors']} 个错误[/]，"
                      f"[yellow]{counts['warnings']} 个警告[/]{not_checked}", highlight=False, soft_wrap=True)
    elif unchecked:
        console.print(f"检查了 {counts['forms']} 张表{not_checked}", highlight=False, soft_wrap=True)
    else:
        console.print(f"检查了 {counts['forms']} 张表：未发现问题", highlight=False)


def as_json(forms: int, findings: list[Finding], input_errors: list[str], unchecked: int = 0) -> str:
    """The findings, the summary and any input errors as JSON."""
    return json.dumps({"summary": summary(forms, findings, unchecked), "findings": [f.as_dict() for f in findings],
                       "input_errors": input_errors}, ensure_ascii=False, indent=2)
