"""Is a Chinese font installed? Asked before a PDF is made, without importing WeasyPrint.

The batch asks once, in the process that writes the files, before anything is written: with no CJK font
WeasyPrint would print boxes silently. fontconfig (which WeasyPrint uses) is asked through ``fc-list``.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

from .errors import FontError

FONT_HELP = ("未找到中文（CJK）字体，PDF 会把汉字印成方框，已停止生成 PDF。"
             "请安装中文字体后重试：Debian/Ubuntu 执行 "
             "sudo apt-get install fonts-arphic-uming fonts-wqy-zenhei fonts-noto-cjk fontconfig；"
             "Windows/macOS 安装宋体或思源宋体（Source Han Serif / Noto Serif CJK）。")


def ensure_cjk_font() -> None:
    """Raise :class:`FontError` unless fontconfig (which WeasyPrint uses) knows a Chinese font."""
    if not _cjk_font_families():
        raise FontError.at(FONT_HELP)


@lru_cache(maxsize=1)
def _cjk_font_families() -> tuple[str, ...]:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return tuple(line for line in found.stdout.splitlines() if line.strip())
