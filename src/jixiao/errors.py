"""The one exception hierarchy of jixiao.

Every error a user can cause is a :class:`JixiaoError` whose message is Chinese, names the file, the
line (where there is one) and the field path, and says what to do. The CLI prints ``str(error)`` and
exits with status 2; it never shows a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what to do about it."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line:
            where.append(f"第 {self.line} 行")
        if self.field:
            where.append(f"字段「{self.field}」")
        prefix = "，".join(where)
        return f"{prefix}：{self.message}" if prefix else self.message


class JixiaoError(Exception):
    """Base class: an error caused by the user's input, templates or machine, not by a bug."""

    def __init__(self, *problems: Problem):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def at(cls, message: str, file: str | Path | None = None, line: int | None = None,
           field: str | None = None) -> "JixiaoError":
        """Build an error with a single problem."""
        return cls(Problem(message, str(file) if file is not None else None, line, field))


class InputError(JixiaoError):
    """The input file cannot be read or does not describe valid forms."""


class TemplateError(JixiaoError):
    """A layout template is missing or broken; the message names the template file and line."""


class FontError(JixiaoError):
    """No CJK font is installed, so a PDF would print boxes instead of Chinese."""


class OutputError(JixiaoError):
    """An output file cannot be written."""


_OS_ERRORS = {
    errno.EACCES: "没有权限", errno.EPERM: "没有权限", errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读",
    errno.ENOENT: "路径不存在", errno.ENOTDIR: "路径中有一段是文件而不是文件夹",
    errno.EEXIST: "路径中有一段是已存在的文件", errno.EISDIR: "这是文件夹", errno.ENAMETOOLONG: "文件名太长",
    errno.EINVAL: "文件名无效",
}


def os_message(error: OSError) -> str:
    """What an operating-system error means, in Chinese (``strerror`` is English)."""
    meaning = _OS_ERRORS.get(error.errno or 0)
    return meaning or f"操作系统错误（错误号 {error.errno}）"
