"""The command line: a thin shell over the library.

``jixiao render`` (:func:`jixiao.batch.run_batch`), ``check``, ``import``, ``schema``, ``new`` and ``serve``.
Every user error prints in Chinese, names the file, line and field, and exits with status 2; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import socket
import sys
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__, importer, report, starter, terminal
from .batch import BatchResult, input_files, run_batch
from .checks import check_file
from .errors import JixiaoError, OutputError
from .importer import emit
from .loader import SUFFIXES, load
from .output import write_atomic
from .schema import SCHEMA_FILE, schema_text
from .writers import FORMATS

EXIT_INPUT = 2
EXIT_WARNINGS = 1
DEFAULT_FORMATS = "docx,xlsx,pdf"
DASK_TIMEOUT = "10s"
DASK_CONNECT_SECONDS = 5


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
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="并行生成的进程数（默认：本机 CPU 核数；1 表示不另开进程）")
@click.option("--scheduler", metavar="tcp://主机:端口",
              help="把表格交给 dask.distributed 集群生成（需安装 jixiao[distributed]）")
@click.option("--no-cache", is_flag=True, help="不使用也不更新输出目录中的缓存 .jixiao-cache，全部重新生成")
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈（开发者用）")
def render(paths: tuple[Path, ...], formats: str, out_dir: Path, templates: Path | None, force: bool,
           jobs: int | None, scheduler: str | None, no_cache: bool, debug: bool) -> None:
    """生成表格：PATHS 为输入文件（.yaml/.yml/.json）或含输入文件的文件夹。

    Each form gets one file per format; a file of several forms also gets one combined document per
    format (DOCX/PDF: a cover, contents and every form; XLSX: an index sheet and a sheet per form).
    """
    console = Console(stderr=True)
    with _guard(console, debug):
        fmts = _parse_formats(formats)
        with _scheduler_executor(scheduler) as executor:
            outcome = run_render(list(paths), fmts, out_dir, templates, console, force=force, jobs=jobs,
                                 executor=executor, cache=not no_cache)
        _report(console, outcome, out_dir, _render_summary(outcome, out_dir))
        if outcome.errors:
            sys.exit(EXIT_INPUT)


def _render_summary(outcome: BatchResult, out_dir: Path) -> str:
    summary = f"已生成 {len(outcome.written)} 个文件，位于 {out_dir}/"
    cached = sum(form.cached for file in outcome.files for form in file.forms)
    if cached:
        summary += f"；{cached} 张表未改变，取自缓存"
    printed = len(dict.fromkeys(_error_lines(outcome.errors)))
    if printed:  # counted as _print_errors prints them: each problem once
        summary += f"；{printed} 处错误（见上），出错的表未生成"
    return summary


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
        findings, forms, unchecked = [], 0, 0
        for path in _input_files(list(paths), outcome):
            try:
                form_file = load(path)
            except JixiaoError as error:
                outcome.errors.append(error)
                unchecked += 1  # a file that cannot be read: its forms are not even counted
                continue
            outcome.errors.extend(form_file.errors)
            unchecked += form_file.count - len(form_file.forms)
            forms += len(form_file.forms)
            findings += check_file(form_file, rule_ids, floor)
        if output_format == "json":
            click.echo(report.as_json(forms, findings, _error_lines(outcome.errors), unchecked))
        else:
            _print_errors(errors_out, outcome.errors)
            report.print_text(Console(), forms, findings, unchecked)
        counts = report.summary(forms, findings, unchecked)
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
            terminal.print_line(console, "警告", "yellow", warning)
        summary = "未导入任何表" + ("，未写入文件" if output else "")
        if result.forms:
            source = "、".join(str(p) for p in paths)
            if output is not None and output.suffix.lower() == ".json":
                text = emit.to_json(result.forms)
            else:
                text = emit.to_yaml(result.forms, source)
            if output is None:
                click.echo(terminal.for_terminal(text, sys.stdout), nl=False)
            else:
                write_atomic(output, text.encode("utf-8"))
            summary = f"已导入 {len(result.forms)} 张表" + (f"到 {output}" if output else "")
        _report(console, outcome, None,
                summary + (f"；{len(result.warnings)} 条警告，请核对" if result.warnings else ""))
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
    """为每种表样各写一个带注释的示例输入文件（及 JSON Schema）。Write starter files."""
    console = Console(stderr=True)
    with _guard(console, False):
        written = starter.write_starters(out_dir, force=force)
        for path in written:
            terminal.print_line(console, "", "", f"已写入 {path}")


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
               console: Console | None = None, force: bool = False, jobs: int | None = None,
               executor: Executor | None = None, cache: bool = True) -> BatchResult:
    """Render every form of every input file (:func:`jixiao.batch.run_batch`) with a progress bar."""
    with _progress(console) as progress:
        task = progress.add_task("生成", total=None)
        return run_batch(paths, formats, out_dir, templates=templates, force=force, jobs=jobs,
                         executor=executor, cache=cache,
                         progress=lambda done, total: progress.update(task, completed=done, total=total))


@contextmanager
def _scheduler_executor(address: str | None) -> Iterator[Executor | None]:
    """An executor on the dask.distributed scheduler at ``address`` (None: jixiao's own processes)."""
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise OutputError.at("使用 --scheduler 需要安装 dask.distributed：pip install 'jixiao[distributed]'") from None
    try:
        _reachable(address)  # a refused connection is said at once (dask would retry, then warn at exit)
        client = Client(address, timeout=DASK_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise OutputError.at(f"无法连接 dask 调度器 {address}：{error}；请检查地址，"
                             "并确认已运行 dask scheduler 和 dask worker") from None
    try:
        yield client.get_executor(pure=False)  # each job is new work: no hashing of its data
    finally:
        client.close()


def _input_files(paths: list[Path], outcome: Outcome, suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    return input_files(paths, outcome.errors, suffixes)


def _reachable(address: str) -> None:
    """Raise OSError unless a ``tcp://HOST:PORT`` address accepts a connection (other schemes: dask's job)."""
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme == "tcp" and port.isdigit():
        with socket.create_connection((host.strip("[]"), int(port)), timeout=DASK_CONNECT_SECONDS):
            pass


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


def _error_lines(errors: list[JixiaoError]) -> list[str]:
    return [str(problem) for error in errors for problem in (error.problems or [str(error)])]


def _print_errors(console: Console, errors: list[JixiaoError]) -> int:
    """Print each problem once; returns how many lines were printed (what a summary should count)."""
    lines = dict.fromkeys(_error_lines(errors))
    for line in lines:  # a template error met by every form is said once
        terminal.print_line(console, "错误", "bold red", line)
    return len(lines)


def _report(console: Console, outcome: Outcome, out_dir: Path | None, summary: str | None = None) -> None:
    printed = _print_errors(console, outcome.errors)
    for note in outcome.notes:
        terminal.print_line(console, "注意", "yellow", note)
    if summary is None:
        summary = f"已生成 {len(outcome.written)} 个文件，位于 {out_dir}/"
        if printed:
            summary += f"；{printed} 处错误（见上），出错的表未生成"
    terminal.print_line(console, "", "", summary)


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
        terminal.print_line(self.console, "内部错误", "bold red", f"{type(error).__name__}: {error}。"
                            "请加 --debug 重新运行，并把输出报告给开发者。")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
