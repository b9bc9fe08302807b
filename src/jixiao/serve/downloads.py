"""Downloads: the DOCX, XLSX or PDF of one form or of a whole input file, made as `jixiao render` makes them.

The file is rendered by the same library call as the CLI into the served folder's ``output/`` (so the
officer finds it there afterwards, and a render that is already up to date is not done twice), and the
page then receives the bytes of the one file asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..cli import run_render
from ..errors import JixiaoError
from ..loader import load
from ..output import plan, with_suffix

DOWNLOAD_FORMATS = ("docx", "xlsx", "pdf")
_lock = threading.Lock()  # one render at a time: they are CPU-bound and write the same output folder


class DownloadError(Exception):
    """The file asked for could not be made; ``message`` says why in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Download:
    """A file ready to send."""

    path: Path
    filename: str
    media_type: str


MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def produce(source: Path, fmt: str, form: int | None, out_dir: Path) -> Download:
    """Render ``source`` and return its file of format ``fmt``: form number ``form`` (1-based position in
    the file), or the whole file (the combined document; a one-form file's only form) when None."""
    if fmt not in DOWNLOAD_FORMATS:
        raise DownloadError(f"不支持的格式「{fmt}」，可选：{'、'.join(DOWNLOAD_FORMATS)}")
    with _lock:
        targets, errors = _render(source, fmt, out_dir)
    if form is None:
        target = targets.get(0) or (targets.get(1) if len(targets) == 1 else None)
    else:
        target = targets.get(form)
    if target is None or not target.is_file():
        problems = "；".join(line for error in errors for line in str(error).splitlines())
        raise DownloadError(f"未能生成：{problems}" if problems else f"文件中没有第 {form} 张表")
    return Download(target, target.name, MEDIA_TYPES[fmt])


def _render(source: Path, fmt: str, out_dir: Path) -> tuple[dict[int, Path], list[JixiaoError]]:
    """Render one input file as `jixiao render` does; the paths of what was written, by form number
    (0 for the combined document), and the errors met."""
    outcome = run_render([source], [fmt], out_dir, None)
    written = set(outcome.written)
    try:
        form_file = load(source)
    except JixiaoError as error:
        return {}, outcome.errors or [error]
    paths = plan(out_dir, source.stem, [f.form.display_name for f in form_file.forms],
                 [f.index for f in form_file.forms], form_file.count)
    targets = {loaded.index: with_suffix(base, fmt) for loaded, base in zip(form_file.forms, paths.forms)}
    if paths.combined is not None:
        targets[0] = with_suffix(paths.combined, fmt)
    return {n: p for n, p in targets.items() if p in written}, outcome.errors
