"""The command line: a thin shell over the library (load → render → write).

``jixiao render``, ``jixiao schema`` and ``jixiao new``. Every user error prints in Chinese, names the
file, line and field, and exits with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__, importer, report, starter
from .checks import ERROR, check_file, check_form
from .errors import InputError, JixiaoError, OutputError, Problem
from .importer import emit
from .layout import render_section
from .loader import SUFFIXES, FormFile, LoadedForm, load
from .output import plan, with_suffix, write_atomic
from .render import document, to_bytes
from .schema import SCHEMA_FILE, schema_text
from .writers import FORMATS
from .writers.pdf import ensure_cjk_font

EXIT_INPUT = 2
EXIT_WARNINGS = 1
DEFAULT_FORMATS = "docx,xlsx,pdf"


@dataclass
class Outcome:
    """What a render run did: files written and errors met."""

    written: list[Path] = field(default_factory=list)
    errors: list[JixiaoError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", message="jixiao %(version)s")
def main() -> None:
    """jixiao（绩效）：把 YAML/JSON 写的绩效目标生成为标准表样的 DOCX、XLSX、PDF。

    Turns performance-target definitions into the standard government forms.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-f", "--formats", default=DEFAULT_FORMATS, show_default=True,
              help=f"输出格式，逗号分隔：{','.join(FORMATS)}")
@click.option("-o", "--output", "out_dir", default="output", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="输出目录")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="自定义模板目录：其中的同名文件替换内置模板")
@click.option("--force", is_flag=True, help="检查发现错误时仍然生成（默认不生成有错误的表）")
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈（开发者用）")
def render(paths: tuple[Path, ...], formats: str, out_dir: Path, templates: Path | None, force: bool,
           debug: bool) -> None:
    """生成表格：PATHS 为输入文件（.yaml/.yml/.json）或含输入文件的文件夹。

    Each form gets one file per format; a file of several forms also gets one combined document per
    format (DOCX/PDF: a page per form, XLSX: a sheet per form).
    """
    console = Console(stderr=True)
    with _guard(console, debug):
        fmts = _parse_formats(formats)
        outcome = run_render(list(paths), fmts, out_dir, templates, console, force=force)
        _report(console, outcome, out_dir)
        if outcome.errors:
            sys.exit(EXIT_INPUT)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text：按表分组的表格；json：供程序读取")
@click.option("--strict", is_flag=True, help="有警告也以状态 2 退出（默认：只有警告时退出状态为 1）")
@click.option("--off", "off", multiple=True, metavar="规则",
              help="关闭规则，可多次或逗号分隔，如 --off V004,C002（文件中可写 检查: {关闭: [...]})")
@click.option("--satisfaction-floor", type=click.FloatRange(0, 100), metavar="百分数",
              help="满意度下限，覆盖文件中的 检查.满意度下限（默认 80）")
