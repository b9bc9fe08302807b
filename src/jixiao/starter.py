"""``jixiao new``: commented starter files, one for each of the five layouts, and the JSON Schema."""

from __future__ import annotations

from pathlib import Path

from .errors import OutputError
from .output import write_atomic
from .schema import SCHEMA_FILE, schema_text

STARTERS = Path(__file__).parent / "starters"


def starter_files() -> list[Path]:
    """The packaged starter files, one per layout."""
    return sorted(STARTERS.glob("*.yaml"))


def write_starters(out_dir: Path, force: bool = False) -> list[Path]:
    """Write the starters and ``jixiao.schema.json`` into ``out_dir``; refuse to overwrite unless forced."""
    targets = [(out_dir / src.name, src.read_bytes()) for src in starter_files()]
    targets.append((out_dir / SCHEMA_FILE, schema_text().encode("utf-8")))
    existing = [str(path) for path, _ in targets if path.exists()]
    if existing and not force:
        raise OutputError.at(f"文件已存在：{'、'.join(existing)}。加 --force 覆盖，或用 -o 换一个目录")
    for path, data in targets:
        write_atomic(path, data)
    return [path for path, _ in targets]
