"""A whole disclosure in one call: input files in, every form's files and each file's combined documents out.

The CLI's ``jixiao render`` and the web page (``jixiao serve``) both call :func:`run_batch`::

    inputs ──load/validate/review──▶ forms ──plan──▶ one job per form (its data + the templates' content)
    jobs ──in-process │ process pool │ any Executor (dask)──▶ render.render_form ──▶ bytes per format + grid
    results ──▶ per-form files (written as they arrive) + cache ──▶ combined documents, fed from the cache

A job is self-contained (the form's validated data as JSON, the template folder's files), so a worker on
another machine needs only jixiao installed. Workers return bytes; only this process writes, atomically.
Memory is bounded by the work in flight: each result is written and dropped, and the combined writer
reads the forms back one by one from the cache (a temporary one with ``cache=False``).

The cache (:mod:`jixiao.cache`) lets a re-run render only the forms whose data, templates or jixiao
version changed; unchanged files are not rewritten.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    wait,
)
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import import_module
from pathlib import Path
from typing import Callable, Iterator, Sequence

from . import errors, pool
from .cache import CACHE_DIR, Cache, canonical_json, digest, form_key, grid_from_bytes, grid_to_bytes
from .checks import ERROR, check_form
from .errors import InputError, JixiaoError, OutputError, Problem
from .fonts import ensure_cjk_font
from .layout import builtin_templates
from .loader import SUFFIXES, FormFile, LoadedForm, load
from .model import FORM_CLASSES
from .output import plan, with_suffix, write_atomic
from .pool import ENGINE_MODULES

GRID = "grid"          # the cache entry holding a form's grid (for the combined DOCX and XLSX)
_JOINS_FILES = ("pdf", "html")  # combined formats made of the forms' own files
MIN_FORMS_PER_WORKER = 3        # fewer forms to render than this per worker: render here (no pool start-up)
# Above this many forms a file's combined documents are written one at a time: the PDF holds about
# 0.1 MB a form, and side by side at 1,000 forms all processes together take ~465 MB (in turn ~8 s
# longer: the time would no longer grow linearly with the forms).
PARALLEL_COMBINE_FORMS = 1000
TRIM_AFTER_FORMS = 200   # a worker gives back the memory of a combined document longer than this
MAX_CHUNK = 8          # forms per job sent to a worker: few round trips, yet the progress bar moves
WORKER_LOST = ("生成这张表的工作进程意外退出（可能内存不足被系统终止，或集群中的机器断开），未生成这张表；"
               "请减少 --jobs 后重试")


# ── what travels to a worker ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TemplateSet:
    """The content of a ``--templates`` folder (empty: built-ins only) and a hash of all templates used."""

    origin: str | None                       # the user's folder, to name it in error messages
    files: tuple[tuple[str, bytes], ...]     # (relative path, content)
    digest: str                              # override files + built-in files

    @classmethod
    def read(cls, folder: Path | None) -> "TemplateSet":
        """Read an override folder (its whole content: a template may include any file of it)."""
        files = _folder_files(folder) if folder is not None else ()
        return cls(str(folder) if folder is not None else None, files,
                   digest("templates", _builtin_digest(), *[part for item in files for part in item]))

    def folder(self) -> Path | None:
        """A folder with this content on this machine: the user's own when it still matches, else a copy."""
        if self.origin is None:
            return None
        return _materialise(self)


def _folder_files(folder: Path) -> tuple[tuple[str, bytes], ...]:
    try:
        paths = sorted(p for p in folder.rglob("*") if p.is_file())
        return tuple((p.relative_to(folder).as_posix(), p.read_bytes()) for p in paths)
    except OSError as error:
        raise InputError.at(f"无法读取模板目录：{error.strerror or error}", folder) from None


@lru_cache(maxsize=1)
def _builtin_digest() -> str:
    folder = builtin_templates()
    return digest("builtin", *[part for item in _folder_files(folder) for part in item])


@lru_cache(maxsize=4)
def _materialise(templates: TemplateSet) -> Path:
    origin = Path(templates.origin or "")
    if origin.is_dir() and _folder_files(origin) == templates.files:
        return origin
    target = Path(tempfile.gettempdir()) / f"jixiao-templates-{templates.digest[:24]}"
    if not target.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".jixiao-templates-"))
        for name, content in templates.files:
            path = (staging / name).resolve()
            if not path.is_relative_to(staging.resolve()):
                continue  # never write outside the copy, whatever a job says
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        try:
            staging.rename(target)
        except OSError:  # another worker made it first
            shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class Job:
    """One form to render: its place in the batch, its data by alias, the formats still needed."""

    index: int
    data: dict
    formats: tuple[str, ...]