def check(paths: tuple[Path, ...], output_format: str, strict: bool, off: tuple[str, ...],
          satisfaction_floor: float | None) -> None:
    """审核表格：完整性、相关性、适当性、可行性的机械检查（规则见 README）。

    Exit status: 0 clean, 1 warnings only (2 with --strict), 2 errors or bad input.
    """
    errors_out = Console(stderr=True)
    with _guard(errors_out, False):
        outcome = Outcome()
        rule_ids = [i for item in off for i in item.split(",") if i.strip()]
        floor = Decimal(str(satisfaction_floor)) if satisfaction_floor is not None else None
        findings, forms = [], 0
        for path in _input_files(list(paths), outcome):
            try:
                form_file = load(path)
            except JixiaoError as error:
                outcome.errors.append(error)
                continue
            outcome.errors.extend(form_file.errors)
            forms += len(form_file.forms)
            findings += check_file(form_file, rule_ids, floor)
        if output_format == "json":
            input_errors = [line for error in outcome.errors for line in str(error).splitlines()]
            click.echo(report.as_json(forms, findings, input_errors))
        else:
            _print_errors(errors_out, outcome.errors)
            report.print_text(Console(), forms, findings)
        counts = report.summary(forms, findings)
        if outcome.errors or counts["errors"] or (strict and counts["warnings"]):
            sys.exit(EXIT_INPUT)
        if counts["warnings"]:
            sys.exit(EXIT_WARNINGS)


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="写入的输入文件（.yaml 或 .json），不写则把 YAML 打印到标准输出")
@click.option("--force", is_flag=True, help="覆盖已存在的输出文件")
def import_(paths: tuple[Path, ...], output: Path | None, force: bool) -> None:
    """导入已有的表格：XLSX、DOCX、PDF 或 PDF 提取的文本（.txt）→ 一个可编辑的输入文件。

    Reads last year's forms back into the input file that `jixiao render` takes.
    """
    console = Console(stderr=True)
    with _guard(console, False):
        if output is not None and output.exists() and not force:
            raise OutputError.at("输出文件已存在（可能有你的修改）：加 --force 覆盖，或换一个文件名", output)
        if output is not None and output.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise OutputError.at("输出文件应以 .yaml 或 .json 结尾", output)
        outcome, result = Outcome(), importer.Imported()
        for path in _input_files(list(paths), outcome, importer.SUFFIXES):
            try:
                importer.import_file(path, into=result)
            except JixiaoError as error:
                outcome.errors.append(error)
        for warning in result.warnings:
            console.print(f"[yellow]警告[/]：{warning}", highlight=False, soft_wrap=True)
        if result.forms:
            source = "、".join(str(p) for p in paths)
            if output is not None and output.suffix.lower() == ".json":
                text = emit.to_json(result.forms)
            else:
                text = emit.to_yaml(result.forms, source)
            if output is None:
                click.echo(text, nl=False)
            else:
                write_atomic(output, text.encode("utf-8"))
        _report(console, outcome, None, f"已导入 {len(result.forms)} 张表" + (f"到 {output}" if output else "")
                + (f"；{len(result.warnings)} 条警告，请核对" if result.warnings else ""))
        if outcome.errors:
            sys.exit(EXIT_INPUT)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help=f"写入文件（如 {SCHEMA_FILE}），不写则打印到标准输出")
def schema(output: Path | None) -> None:
    """打印输入文件的 JSON Schema，供编辑器校验和补全。Print the input's JSON Schema."""
    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text.encode("utf-8"))


@main.command()
@click.option("-o", "--output", "out_dir", default=".", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="写入的目录")
@click.option("--force", is_flag=True, help="覆盖已存在的同名文件")
def new(out_dir: Path, force: bool) -> None:
    """为四种表样各写一个带注释的示例输入文件（及 JSON Schema）。Write starter files."""
    console = Console(stderr=True)
    with _guard(console, False):
        written = starter.write_starters(out_dir, force=force)
        for path in written:
            console.print(f"已写入 {path}")


@main.command()
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="端口")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听的地址；默认只有本机能打开（0.0.0.0 让局域网中的电脑也能打开并修改文件）")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器")
def serve(path: Path, port: int, host: str, no_browser: bool) -> None:
    """在浏览器中编辑、检查、预览、导入和下载：PATH 为文件夹或其中的一个输入文件（默认当前文件夹）。

    A local web page over one folder: edit with a live preview of the printed form, see the review
    findings at their lines, download DOCX/XLSX/PDF, import last year's forms.
    """
    from . import serve as web  # the web server is only loaded for this command

    console = Console(stderr=True)
    with _guard(console, False):
        web.run(path, host, port, open_browser=not no_browser,
                announce=lambda text: console.print(text, highlight=False, soft_wrap=True))


def run_render(paths: list[Path], formats: list[str], out_dir: Path, templates: Path | None,
               console: Console | None = None, force: bool = False) -> Outcome:
    """Render every form of every input file; errors are collected, good forms still render.

    A form with error-level review findings (:mod:`jixiao.checks`) is not rendered unless ``force``.
    """
    outcome = Outcome()
    if "pdf" in formats:
        ensure_cjk_font()  # stop before writing anything rather than print boxes
    files: list[FormFile] = []
    for path in _input_files(paths, outcome):
        try:
            files.append(load(path))
        except JixiaoError as error:
            outcome.errors.append(error)
    total = sum(len(f.forms) + (1 if f.count > 1 else 0) for f in files) * len(formats)
    with _progress(console) as progress:
        task = progress.add_task("生成", total=total)
        stems: set[str] = set()
        for form_file in files:
            _render_file(form_file, formats, out_dir, templates, outcome, stems,
                         lambda n=1: progress.advance(task, n), force)
    return outcome


