"""The local worker processes of a batch: a fork server started as early as possible, and the pool.

Cold, a worker is ready only after WeasyPrint is imported and its fonts are loaded (about 0.6 s of
CPU). The fork server does that once (:mod:`jixiao.prefork`) and every worker forks from it. It is
started without waiting for it (:func:`launch`), by :func:`jixiao.batch.run_batch` before it loads
the input, so that its start-up overlaps the client's loading and planning on another core. Only when
the first job is submitted does the client wait for it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

from .cache import CACHE_DIR

# What the fork server imports before it forks workers (PDF adds WeasyPrint and its fonts).
ENGINE_MODULES = ["jixiao.render", "jixiao.publish", "jixiao.writers.docx", "jixiao.writers.xlsx"]
PDF_MODULES = ["jixiao.prefork"]
EAGER_INPUT_BYTES = 16 * 1024   # inputs this large start the fork server before they are loaded


def context(pdf: bool) -> multiprocessing.context.BaseContext:
    """Forkserver where there is one (workers fork from a process that already imported WeasyPrint).

    Forking the client itself is unsafe once threads run (the progress bar has one); spawn elsewhere.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["jixiao.batch", *ENGINE_MODULES, *(PDF_MODULES if pdf else [])])
        return ctx
    return multiprocessing.get_context("spawn")


def launch(pdf: bool) -> None:
    """Start the fork server now and return at once; it imports the engine while the caller goes on."""
    ctx = context(pdf)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def worth_starting(files: Sequence[Path], out_dir: Path, cache: bool) -> bool:
    """Whether a cold run surely has enough work for a pool: no cache yet and at least 16 KB of input
    files (about 8 forms). Only cheap file-system calls: it decides before anything is loaded."""
    if cache and (out_dir / CACHE_DIR).is_dir():
        return False
    size = 0
    for path in files:
        try:
            size += path.stat().st_size
        except OSError:
            continue  # the loader says what is wrong with it
    return size >= EAGER_INPUT_BYTES


def start(workers: int, pdf: bool, initializer: Callable[[], None]) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, launched now (each runs ``initializer`` while the caller goes on)."""
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context(pdf), initializer=initializer)
    for _ in range(workers):
        executor.submit(initializer)
    return executor
