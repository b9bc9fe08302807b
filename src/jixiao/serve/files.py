"""The served folder: the only files `jixiao serve` reads or writes, and how it writes them.

Every name that comes from the page is resolved here, once: a plain file name directly in the folder
(no separators, no ``..``, no absolute path, no hidden file), of an input suffix, whose real path — after
following symlinks — is still inside the folder. Saving checks the version the page loaded (mtime and
content hash), so a file changed on disk meanwhile is reported, never overwritten; creating a file never
replaces an existing one.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from ..loader import SUFFIXES
from ..output import safe_name, write_atomic
from ..schema import SCHEMA_FILE


class FolderError(Exception):
    """A request names a file it may not touch, or a save would lose someone's text (HTTP ``status``)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Version:
    """What the page last saw of a file: its mtime and a hash of its bytes."""

    mtime_ns: int
    digest: str

    def __str__(self) -> str:
        return f"{self.mtime_ns}-{self.digest}"

    @classmethod
    def parse(cls, text: str) -> "Version | None":
        """The version the page sends back, or None if it is not one."""
        mtime, _, digest = str(text).partition("-")
        return cls(int(mtime), digest) if mtime.isdigit() and digest else None


def version_of(path: Path, data: bytes | None = None) -> Version:
    """The version of a file on disk."""
    data = path.read_bytes() if data is None else data
    return Version(path.stat().st_mtime_ns, hashlib.sha256(data).hexdigest()[:16])


class Folder:
    """The served folder: resolves names, lists input files, reads and writes them safely."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._lock = threading.Lock()  # one save/create at a time: the version check and the write are one step

    def resolve(self, name: str, suffixes: tuple[str, ...] = SUFFIXES) -> Path:
        """The path of a file name from the page; refuses anything that could leave the folder."""
        if not isinstance(name, str) or not name or len(name) > 255 or "\x00" in name:
            raise FolderError("文件名无效", 400)
        if "/" in name or "\\" in name or name in (".", "..") or name.startswith(".") or ":" in name:
            raise FolderError(f"只能打开本文件夹中的文件：「{name}」含有路径或以点开头，已拒绝", 403)
        if Path(name).suffix.lower() not in suffixes:
            raise FolderError(f"「{name}」不是输入文件：文件名应以 {'、'.join(suffixes)} 结尾", 400)
        path = self.root / name
        if not path.resolve().is_relative_to(self.root):
            raise FolderError(f"「{name}」指向本文件夹之外（符号链接），已拒绝", 403)
        return path

    def input_files(self) -> list[Path]:
        """The input files directly in the folder, sorted by name (what `jixiao render DIR` reads)."""
        found = []
        for path in sorted(self.root.iterdir()):
            if path.name.startswith(".") or path.name.endswith(SCHEMA_FILE) or not path.is_file():
                continue
            if path.suffix.lower() in SUFFIXES and path.resolve().is_relative_to(self.root):
                found.append(path)
        return found

    def read(self, name: str) -> tuple[str, Version]:
        """The text of an input file and its version."""
        path = self._existing(name)
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FolderError(f"「{name}」不是 UTF-8 编码（可能是 GBK）：请在编辑器中以 UTF-8 另存后再打开",
                              422) from None
        return text, version_of(path, data)

    def save(self, name: str, text: str, expected: str) -> Version:
        """Write the page's text if the file is still the version it loaded; else 409, file untouched."""
        path = self._existing(name)
        wanted = Version.parse(expected)
        data = text.encode("utf-8")
        with self._lock:
            current = version_of(path)
            if wanted is None or (current != wanted and current.digest != wanted.digest):
                raise FolderError(f"「{name}」在你打开后已被其他程序或另一个窗口修改，未保存，以免覆盖那边的修改。"
                                  "请复制你的修改，重新打开文件后再合并", 409)
            write_atomic(path, data)
            return version_of(path, data)

    def create(self, stem: str, data: bytes, suffix: str = ".yaml") -> Path:
        """A new file named after ``stem`` (``stem-2`` … if taken); never replaces an existing file."""
        base = safe_name(Path(stem).stem if Path(stem).suffix.lower() in SUFFIXES else stem, "新建")
        with self._lock:
            for n in range(1, 1000):
                name = f"{base}{suffix}" if n == 1 else f"{base}-{n}{suffix}"
                path = self.resolve(name)
                if not path.exists() and not path.is_symlink():
                    write_atomic(path, data)
                    return path
        raise FolderError(f"已有太多名为「{base}」的文件，请换一个名字", 409)

    def _existing(self, name: str) -> Path:
        path = self.resolve(name)
        if not path.is_file():
            raise FolderError(f"文件「{name}」不存在（可能已被删除或改名），请刷新文件列表", 404)
        return path


def output_dir(root: Path) -> Path:
    """Where downloads are written: ``output/`` of the served folder, as `jixiao render DIR -o DIR/output`."""
    return root / "output"