@dataclass(frozen=True)
class JobResult:
    """What a worker sends back for one job: the engine's output, or the error (as plain data)."""

    index: int
    output: object | None                    # render.FormOutput
    error: tuple[str, tuple[tuple, ...]] | None = None   # (error class name, problems as tuples)


def render_chunk(templates: TemplateSet, jobs: Sequence[Job]) -> list[JobResult]:
    """Worker side: render each job's form once in every format it needs (runs anywhere jixiao is installed)."""
    from .render import render_form

    _warm_worker()
    folder = templates.folder()
    results = []
    for job in jobs:
        try:
            form = FORM_CLASSES[job.data["表样"]].model_validate(job.data)
            results.append(JobResult(job.index, render_form(form, job.formats, folder)))
        except JixiaoError as error:
            results.append(JobResult(job.index, None, _error_record(error, folder, templates.origin)))
        gc.collect()  # memory stays flat from form to form (see _warm_worker)
    return results


def _error_record(error: JixiaoError, folder: Path | None, origin: str | None) -> tuple:
    def named(text: str | None) -> str | None:  # a copied template folder is named as the user's
        return text.replace(str(folder), origin) if text and folder and origin else text

    problems = tuple((named(p.message), named(p.file), p.line, p.field) for p in error.problems)
    return type(error).__name__, problems


def _error_from_record(record: tuple) -> JixiaoError:
    kind = getattr(errors, record[0], JixiaoError)
    kind = kind if isinstance(kind, type) and issubclass(kind, JixiaoError) else JixiaoError
    return kind(*[Problem(*problem) for problem in record[1]])


_warm = False


def _warm_worker() -> None:
    """Import the engine (WeasyPrint, openpyxl, python-docx) once per process, before the first job.

    Then freeze what exists: a laid-out PDF leaves reference cycles of ~40 MB that only the cycle
    collector frees, and collecting after each form is cheap (a few ms) once the modules are frozen.
    """
    global _warm
    if not _warm:
        for module in ENGINE_MODULES:
            import_module(module)
        gc.freeze()
        _warm = True


# ── what the client keeps ────────────────────────────────────────────────────────────────────────


@dataclass
class FormResult:
    """One form of an input file: its output paths per format, or the error that stopped it."""

    index: int                                # 1-based position in its file
    name: str
    paths: dict[str, Path] = field(default_factory=dict)
    error: JixiaoError | None = None
    cached: bool = False                      # every format came from the cache


@dataclass
class FileResult:
    """One input file: its forms and, for a file of several forms, its combined documents."""

    source: Path
    forms: list[FormResult] = field(default_factory=list)
    combined: dict[str, Path] = field(default_factory=dict)
    error: JixiaoError | None = None  # its outputs cannot be placed (e.g. a folder linked out of the output)


@dataclass
class BatchResult:
    """What a batch did: every output file (written or already up to date), errors in input order, notes."""

    written: list[Path] = field(default_factory=list)
    errors: list[JixiaoError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)
    rendered: int = 0                        # forms laid out in this run (the others came from the cache)


@dataclass
class _Task:
    """A form the client tracks: where it goes and its cache key; never its layout."""

    file: FileResult
    result: FormResult
    loaded: LoadedForm
    base: Path
    key: str = ""


