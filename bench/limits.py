"""Seconds that hostile input at (or past) jixiao's limits costs, with and without the guards.

Run: ``.venv/bin/python bench/limits.py``. Prints one line per case; ratios measured side by side in one
process hold on a noisy shared machine even when the absolute figures move.

- PDF of a form with one cell of unbreakable digits at the cell limit, with the writer's zero-width
  breaks and without them (``BREAK_EVERY`` set past the run length);
- PDF, DOCX and XLSX of a form with 500 indicator rows (the row limit);
- ``jixiao check`` of a 100,000-deep JSON list, cut off at the depth limit;
- ``jixiao import`` of the worst XLSX inside the sheet limits (a value in the last cell, one merged range
  over the rest) and of a 5 KB XLSX that claims a value in XFD1048576 (refused).
"""

from __future__ import annotations

import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner

import jixiao
from jixiao.cli import main
from jixiao.importer import sources
from jixiao.limits import MAX_ITEMS, MAX_TEXT
from jixiao.writers import pdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import PROJECT  # noqa: E402

FIRST = "      - {三级指标: 补贴发放次数, 实施周期指标值: 12次, 当年度指标值: 4次}\n"


def timed(label: str, action) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    print(f"{label:<62} {elapsed:6.2f} s", flush=True)
    return elapsed


def form(folder: Path, name: str, text: str):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return jixiao.load(path).all_forms()[0]


def main_() -> None:
    folder = Path(tempfile.mkdtemp())
    digits = "≥" + "9" * (MAX_TEXT - 1)
    long_cell = form(folder, "long.yaml", PROJECT.replace("当年度指标值: 4次}", f'当年度指标值: "{digits}"}}'))
    with_breaks = timed(f"PDF, one cell of {MAX_TEXT} unbreakable digits, with breaks",
                        lambda: jixiao.render(long_cell, "pdf"))
    every, pdf.BREAK_EVERY = pdf.BREAK_EVERY, MAX_TEXT * 2
    try:
        without = timed(f"PDF, one cell of {MAX_TEXT} unbreakable digits, without breaks",
                        lambda: jixiao.render(long_cell, "pdf"))
    finally:
        pdf.BREAK_EVERY = every
    print(f"{'  ratio without / with':<62} {without / with_breaks:6.1f} x")

    items = "".join(f"      - {{三级指标: 指标{i}, 实施周期指标值: ≥{i}%, 当年度指标值: ≥{i}%}}\n"
                    for i in range(MAX_ITEMS - 6))
    many = form(folder, "many.yaml", PROJECT.replace(FIRST, items))
    for fmt in ("pdf", "docx", "xlsx"):
        timed(f"{fmt.upper()}, a form of {len(many.indicator_rows())} indicator rows",
              lambda f=fmt: jixiao.render(many, f))

    deep = folder / "deep.json"
    deep.write_text('{"表样": "项目绩效目标表", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    timed("check, a JSON list nested 100,000 deep", lambda: CliRunner().invoke(main, ["check", str(deep)]))

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"] = "项目名称", "x"
    last = openpyxl.utils.get_column_letter(sources.MAX_COLS)
    sheet[f"{last}{sources.MAX_ROWS}"] = "v"
    sheet.merge_cells(f"C3:{openpyxl.utils.get_column_letter(sources.MAX_COLS - 1)}{sources.MAX_ROWS - 1}")
    worst = folder / "worst.xlsx"
    book.save(worst)
    timed(f"import, XLSX filling {sources.MAX_ROWS} x {sources.MAX_COLS} with one merged range",
          lambda: CliRunner().invoke(main, ["import", str(worst)]))
    far = folder / "far.xlsx"
    small = openpyxl.Workbook()
    small.active.append(["项目名称", "x"])
    small.save(folder / "small.xlsx")
    with zipfile.ZipFile(folder / "small.xlsx") as source, zipfile.ZipFile(far, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>v</t>'
                                    b"</is></c></row></sheetData>")
            target.writestr(item, data)
    timed(f"import, {far.stat().st_size // 1024} KB XLSX claiming XFD1048576 (refused)",
          lambda: CliRunner().invoke(main, ["import", str(far)]))


if __name__ == "__main__":
    main_()
