"""The batch: parallel and distributed runs give the serial run's files; the cache; a worker that dies."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import jixiao
from jixiao import batch, pool
from jixiao.batch import run_batch
from jixiao.cache import CACHE_DIR
from jixiao.cli import main
from jixiao.layout import builtin_templates

from .conftest import SAMPLES
from .readback import docx_text, pdf_text

WANGNIUDUN = SAMPLES / "wangniudun-union-2024-project-approval.yaml"
HOUJIE = SAMPLES / "houjie-party-office-2026-department-approval.yaml"


def outputs(folder: Path) -> dict[str, Path]:
    """Every output file by its path relative to the folder (the cache left out)."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*.*"))
            if p.is_file() and CACHE_DIR not in p.parts}


def docx_xml(path: Path) -> dict[str, bytes]:
    """Every XML part of a DOCX but its timestamps (docProps/core.xml)."""
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def xlsx_content(path: Path) -> list:
    """Every sheet's name, cell values and merged ranges."""
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    return [(s.title, [[c.value for c in row] for row in s.iter_rows()], sorted(map(str, s.merged_cells.ranges)))
            for s in book.worksheets]


def assert_same_outputs(expected: Path, actual: Path) -> None:
    """The same files, showing the same text, XML, cells and merges."""
    want, got = outputs(expected), outputs(actual)
    assert sorted(got) == sorted(want)
    for name, path in want.items():
        other = got[name]
        if name.endswith(".pdf"):
            assert pdf_text(other) == pdf_text(path), name
        elif name.endswith(".docx"):
            assert docx_xml(other) == docx_xml(path), name
        elif name.endswith(".xlsx"):
            assert xlsx_content(other) == xlsx_content(path), name
        else:
            assert other.read_bytes() == path.read_bytes(), name


def test_parallel_run_equals_the_serial_run(tmp_path):
    files = [WANGNIUDUN, HOUJIE, SAMPLES / "houjie-party-office-2026-department-targets.json"]
    serial = run_batch(files, ["docx", "xlsx", "pdf"], tmp_path / "serial", jobs=1, cache=False)
    parallel = run_batch(files, ["docx", "xlsx", "pdf"], tmp_path / "parallel", jobs=2, cache=False)
    assert not serial.errors and not parallel.errors
    assert serial.rendered == parallel.rendered == 4
    assert_same_outputs(tmp_path / "serial", tmp_path / "parallel")


