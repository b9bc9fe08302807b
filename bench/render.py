"""Milliseconds per form for each format on the 22 Dongkeng forms, beside docxtpl in the same run.

Run: ``.venv/bin/python bench/render.py [--repeat N]`` (docxtpl comes with ``pip install -e '.[bench]'``).

Each figure is the median over repeated runs of the time one form takes, measured side by side in one
process, so the ratios hold on a noisy shared machine even when the absolute figures move:

- ``jixiao <fmt>``: ``jixiao.render(form, fmt)`` from the validated model: Jinja, grid, writer.
- ``jixiao <fmt> (22 in one document)``: the combined document, divided by 22.
- ``docxtpl docx``: docxtpl filling a Word template of the same form (a table whose indicator rows
  come from a ``{%tr for %}`` loop, ``{% vm %}`` merging the 一级/二级 cells), saved to bytes.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from docx import Document

import jixiao
from jixiao.model import format_amount

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "dongkeng-party-office-2024-project-targets.yaml"


def per_form_ms(render_one, forms, repeat: int) -> float:
    """Median milliseconds of ``render_one(form)`` over every form and every repeat."""
    times = []
    for _ in range(repeat):
        for form in forms:
            start = time.perf_counter()
            render_one(form)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def batch_ms(fmt: str, forms, repeat: int) -> float:
    """Median milliseconds per form when all forms go into one document."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jixiao.render(forms, fmt)
        times.append((time.perf_counter() - start) * 1000 / len(forms))
    return statistics.median(times)


def docxtpl_template(folder: Path) -> Path:
    """A Word template of the project form, in docxtpl's syntax."""
    document = Document()
    document.add_paragraph("{{ title }}")
    table = document.add_table(rows=0, cols=6)
    table.style = "Table Grid"
    for label, value in [("项目名称", "{{ name }}"), ("项目类型", "{{ project_type }}"),
                         ("项目等级", "{{ grade }}"), ("主管部门", "{{ department }}"),
                         ("用款单位", "{{ unit }}"), ("{{ year }}年预算金额（元）", "{{ amount }}")]:
        cells = table.add_row().cells
        cells[0].merge(cells[1]).text = label
        cells[2].merge(cells[5]).text = value
    for text in ("实施周期总目标", "{{ overall }}", "{{ year }}年度目标", "{{ annual }}"):
        cells = table.add_row().cells
        cells[0].text = "总体绩效目标"
        cells[2].merge(cells[5]).text = text
    header = table.add_row().cells
    labels = ["绩效指标", "一级指标", "二级指标", "三级指标", "实施周期指标值", "当年度指标值"]
    for cell, text in zip(header, labels, strict=True):
        cell.text = text
    table.add_row().cells[0].text = "{%tr for r in rows %}"
    row = table.add_row().cells
    for cell, text in zip(row, ["绩效指标", "{% vm %}{{ r.l1 }}", "{% vm %}{{ r.l2 }}", "{{ r.name }}",
                                "{{ r.period }}", "{{ r.annual }}"], strict=True):
        cell.text = text
    table.add_row().cells[0].text = "{%tr endfor %}"
    path = folder / "project.docx"
    document.save(path)
    return path


def docxtpl_context(form) -> dict:
    """The same form's data as docxtpl's template wants it."""
    rows, l1, l2 = [], "", ""
    for row in form.indicator_rows():
        l1, l2 = row.level1 or l1, row.level2 or l2
        rows.append({"l1": l1, "l2": l2, "name": row.name, "period": row.period_value,
                     "annual": row.annual_value})
    return {"title": form.heading, "name": form.name, "project_type": form.project_type,
            "grade": form.grade, "department": form.department, "unit": form.unit, "year": form.year,
            "amount": format_amount(form.amount, form.amount_unit), "overall": form.goals.overall,
            "annual": form.goals.annual, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs over the 22 forms (default 5)")
    args = parser.parse_args()
    try:
        from docxtpl import DocxTemplate
    except ImportError:
        sys.exit("docxtpl is missing: .venv/bin/pip install -e '.[bench]'")

    forms = jixiao.load(SAMPLE).all_forms()
    for fmt in ("docx", "xlsx", "pdf", "html"):  # warm up imports, fonts and caches
        jixiao.render(forms[0], fmt)
    with tempfile.TemporaryDirectory() as folder:
        template = docxtpl_template(Path(folder))

        def docxtpl_one(form) -> bytes:
            document = DocxTemplate(template)
            document.render(docxtpl_context(form))
            buffer = io.BytesIO()
            document.save(buffer)
            return buffer.getvalue()

        docxtpl_one(forms[0])
        figures, baseline = {}, []
        for fmt in ("docx", "xlsx", "pdf", "html"):  # docxtpl measured between them, on the same load
            figures[f"jixiao {fmt}"] = per_form_ms(lambda f, fmt=fmt: jixiao.render(f, fmt), forms, args.repeat)
            baseline.append(per_form_ms(docxtpl_one, forms, args.repeat))
        figures["docxtpl docx"] = statistics.median(baseline)
        for fmt in ("docx", "xlsx", "pdf"):
            figures[f"jixiao {fmt} ({len(forms)} in one document)"] = batch_ms(fmt, forms, args.repeat)

    print(f"{len(forms)} Dongkeng forms, median ms per form over {args.repeat} runs")
    width = max(map(len, figures))
    for name, ms in figures.items():
        print(f"  {name:<{width}}  {ms:8.1f} ms")
    print(f"  ratio jixiao docx / docxtpl docx: {figures['jixiao docx'] / figures['docxtpl docx']:.2f}")


if __name__ == "__main__":
    main()