def run_batch(paths: Sequence[Path], formats: Sequence[str], out_dir: Path, *,
              templates: Path | None = None, force: bool = False, jobs: int | None = None,
              executor: Executor | None = None, cache: bool = True,
              progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """Render every form of every input file (files or folders) into ``out_dir``.

    Good forms render even when others fail; a form with error-level review findings is refused unless
    ``force``. ``jobs`` processes render in parallel (None: one per core; 1: in this process), or
    ``executor`` (any :class:`concurrent.futures.Executor`, e.g. a dask ``Client.get_executor()``)
    runs the jobs. ``cache`` keeps ``out_dir/.jixiao-cache`` so a re-run renders only what changed.
    ``progress(done, total)`` is called as forms and combined documents complete.
    """
    formats = list(dict.fromkeys(formats))
    result = BatchResult()
    if "pdf" in formats:
        ensure_cjk_font()  # stop before writing anything rather than print boxes
    template_set = TemplateSet.read(templates)
    found = input_files(paths, result.errors)
    # A cold run of many forms surely has work: start the fork server now (without waiting for it), so
    # that its imports overlap the loading (about 2 KB of input a form).
    start = pool.worth_starting(found, out_dir, cache)
    with _store(out_dir, cache) as store, _Runner(jobs, executor, start=start, pdf="pdf" in formats) as runner:
        form_files = _load_files(found, result)
        early, result.errors = result.errors, []
        tasks, combined_bases = _plan(form_files, out_dir, result, template_set, force)
        run = _Run(formats, template_set, store, result, runner, progress)
        run.total = len(tasks) + sum(len(formats) for base in combined_bases if base is not None)
        files = [_FileState(ff, fr, base, [t for t in tasks if t.file is fr])
                 for ff, fr, base in zip(form_files, result.files, combined_bases, strict=True)]
        run.execute(tasks, files)
    result.errors = early + _form_errors(result, form_files) + result.errors
    return result


# ── planning ─────────────────────────────────────────────────────────────────────────────────────


def input_files(paths: Sequence[Path], errors: list[JixiaoError] | None = None,
                suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """The input files named by ``paths``: files as given, folders by their input files (sorted).

    A path that names nothing usable is an error appended to ``errors``.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file()
                            and p.suffix.lower() in suffixes and not p.name.endswith(".schema.json"))
            if not inside and errors is not None:
                errors.append(JixiaoError.at(f"这是文件夹，其中没有可读取的文件（{'、'.join(suffixes)}）", path))
            found.extend(inside)
        elif path.exists() or path.suffix.lower() in suffixes:
            found.append(path)  # a missing file is reported by load() in Chinese
        elif errors is not None:
            errors.append(JixiaoError.at("文件不存在，请检查路径", path))
    return found


def _load_files(found: list[Path], result: BatchResult) -> list[FormFile]:
    form_files = []
    for path in found:
        try:
            form_files.append(load(path))
        except JixiaoError as error:
            result.errors.append(error)
    return form_files


def _plan(form_files: list[FormFile], out_dir: Path, result: BatchResult, templates: TemplateSet,
          force: bool) -> tuple[list[_Task], list[Path | None]]:
    """A task per form that may be rendered, and each file's combined base path (None for one form)."""
    stems: set[str] = set()
    tasks, combined = [], []
    for form_file in form_files:
        file_result = FileResult(form_file.path)
        result.files.append(file_result)
        stem = _unique_stem(form_file.path.stem, stems)
        loaded_forms = form_file.forms
        try:
            paths = plan(out_dir, stem, [lf.form.display_name for lf in loaded_forms],
                         [lf.index for lf in loaded_forms], form_file.count)
        except JixiaoError as error:  # a refused output path: this file is not rendered, the others are
            file_result.error = error
            combined.append(None)
            continue
        combined.append(paths.combined)
        for loaded, base in zip(loaded_forms, paths.forms, strict=True):
            form_result = FormResult(loaded.index, loaded.form.display_name)
            file_result.forms.append(form_result)
            try:
                if not force:
                    _refuse_errors(loaded, form_file)
                else:  # generated all the same: say what is wrong with it
                    result.notes += _forced_findings(loaded, form_file)
            except JixiaoError as error:
                form_result.error = error
                continue
            data = loaded.form.model_dump(by_alias=True, mode="json")
            tasks.append(_Task(file_result, form_result, loaded, base,
                               form_key(data, templates.digest, jixiao_version())))
    return tasks, combined


def jixiao_version() -> str:
    """The running jixiao's version (looked up when called: part of every cache key)."""
    from . import __version__

    return __version__


def _refuse_errors(loaded: LoadedForm, form_file: FormFile) -> None:
    findings = check_form(loaded, form_file, severities=(ERROR,))
    if findings:
        raise InputError(*[Problem(f"[{f.rule}] {f.message}（检查发现错误，未生成这张表；确需生成请加 --force）",
                                   f.file, f.line, f.field) for f in findings])


def _forced_findings(loaded: LoadedForm, form_file: FormFile) -> list[str]:
    return [f"{f.file}：第 {f.line} 行：{f.field}：[{f.rule}] {f.message}（检查发现错误，已按 --force 生成）"
            if f.line else f"{f.file}：{f.field}：[{f.rule}] {f.message}（检查发现错误，已按 --force 生成）"
            for f in check_form(loaded, form_file, severities=(ERROR,))]


def _unique_stem(stem: str, used: set[str]) -> str:
    name, n = stem, 1
    while name in used:
        n += 1
        name = f"{stem}-{n}"
    used.add(name)
    return name


@contextmanager
def _store(out_dir: Path, cache: bool) -> Iterator[Cache]:
    """The cache under the output folder, or a temporary one (removed after the run) for ``cache=False``."""
    if cache:
        yield Cache(out_dir / CACHE_DIR)
        return
    with tempfile.TemporaryDirectory(prefix="jixiao-batch-") as folder:
        yield Cache(Path(folder))


# ── running ──────────────────────────────────────────────────────────────────────────────────────


class _Runner:
    """Where jobs run: the caller's executor, a pool of local worker processes, or this process (None)."""

    def __init__(self, jobs: int | None, executor: Executor | None, start: bool, pdf: bool):
        self.executor, self.local, self.used, self.pdf = executor, False, False, pdf
        self.external, self.auto = executor is not None, jobs is None
        self.workers = jobs or os.cpu_count() or 1
        if executor is not None:
            self.workers = getattr(executor, "_max_workers", None) or 4
        elif self.workers > 1 and start:
            pool.launch(pdf)

    def __enter__(self) -> "_Runner":
        return self

    def __exit__(self, *exc) -> None:
        if self.local and self.executor is not None:
            self.executor.shutdown(wait=self.used, cancel_futures=True)

    def fit(self, forms: int) -> int:
        """Size the local pool to the work and return its workers: with ``jobs`` left to the batch, one
        worker per MIN_FORMS_PER_WORKER forms at most (a few forms render here: no pool start-up)."""
        if self.auto and not self.external and self.executor is None:
            self.workers = max(1, min(self.workers, forms // MIN_FORMS_PER_WORKER))
        return self.workers

    def use(self, jobs_waiting: int) -> Executor | None:
        """The executor for this work, or None (this process) when there is one worker or one job."""
        if self.executor is None and self.workers > 1 and jobs_waiting > 1:
            self._start_pool()
        self.used = jobs_waiting > 0
        return self.executor

    def _start_pool(self) -> None:
        self.executor = pool.start(self.workers, self.pdf, _warm_worker)
        self.local = True


@dataclass
class _FileState:
    """One input file while the batch runs: its forms still out, and where its combined documents go."""

    form_file: FormFile
    result: FileResult
    combined: Path | None
    tasks: list[_Task]
    waiting: int = 0


class _Run:
    """One batch run: submits jobs, takes results as they arrive, writes files, then combined documents."""

    def __init__(self, formats: list[str], templates: TemplateSet, store: Cache, result: BatchResult,
                 runner: _Runner, progress: Callable[[int, int], None] | None):
        self.formats, self.templates, self.store, self.result = formats, templates, store, result
        self.runner, self.progress = runner, progress
        self.total = self.done = 0
        self.futures: dict[Future, Callable[[object], None]] = {}

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)

    def execute(self, tasks: list[_Task], files: list[_FileState]) -> None:
        pending = self._take_cached(tasks)
        for file in files:
            file.waiting = sum(1 for task, _job in pending if task.file is file.result)
        by_index = {job.index: (task, next(f for f in files if f.result is task.file)) for task, job in pending}
        chunks = _chunks([job for _task, job in pending], self.runner.fit(len(pending)))
        combined_jobs = sum(len(self.formats) for f in files if f.combined is not None)
        executor = self.runner.use(len(chunks) + (0 if self.runner.external else combined_jobs))
        for file in files:
            if file.waiting == 0:
                self._combine(file, executor)
        for chunk in chunks:
            self._submit(executor, render_chunk, (self.templates, chunk),
                         lambda outcome, chunk=chunk: self._take_chunk(chunk, outcome, by_index, executor))
        while self.futures:
            finished, _ = wait(self.futures, return_when=FIRST_COMPLETED)
            for future in finished:
                self.futures.pop(future)(_outcome(future))

    def _submit(self, executor: Executor | None, fn: Callable, args: tuple, then: Callable[[object], None],
                local_only: bool = False) -> None:
        """Run ``fn(*args)`` on the executor (or here), then ``then(its result or the failure)``."""
        if executor is None or (local_only and not self.runner.local):
            then(fn(*args))
            return
        try:
            self.futures[executor.submit(fn, *args)] = then
        except BrokenExecutor as error:
            then(error)

    def _take_cached(self, tasks: list[_Task]) -> list[tuple[_Task, Job]]:
        """Write the forms the cache already holds; return a job for every other form."""
        pending = []
        for i, task in enumerate(tasks):
            entries = {fmt: self.store.get(task.key, fmt) for fmt in self.formats}
            missing = tuple(fmt for fmt, entry in entries.items() if entry is None)
            for fmt, entry in entries.items():
                if entry is not None:
                    _write_form_file(task, fmt, entry[0], self.result)
            if missing or not self.store.has(task.key, GRID):
                pending.append((task, Job(i, task.loaded.form.model_dump(by_alias=True, mode="json"), missing)))
                continue
            task.result.cached = True
            self.advance()
        return pending

    def _take_chunk(self, chunk: list[Job], outcome: object, by_index: dict, executor: Executor | None) -> None:
        for job in chunk:
            task, file = by_index[job.index]
            if isinstance(outcome, BaseException):
                task.result.error = _lost(task, outcome)
            else:
                item = next(item for item in outcome if item.index == job.index)
                _take_result(task, item, self.store, self.result)
            self.advance()
            file.waiting -= 1
            if file.waiting == 0:
                self._combine(file, executor)

    def _combine(self, file: _FileState, executor: Executor | None) -> None:
        """Each format's combined document of a file whose forms are all done (when something changed)."""
        from .publish import cover_for

        if file.combined is None:
            return
        ok = [t for t in file.tasks if t.result.error is None]
        if len(ok) != file.form_file.count:
            self.result.notes.append(f"{file.form_file.path} 有表格出错，未生成合并文件 {file.combined.name}.*")
            self.advance(len(self.formats))
            return
        cover = cover_for(file.form_file)
        parts = [(t.result.name, t.key) for t in ok]
        todo = []
        for fmt in self.formats:
            path = with_suffix(file.combined, fmt)
            key = digest("combined", jixiao_version(), self.templates.digest, fmt,
                         canonical_json(asdict(cover)), *[t.key for t in ok])
            if _combined_is_current(self.store, key, path):
                self._combined_written(file, fmt, path, key, None)
            else:
                todo.append((fmt, path, key))
        if len(ok) > PARALLEL_COMBINE_FORMS:
            # one after another: each holds all its forms' pages or sheets (about 0.1 MB a form), and
            # side by side they would add up
            self._combine_next(file, executor, cover, parts, todo)
        else:
            for item in todo:
                self._combine_next(file, executor, cover, parts, [item])

    def _combine_next(self, file: _FileState, executor: Executor | None, cover, parts: list[tuple[str, str]],
                      todo: list[tuple[str, Path, str]]) -> None:
        """Write the first combined document of ``todo``, then (when it is done) the rest, in turn."""
        if not todo:
            return
        (fmt, path, key), rest = todo[0], todo[1:]

        def then(outcome: object) -> None:
            self._combined_written(file, fmt, path, key, outcome)
            self._combine_next(file, executor, cover, parts, rest)

        # combined documents are assembled on this machine: in a local worker, never a remote one
        self._submit(executor, write_combined_file,
                     (str(self.store.folder), parts, fmt, cover, str(path), self.templates), then, local_only=True)

    def _combined_written(self, file: _FileState, fmt: str, path: Path, key: str, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            outcome = ("error", _error_record(JixiaoError.at(f"{WORKER_LOST}（{type(outcome).__name__}）",
                                                             path), None, None))
        if outcome is not None and outcome[0] == "error":
            self.result.errors.append(_error_from_record(outcome[1]))
        else:
            if outcome is not None:
                self.store.put(key, "combined", outcome[1].encode("ascii"))
            file.result.combined[fmt] = path
            self.result.written.append(path)
        self.advance()


def _outcome(future: Future) -> object:
    """A job's result, or the failure that lost it (a dead worker, a lost machine); bugs propagate."""
    try:
        return future.result()
    except JixiaoError:
        raise
    except (BrokenExecutor, CancelledError, OSError) as error:
        return error
    except Exception as error:
        if not _is_lost_worker(error):
            raise  # a bug in jixiao: the CLI reports it as an internal error
        return error


def _chunks(jobs_list: list[Job], workers: int) -> list[list[Job]]:
    size = max(1, min(MAX_CHUNK, len(jobs_list) // (4 * workers)))
    return [jobs_list[i:i + size] for i in range(0, len(jobs_list), size)]


def _is_lost_worker(error: BaseException) -> bool:
    """dask's KilledWorker and friends: the job was fine, the machine running it went away."""
    module = type(error).__module__ or ""
    return module.split(".")[0] in ("distributed", "tornado") or type(error).__name__ in (
        "KilledWorker", "CommClosedError", "FutureCancelledError")


def _lost(task: _Task, error: BaseException) -> JixiaoError:
    return JixiaoError.at(f"{WORKER_LOST}（{type(error).__name__}）", task.file.source, task.loaded.line,
                          task.loaded.describe(()) or None)


def _take_result(task: _Task, item: JobResult, store: Cache, result: BatchResult) -> None:
    if item.error is not None:
        task.result.error = _error_from_record(item.error)
        return
    output = item.output
    store.put(task.key, GRID, grid_to_bytes(output.grid))
    for fmt, data in output.files.items():
        store.put(task.key, fmt, data, pages=output.pages if fmt == "pdf" else 0)
    result.rendered += 1
    for fmt, data in output.files.items():
        _write_form_file(task, fmt, data, result)


def _write_form_file(task: _Task, fmt: str, data: bytes, result: BatchResult) -> None:
    path = with_suffix(task.base, fmt)
    try:
        write_if_changed(path, data)
    except JixiaoError as error:  # an unwritable file is this form's error; the batch goes on
        task.result.error = error
        return
    task.result.paths[fmt] = path
    result.written.append(path)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless the file already holds exactly these bytes; True if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


# ── combined documents ───────────────────────────────────────────────────────────────────────────


def write_combined_file(store_folder: str, parts: list[tuple[str, str]], fmt: str, cover, path: str,
                        templates: TemplateSet) -> tuple[str, object]:
    """Write one combined document from the forms in the cache; ("ok", its SHA-256) or ("error", record).

    Runs in this process or a local worker: the forms are read back one at a time (bounded memory).
    """
    from .publish import write_combined

    _warm_worker()
    folder = templates.folder()
    try:
        write_combined(_parts(Cache(Path(store_folder)), parts, fmt), fmt, cover, Path(path), folder)
    except JixiaoError as error:
        return "error", _error_record(error, folder, templates.origin)
    finally:
        if len(parts) > TRIM_AFTER_FORMS and multiprocessing.parent_process() is not None:
            _give_back_memory()
    return "ok", _file_digest(Path(path))


def _give_back_memory() -> None:
    """Return the memory a long combined document used to the system, in a worker process.

    A 1,000-form document takes 100-200 MB; freed, it stays with the worker (glibc keeps its heap), and
    the next combined document in another worker would add its own on top. glibc's ``malloc_trim`` gives
    it back (dask documents the same call for its workers); elsewhere this does nothing.
    """
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _parts(store: Cache, parts: list[tuple[str, str]], fmt: str):
    """Each form's output for a combined ``fmt`` document, read back one at a time: its grid, its PDF's
    page count (from the PDF entry's metadata) and, for PDF and HTML, which join the forms' own files,
    its file (DOCX and XLSX are drawn from the grids)."""
    from .render import FormOutput

    for name, key in parts:
        grid_entry = store.get(key, GRID)
        entry = store.get(key, fmt) if fmt in _JOINS_FILES else None
        if grid_entry is None or (fmt in _JOINS_FILES and entry is None):
            raise OutputError.at("缓存中的表格在合并前丢失或损坏，请加 --no-cache 重新生成", store.folder)
        pdf_meta = entry[1] if fmt == "pdf" else store.meta(key, "pdf")  # the printed page count
        pages = int(pdf_meta.get("pages", 0)) if pdf_meta else 0
        yield FormOutput(name, {fmt: entry[0]} if entry else {}, grid_from_bytes(grid_entry[0]), pages)


def _combined_is_current(store: Cache, key: str, path: Path) -> bool:
    entry = store.get(key, "combined")
    if entry is None or not path.is_file():
        return False
    return entry[0].decode("ascii", "replace") == _file_digest(path)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _form_errors(result: BatchResult, form_files: list[FormFile]) -> list[JixiaoError]:
    """Per file, in input order: invalid forms, then refused or failed forms by their position."""
    ordered: list[JixiaoError] = []
    for form_file, file_result in zip(form_files, result.files, strict=True):
        ordered.extend(form_file.errors)
        ordered.extend([file_result.error] if file_result.error else [])
        ordered.extend(f.error for f in sorted(file_result.forms, key=lambda f: f.index) if f.error)
    return ordered
