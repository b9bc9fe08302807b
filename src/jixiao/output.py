"""Where output goes: safe file names inside the output folder, and files written whole or not at all.

A file of several forms gives one file per form and format in a folder named after the input, plus one
combined document per format beside it::

    output/dongkeng-2024/01-机关企事业单位党组织党建工作经费.docx  (.xlsx, .pdf …)
    output/dongkeng-2024.docx                                    (all forms, a page or sheet each)

The number keeps the published order and tells apart two forms with the same name. Names are made safe
for Windows and Linux with pathvalidate, and a path that would leave the output folder is refused.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pathvalidate import sanitize_filename

from .errors import OutputError, os_message

MAX_NAME = 60


def _file_mode() -> int:
    """Mode of a new file under the current umask (mkstemp alone would make it private, 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def safe_name(text: str, fallback: str = "表") -> str:
    """A file name from user text: no separators, reserved names or characters Windows refuses."""
    name = sanitize_filename(" ".join(text.split()), platform="universal", max_len=MAX_NAME)
    name = name.strip(" .")
    return name or fallback


@dataclass(frozen=True)
class Plan:
    """The output paths of one input file, without suffixes."""

    forms: list[Path]        # one base path per form, in file order
    combined: Path | None    # the combined document, for a file of several forms


def plan(out_dir: Path, stem: str, names: list[str], positions: list[int] | None = None,
         count: int | None = None) -> Plan:
    """Output base paths for forms of one input file named ``stem``.

    ``positions`` are the forms' 1-based places in the file (default 1, 2, …) and ``count`` the number
    of forms in the file, so a form keeps its number when another form of the file is invalid.
    """
    positions = positions or list(range(1, len(names) + 1))
    count = count or len(names)
    folder = _inside(out_dir, out_dir / safe_name(stem, "forms"))
    width = max(2, len(str(count)))
    forms = [_inside(out_dir, folder / f"{i:0{width}d}-{safe_name(n)}") for i, n in zip(positions, names, strict=True)]
    combined = _inside(out_dir, out_dir / safe_name(stem, "forms")) if count > 1 else None
    return Plan(forms, combined)


def _inside(out_dir: Path, path: Path) -> Path:
    if not path.resolve().is_relative_to(out_dir.resolve()):
        raise OutputError.at(f"输出路径「{path}」不在输出目录内，已拒绝写入", out_dir)
    return path


def with_suffix(base: Path, fmt: str) -> Path:
    """``base`` with the format's suffix appended (a name may itself contain dots)."""
    return base.with_name(f"{base.name}.{fmt}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    with atomic_file(path) as temporary:
        temporary.write_bytes(data)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for a writer that wants a path; renamed into place when the block
    ends, removed if it fails. Any :class:`OSError` is an :class:`OutputError` naming ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        temporary = Path(name)
        try:
            yield temporary
            os.chmod(temporary, _file_mode())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise OutputError.at(f"无法写入文件：{os_message(error)}", path) from None