def _render_file(form_file: FormFile, formats: list[str], out_dir: Path, templates: Path | None,
                 outcome: Outcome, stems: set[str], advance, force: bool) -> None:
    outcome.errors.extend(form_file.errors)
    stem = _unique_stem(form_file.path.stem, stems)
    forms = [loaded.form for loaded in form_file.forms]
    paths = plan(out_dir, stem, [f.display_name for f in forms],
                 [loaded.index for loaded in form_file.forms], form_file.count)
    sections = []
    for loaded, base in zip(form_file.forms, paths.forms, strict=True):
        form = loaded.form
        try:
            if not force:
                _refuse_errors(loaded, form_file)
            section = render_section(form, templates)
            doc = document(form, templates, sections=[section])
            outputs = {fmt: to_bytes(doc, fmt) for fmt in formats}  # all formats, then write
        except JixiaoError as error:
            outcome.errors.append(error)
            advance(len(formats))
            continue
        sections.append(section)
        for fmt, data in outputs.items():
            outcome.written.append(_write(with_suffix(base, fmt), data))
        advance(len(formats))
    if paths.combined is not None:
        if len(sections) == form_file.count:
            doc = document(forms, templates, sections=sections)
            for fmt in formats:
                outcome.written.append(_write(with_suffix(paths.combined, fmt), to_bytes(doc, fmt)))
                advance()
        else:
            outcome.notes.append(f"{form_file.path} 有表格出错，未生成合并文件 {paths.combined.name}.*")
            advance(len(formats))


def _refuse_errors(loaded: LoadedForm, form_file: FormFile) -> None:
    findings = check_form(loaded, form_file, severities=(ERROR,))
    if findings:
        raise InputError(*[Problem(f"[{f.rule}] {f.message}（检查发现错误，未生成这张表；确需生成请加 --force）",
                                   f.file, f.line, f.field) for f in findings])


def _write(path: Path, data: bytes) -> Path:
    write_atomic(path, data)
    return path


def _input_files(paths: list[Path], outcome: Outcome, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file()
                                and p.suffix.lower() in suffixes and not p.name.endswith(".schema.json")))
        elif path.exists() or path.suffix.lower() in suffixes:
            found.append(path)  # a missing file is reported by load() in Chinese
        else:
            outcome.errors.append(JixiaoError.at("文件不存在，请检查路径", path))
    return found


def _unique_stem(stem: str, used: set[str]) -> str:
    name, n = stem, 1
    while name in used:
        n += 1
        name = f"{stem}-{n}"
    used.add(name)
    return name


def _parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise OutputError.at(f"不支持的格式「{'、'.join(unknown) or text}」，可选：{','.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def _progress(console: Console | None) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True,
                    disable=console is None or not console.is_terminal)


def _print_errors(console: Console, errors: list[JixiaoError]) -> None:
    lines = [line for error in errors for line in str(error).splitlines()]
    for line in dict.fromkeys(lines):  # a template error met by every form is said once
        console.print(f"[bold red]错误[/]：{line}", highlight=False, soft_wrap=True)


def _report(console: Console, outcome: Outcome, out_dir: Path | None, summary: str | None = None) -> None:
    _print_errors(console, outcome.errors)
    for note in outcome.notes:
        console.print(f"[yellow]注意[/]：{note}", highlight=False, soft_wrap=True)
    if summary is None:
        summary = f"已生成 {len(outcome.written)} 个文件，位于 {out_dir}/"
        if outcome.errors:
            summary += f"；{len(outcome.errors)} 处错误，出错的表未生成"
    console.print(summary, highlight=False)


class _guard:
    """Turn a JixiaoError into a Chinese message and exit 2; other errors are bugs (exit 1)."""

    def __init__(self, console: Console, debug: bool):
        self.console, self.debug = console, debug

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None or isinstance(error, (SystemExit, KeyboardInterrupt)) or self.debug:
            return False
        if isinstance(error, JixiaoError):
            _print_errors(self.console, [error])
            sys.exit(EXIT_INPUT)
        self.console.print(f"[bold red]内部错误[/]：{type(error).__name__}: {error}。"
                           "请加 --debug 重新运行，并把输出报告给开发者。", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
