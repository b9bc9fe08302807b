"""Output formats, one small module each (as tablib's formats): the registry maps a name to a writer.

Every writer takes a :class:`jixiao.render.Rendered` document and returns bytes. PDF and HTML print the
HTML itself; DOCX and XLSX draw the grid read back from it (:mod:`jixiao.grid`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..render import Rendered


def _module(name: str):
    # imported on first use: the CLI starts without WeasyPrint, openpyxl and python-docx
    return import_module(f"{__name__}.{name}")


WRITERS: dict[str, Callable[["Rendered"], bytes]] = {
    "docx": lambda doc: _module("docx").write(doc.grids),
    "xlsx": lambda doc: _module("xlsx").write(doc.grids, doc.names),
    "pdf": lambda doc: _module("pdf").write(doc.html),
    "html": lambda doc: _module("html").write(doc.html),
}
FORMATS = tuple(WRITERS)
