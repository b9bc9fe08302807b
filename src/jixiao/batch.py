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

import datetime
import hashlib
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Sequence

from . import errors
from .cache import CACHE_DIR, Cache, canonical_json, digest, form_key, grid_from_bytes, grid_to_bytes
from .checks import ERROR, check_form
from .errors import InputError, JixiaoError, OutputError, Problem
from .layout import builtin_templates
from .loader import SUFFIXES, FormFile, LoadedForm, load
from .model import FORM_CLASSES
from .output import plan, with_suffix, write_atomic

GRID = "grid"          # the cache entry holding a form's grid (for the combined DOCX and XLSX)
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

    folder = templates.folder()
    results = []
    for job in jobs:
        try:
            form = FORM_CLASSES[job.data["表样"]].model_validate(job.data)
            results.append(JobResult(job.index, render_form(form, job.formats, folder)))
        except JixiaoError as error:
            results.append(JobResult(job.index, None, _error_record(error, folder, templates.origin)))
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


def _warm_worker() -> None:
    """Import the engine (and WeasyPrint) once per worker process, before the first job."""
    from . import render  # noqa: F401


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
        from .writers.pdf import ensure_cjk_font
        ensure_cjk_font()  # stop before writing anything rather than print boxes
    template_set = TemplateSet.read(templates)
    form_files = _load_files(paths, result)
    early, result.errors = result.errors, []
    tasks, combined_bases = _plan(form_files, out_dir, result, template_set, force)
    combined_total = sum(len(formats) for ff in form_files if ff.count > 1)
    total, done = len(tasks) + combined_total, 0

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    with _store(out_dir, cache) as store:
        pending = _take_cached(tasks, formats, store, result, advance)
        _render(pending, formats, template_set, store, result, advance, jobs, executor)
        for form_file, file_result, base in zip(form_files, result.files, combined_bases, strict=True):
            if base is not None:
                file_tasks = [t for t in tasks if t.file is file_result]
                _write_combined_docs(form_file, file_result, file_tasks, base, formats, template_set, store,
                                     result, advance)
    result.errors = early + _form_errors(result, form_files) + result.errors
    return result


# ── planning ─────────────────────────────────────────────────────────────────────────────────────


def input_files(paths: Sequence[Path], result: BatchResult | None = None,
                suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """The input files named by ``paths``: files as given, folders by their input files (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file()
                                and p.suffix.lower() in suffixes and not p.name.endswith(".schema.json")))
        elif path.exists() or path.suffix.lower() in suffixes:
            found.append(path)  # a missing file is reported by load() in Chinese
        elif result is not None:
            result.errors.append(JixiaoError.at("文件不存在，请检查路径", path))
    return found


def _load_files(paths: Sequence[Path], result: BatchResult) -> list[FormFile]:
    form_files = []
    for path in input_files(paths, result):
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
        paths = plan(out_dir, stem, [lf.form.display_name for lf in loaded_forms],
                     [lf.index for lf in loaded_forms], form_file.count)
        combined.append(paths.combined)
        for loaded, base in zip(loaded_forms, paths.forms, strict=True):
            form_result = FormResult(loaded.index, loaded.form.display_name)
            file_result.forms.append(form_result)
            try:
                if not force:
                    _refuse_errors(loaded, form_file)
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


# ── rendering ────────────────────────────────────────────────────────────────────────────────────


def _take_cached(tasks: list[_Task], formats: list[str], store: Cache, result: BatchResult,
                 advance: Callable[[int], None]) -> list[tuple[_Task, Job]]:
    """Write the forms the cache already holds; return a job for every other form."""
    pending = []
    for i, task in enumerate(tasks):
        entries = {fmt: store.get(task.key, fmt) for fmt in formats}
        missing = tuple(fmt for fmt, entry in entries.items() if entry is None)
        for fmt, entry in entries.items():
            if entry is not None:
                _write_form_file(task, fmt, entry[0], result)
        if missing or not store.has(task.key, GRID):
            pending.append((task, Job(i, task.loaded.form.model_dump(by_alias=True, mode="json"), missing)))
            continue
        task.result.cached = True
        advance(1)
    return pending


def _render(pending: list[tuple[_Task, Job]], formats: list[str], templates: TemplateSet, store: Cache,
            result: BatchResult, advance: Callable[[int], None], jobs: int | None,
            executor: Executor | None) -> None:
    """Run the jobs (in chunks) and write each result as it arrives."""
    by_index = {job.index: task for task, job in pending}
    chunks = _chunks([job for _task, job in pending], jobs, executor)
    with _executor(jobs, executor, len(chunks)) as runner:
        for chunk, outcome in _run(runner, templates, chunks):
            if isinstance(outcome, BaseException):
                for job in chunk:
                    task = by_index[job.index]
                    task.result.error = _lost(task, outcome)
                    advance(1)
                continue
            for item in outcome:
                _take_result(by_index[item.index], item, store, result)
                advance(1)


def _chunks(jobs_list: list[Job], jobs: int | None, executor: Executor | None) -> list[list[Job]]:
    workers = getattr(executor, "_max_workers", None) or jobs or os.cpu_count() or 1
    size = max(1, min(MAX_CHUNK, len(jobs_list) // (4 * workers)))
    return [jobs_list[i:i + size] for i in range(0, len(jobs_list), size)]


@contextmanager
def _executor(jobs: int | None, executor: Executor | None, chunks: int) -> Iterator[Executor | None]:
    """The given executor; None (in this process) for ``jobs=1`` or a single chunk; else a process pool."""
    if executor is not None:
        yield executor
        return
    workers = min(jobs or os.cpu_count() or 1, chunks)
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_process_context(), initializer=_warm_worker)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _process_context() -> multiprocessing.context.BaseContext:
    """Forkserver where there is one (workers fork from a process that already imported WeasyPrint).

    Forking this process itself is unsafe once threads run (the progress bar has one); spawn elsewhere.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["jixiao.render", "jixiao.batch"])
        return context
    return multiprocessing.get_context("spawn")


