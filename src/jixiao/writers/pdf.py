"""PDF writer: the rendered HTML in, the bytes of a PDF out, printed by WeasyPrint.

CJK fonts are embedded (WeasyPrint subsets the fonts it uses); with no CJK font on the machine the
writer stops with :class:`~jixiao.errors.FontError` instead of printing boxes. Each form's ``<h1>``
becomes a PDF bookmark. WeasyPrint fetches nothing the HTML names, except ``data:`` URLs of a user's
own template: the data cannot point the renderer at a local file or a URL.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

import weasyprint
from weasyprint.urls import URLFetcher

from ..errors import FontError

FONT_HELP = ("未找到中文（CJK）字体，PDF 会把汉字印成方框，已停止生成 PDF。"
             "请安装中文字体后重试：Debian/Ubuntu 执行 sudo apt-get install fonts-noto-cjk fontconfig；"
             "Windows/macOS 安装宋体或思源宋体（Source Han Serif / Noto Serif CJK）。")


class _NoFetch(URLFetcher):
    """Refuse every URL but ``data:``: user text must never make the renderer read a file or URL."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        raise ValueError(f"jixiao does not fetch resources: {url}")


def write(html: str) -> bytes:
    """The PDF of a rendered HTML document."""
    ensure_cjk_font()
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_NoFetch())
    return document.write_pdf()


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
