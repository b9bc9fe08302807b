"""Downloads: the DOCX, XLSX or PDF of one form or of a whole input file, made as `jixiao render` makes them.

The file is rendered by the CLI's own library call, :func:`jixiao.batch.run_batch`, into the served
folder's ``output/`` with its cache (so the officer finds the files there afterwards, and a form that has
not changed since the last download is not laid out again), and the page receives the one file asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..batch import FileResult, run_batch

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
        result = run_batch([source], [fmt], out_dir)
    done = result.files[0] if result.files else FileResult(source)
    if form is None:
        target = done.combined.get(fmt) or (done.forms[0].paths.get(fmt) if len(done.forms) == 1 else None)
        errors = result.errors
    else:
        chosen = next((f for f in done.forms if f.index == form), None)
        target = chosen.paths.get(fmt) if chosen else None
        errors = [chosen.error] if chosen and chosen.error else result.errors
    if target is None or not target.is_file():
        problems = "；".join(dict.fromkeys(line for error in errors for line in str(error).splitlines()))
        raise DownloadError(f"未能生成：{problems}" if problems else f"文件中没有第 {form} 张表")
    return Download(target, target.name, MEDIA_TYPES[fmt])