def _run(runner: Executor | None, templates: TemplateSet,
         chunks: list[list[Job]]) -> Iterator[tuple[list[Job], list[JobResult] | BaseException]]:
    """Each chunk with its results (or the failure that lost it), in completion order."""
    if runner is None:
        for chunk in chunks:
            yield chunk, render_chunk(templates, chunk)
        return
    futures: dict[Future, list[Job]] = {}
    try:
        for chunk in chunks:
            futures[runner.submit(render_chunk, templates, chunk)] = chunk
    except BrokenExecutor as error:
        for chunk in chunks[len(futures):]:
            yield chunk, error
    for future in as_completed(futures):
        try:
            yield futures[future], future.result()
        except JixiaoError:
            raise
        except (BrokenExecutor, CancelledError, OSError) as error:
            yield futures[future], error
        except Exception as error:
            if not _is_lost_worker(error):
                raise  # a bug in jixiao: the CLI reports it as an internal error
            yield futures[future], error


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
    write_if_changed(path, data)
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


def _write_combined_docs(form_file: FormFile, file_result: FileResult, tasks: list[_Task], base: Path,
                         formats: list[str], templates: TemplateSet, store: Cache, result: BatchResult,
                         advance: Callable[[int], None]) -> None:
    """Each format's combined document of one file, when all its forms rendered and something changed."""
    from .publish import write_combined

    ok = [t for t in tasks if t.result.error is None]
    if len(ok) != form_file.count:
        result.notes.append(f"{form_file.path} 有表格出错，未生成合并文件 {base.name}.*")
        advance(len(formats))
        return
    cover = cover_of(form_file)
    for fmt in formats:
        path = with_suffix(base, fmt)
        key = digest("combined", jixiao_version(), templates.digest, fmt, canonical_json(asdict(cover)),
                     *[t.key for t in ok])
        if not _combined_is_current(store, key, path):
            try:
                write_combined(_parts(ok, fmt, store), fmt, cover, path, templates.folder())
            except JixiaoError as error:
                result.errors.append(error)
                advance(1)
                continue
            store.put(key, "combined", _file_digest(path).encode("ascii"))
        file_result.combined[fmt] = path
        result.written.append(path)
        advance(1)


def cover_of(form_file: FormFile):
    """The cover of a file's combined documents: the file's name, the unit its forms share, this month."""
    from .publish import Cover

    units = {getattr(lf.form, "department", None) or lf.form.display_name for lf in form_file.forms}
    today = datetime.date.today()
    return Cover(form_file.path.stem, units.pop() if len(units) == 1 else "", f"{today.year}年{today.month}月")


def _parts(tasks: list[_Task], fmt: str, store: Cache):
    """The forms of one file for the combined writer, read back one at a time (bounded memory)."""
    from .render import FormOutput

    for task in tasks:
        entry, grid_entry = store.get(task.key, fmt), store.get(task.key, GRID)
        if entry is None or grid_entry is None:
            raise OutputError.at("缓存中的表格在合并前丢失或损坏，请加 --no-cache 重新生成", task.file.source)
        data, meta = entry
        yield FormOutput(task.result.name, {fmt: data}, grid_from_bytes(grid_entry[0]),
                                int(meta.get("pages", 0)))


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
        ordered.extend(f.error for f in sorted(file_result.forms, key=lambda f: f.index) if f.error)
    return ordered