def test_dask_cluster_gives_the_local_files(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local"
    assert not run_batch([WANGNIUDUN, HOUJIE], ["docx", "xlsx", "pdf"], local, jobs=1).errors
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as cluster:
        result = CliRunner().invoke(main, ["render", str(WANGNIUDUN), str(HOUJIE), "-o", str(tmp_path / "dask"),
                                           "--scheduler", cluster.scheduler_address])
        ran = {prefix: tp.states for prefix, tp in cluster.scheduler.task_prefixes.items()}
    assert "render_chunk" in ran, "the forms were rendered by the cluster's workers"
    assert result.exit_code == 0, result.output
    assert_same_outputs(local, tmp_path / "dask")


def test_unreachable_scheduler_is_a_chinese_error(tmp_path):
    result = CliRunner().invoke(main, ["render", str(WANGNIUDUN), "-o", str(tmp_path),
                                       "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "无法连接 dask 调度器 tcp://127.0.0.1:9" in result.output
    assert not any(tmp_path.rglob("*.docx"))


def mtimes(folder: Path) -> dict[str, int]:
    return {name: path.stat().st_mtime_ns for name, path in outputs(folder).items()}


def test_rerun_renders_only_the_changed_form(tmp_path):
    source = tmp_path / "in.yaml"
    shutil.copy(WANGNIUDUN, source)
    out = tmp_path / "out"
    first = run_batch([source], ["docx", "xlsx", "pdf"], out, jobs=1)
    assert first.rendered == 2 and not first.errors
    before = mtimes(out)
    again = run_batch([source], ["docx", "xlsx", "pdf"], out, jobs=1)
    assert again.rendered == 0 and [f.cached for f in again.files[0].forms] == [True, True]
    assert mtimes(out) == before, "nothing changed, nothing rewritten"

    text = source.read_text("utf-8")
    changed = text.replace("≥90%", "≥91%", 1)
    assert changed != text
    source.write_text(changed, "utf-8")
    third = run_batch([source], ["docx", "xlsx", "pdf"], out, jobs=1)
    assert third.rendered == 1
    after = mtimes(out)
    rewritten = sorted(name for name in after if after[name] != before[name])
    form = next(f for f in third.files[0].forms if not f.cached)
    assert rewritten == sorted([f"in/{form.paths['docx'].name}", f"in/{form.paths['xlsx'].name}",
                                f"in/{form.paths['pdf'].name}", "in.docx", "in.xlsx", "in.pdf"])
    assert "≥91%" in pdf_text(out / "in.pdf")


def test_a_changed_template_or_version_renders_again(tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    shutil.copy(builtin_templates() / "project.html.j2", templates)
    out = tmp_path / "out"
    assert run_batch([WANGNIUDUN], ["docx"], out, templates=templates, jobs=1).rendered == 2
    assert run_batch([WANGNIUDUN], ["docx"], out, templates=templates, jobs=1).rendered == 0
    (templates / "unused.txt").write_text("any file of the folder counts", "utf-8")
    assert run_batch([WANGNIUDUN], ["docx"], out, templates=templates, jobs=1).rendered == 2
    page = templates / "project.html.j2"
    page.write_text(page.read_text("utf-8").replace("项目名称", "项目的名称"), "utf-8")
    assert run_batch([WANGNIUDUN], ["docx"], out, templates=templates, jobs=1).rendered == 2
    assert "项目的名称" in docx_text((out / "wangniudun-union-2024-project-approval" / "01-工会活动.docx").read_bytes())
    assert run_batch([WANGNIUDUN], ["docx"], out, jobs=1).rendered == 2, "built-ins differ from the override"
    monkeypatch.setattr(jixiao, "__version__", "99.0")
    assert run_batch([WANGNIUDUN], ["docx"], out, jobs=1).rendered == 2
    assert run_batch([WANGNIUDUN], ["docx"], out, jobs=1).rendered == 0


@pytest.mark.parametrize("damage", ["truncate", "flip", "bad-json", "planted", "missing-bytes"])
def test_a_damaged_cache_entry_is_rebuilt(tmp_path, damage):
    out = tmp_path / "out"
    assert run_batch([WANGNIUDUN], ["pdf", "docx"], out, jobs=1).rendered == 2
    good = {name: path.read_bytes() for name, path in outputs(out).items()}
    entry = sorted((out / CACHE_DIR).rglob("*.pdf.bin"))[0]
    meta = entry.with_name(entry.name.replace(".bin", ".json"))
    if damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    elif damage == "bad-json":
        meta.write_text('{"size": ', "utf-8")
    elif damage == "planted":  # whatever a file claims, nothing is unpickled or run
        meta.write_text('{"size": 5, "sha256": "0"}', "utf-8")
        entry.write_bytes(b"cos\nsystem\n(S'touch /tmp/pwned'\ntR.")
    else:
        entry.unlink()
    for path in outputs(out).values():
        path.unlink()
    result = run_batch([WANGNIUDUN], ["pdf", "docx"], out, jobs=1)
    assert not result.errors and result.rendered == 1
    assert {name: path.read_bytes() for name, path in outputs(out).items()}.keys() == good.keys()
    assert_same_outputs_bytes(out, good)


def assert_same_outputs_bytes(out: Path, good: dict[str, bytes]) -> None:
    for name, path in outputs(out).items():
        if name.endswith(".pdf"):
            assert path.read_bytes()[:5] == b"%PDF-" and len(path.read_bytes()) > 1000, name
        else:
            assert docx_xml(path) == docx_xml_bytes(good[name]), name


def docx_xml_bytes(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def _die_on_second_form(render, templates, chunk):
    """Runs in a worker: the process dies (as under the OOM killer) when its chunk holds the 2nd form."""
    if any(job.data.get("项目名称") == "购买社工服务费" for job in chunk):
        os._exit(9)
    return render(templates, chunk)


class DyingPool(ProcessPoolExecutor):
    """A process pool whose worker exits without a word on one form."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(_die_on_second_form, fn, *args, **kwargs)


def test_a_worker_that_dies_is_an_error_for_its_forms_not_a_hang(tmp_path):
    with DyingPool(max_workers=2, mp_context=pool.context(pdf=False)) as dying:
        result = run_batch([WANGNIUDUN, HOUJIE], ["docx"], tmp_path, executor=dying, cache=False)
    messages = [str(e) for e in result.errors]
    lost = [m for m in messages if "工作进程意外退出" in m]
    assert lost and all(str(WANGNIUDUN) in m or str(HOUJIE) in m for m in lost)
    assert any("表单第2项" in m and str(WANGNIUDUN) in m for m in lost)
    forms = [f for file in result.files for f in file.forms]
    assert all((f.error is None) == bool(f.paths) for f in forms), "each form is written or has an error"
    assert not (tmp_path / "wangniudun-union-2024-project-approval.docx").exists()
    order = [(r.source, f.index) for r in result.files for f in r.forms if f.error]
    assert order == sorted(order, key=lambda item: ([WANGNIUDUN, HOUJIE].index(item[0]), item[1]))


def test_cli_jobs_and_no_cache(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(WANGNIUDUN), "-f", "docx,pdf", "-o", str(out), "--jobs", "1",
                                       "--no-cache"])
    assert result.exit_code == 0, result.output
    assert not (out / CACHE_DIR).exists() and len(outputs(out)) == 6
    first = CliRunner().invoke(main, ["render", str(WANGNIUDUN), "-f", "docx", "-o", str(out), "-j", "2"])
    assert first.exit_code == 0 and (out / CACHE_DIR).is_dir()
    again = CliRunner().invoke(main, ["render", str(WANGNIUDUN), "-f", "docx", "-o", str(out), "-j", "2"])
    assert again.exit_code == 0 and "2张表未改变，取自缓存" in "".join(again.output.split())
    bad = CliRunner().invoke(main, ["render", str(WANGNIUDUN), "-o", str(out), "--jobs", "0"])
    assert bad.exit_code == 2 and "--jobs" in bad.output


def test_a_remote_worker_gets_the_template_folder_in_the_job(tmp_path):
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "project.html.j2").write_text("<section>\n{% for x in %}\n", "utf-8")
    job_templates = batch.TemplateSet.read(templates)
    shutil.rmtree(templates)  # the worker's machine has no such folder: the job carries its content
    copy = job_templates.folder()
    assert copy != templates and (copy / "project.html.j2").read_text("utf-8").startswith("<section>")
    form = jixiao.load(WANGNIUDUN).forms[0].form
    [result] = batch.render_chunk(job_templates, [batch.Job(0, form.model_dump(by_alias=True, mode="json"),
                                                            ("docx",))])
    message = str(batch._error_from_record(result.error))
    assert "模板语法错误" in message and f"{templates}/project.html.j2" in message and str(copy) not in message


def test_the_combined_docx_numbers_forms_by_their_printed_pages(tmp_path):
    """The contents and the "共 y 页" footers of the combined DOCX follow the PDF (Wangniudun 1 prints on 2 pages)."""
    from docx import Document
    from docx.oxml.ns import qn

    result = run_batch([WANGNIUDUN], ["pdf", "docx"], tmp_path, jobs=1)
    assert not result.errors
    document = Document(str(tmp_path / "wangniudun-union-2024-project-approval.docx"))
    entries = ["".join(t.text for t in link.iter(qn("w:t"))) for link in document.element.body.iter(qn("w:hyperlink"))]
    assert [entry[-1] for entry in entries] == ["1", "3"]
    footers = ["".join(t.text for t in s.footer._element.iter(qn("w:t"))) for s in document.sections[1:]]
    assert footers == ["第 1 页，共 2 页", "第 1 页，共 1 页"]


def test_workers_start_before_loading_only_for_a_cold_run_of_many_forms(tmp_path):
    dongkeng = SAMPLES / "dongkeng-party-office-2024-project-targets.yaml"   # 22 forms, about 40 KB
    assert pool.worth_starting([dongkeng], tmp_path, cache=True)
    assert not pool.worth_starting([WANGNIUDUN], tmp_path, cache=True)      # one form: render here
    (tmp_path / CACHE_DIR).mkdir()                                          # a re-run: mostly cached
    assert not pool.worth_starting([dongkeng], tmp_path, cache=True)
    assert pool.worth_starting([dongkeng], tmp_path, cache=False)
    assert not pool.worth_starting([tmp_path / "missing.yaml"], tmp_path / "x", cache=True)


def test_a_long_files_combined_documents_are_written_one_after_another(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "PARALLEL_COMBINE_FORMS", 1)   # Wangniudun's 2 forms count as long
    outstanding: set[object] = set()
    most, order = [0], []
    submit = batch._Run._submit

    def counting(self, executor, fn, args, then, local_only=False):   # combined documents in flight
        if fn is not batch.write_combined_file:
            return submit(self, executor, fn, args, then, local_only)
        token = object()
        outstanding.add(token)
        most[0] = max(most[0], len(outstanding))
        order.append(args[2])

        def done(outcome):
            outstanding.discard(token)
            then(outcome)
        return submit(self, executor, fn, args, done, local_only)

    monkeypatch.setattr(batch._Run, "_submit", counting)
    seen: list[tuple[int, int]] = []
    result = run_batch([WANGNIUDUN], ["docx", "xlsx", "pdf"], tmp_path, jobs=2,
                       progress=lambda done, total: seen.append((done, total)))
    assert not result.errors
    assert most == [1] and order == ["docx", "xlsx", "pdf"]
    combined = result.files[0].combined
    assert sorted(combined) == ["docx", "pdf", "xlsx"] and all(p.stat().st_size for p in combined.values())
    assert seen[-1][0] == seen[-1][1] == 2 + 3                  # every form, then every combined document
    assert len(pdf_text(combined["pdf"]).split("\f")) > 3      # cover, contents, both forms
    monkeypatch.setattr(batch, "PARALLEL_COMBINE_FORMS", 200)  # a short file: side by side
    most[0], order[:] = 0, []
    run_batch([WANGNIUDUN], ["docx", "xlsx", "pdf"], tmp_path / "short", jobs=2)
    assert most == [3]


def test_the_pool_is_sized_to_the_work(monkeypatch):
    monkeypatch.setattr(batch.os, "cpu_count", lambda: 8)
    assert batch._Runner(None, None, start=False, pdf=False).fit(22) == 7    # 3 forms a worker at least
    assert batch._Runner(None, None, start=False, pdf=False).fit(5) == 1     # a few forms: here
    assert batch._Runner(3, None, start=False, pdf=False).fit(2) == 3        # --jobs is taken as given
