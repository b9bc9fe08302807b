"""Imported by the batch's fork server (:mod:`jixiao.pool`, for a batch with PDF), never by a user.

The fork server imports the engine and prints one tiny PDF before it forks any worker, so every worker
starts with WeasyPrint imported and its fonts loaded (about 0.35 s a worker otherwise, before its first
form). Warming up is best effort: a machine without a CJK font learns it from the batch's own check.
"""

from __future__ import annotations

import contextlib

from . import publish, render  # noqa: F401  (imported here so that forked workers inherit them)
from .writers import docx, pdf, xlsx  # noqa: F401

with contextlib.suppress(Exception):
    pdf.warm_up()
