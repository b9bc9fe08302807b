"""Output formats, one small module each (as tablib's formats): the registry maps a name to a writer.

Every writer takes a :class:`jixiao.render.Rendered` document and returns bytes. PDF and HTML print the
HTML itself; DOCX and XLSX draw the grid read back from it (:mod:`jixiao.grid`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import docx, html, pdf, xlsx

if TYPE_CHECKING:
    from ..render import Rendered

WRITERS: dict[str, Callable[["Rendered"], bytes]] = {
    "docx": lambda doc: docx.write(doc.grids),
    "xlsx": lambda doc: xlsx.write(doc.grids, doc.names),
    "pdf": lambda doc: pdf.write(doc.html),
    "html": lambda doc: html.write(doc.html),
}
FORMATS = tuple(WRITERS)
