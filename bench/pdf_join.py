"""Size, fonts, time and memory of the combined PDF joined from per-form PDFs, beside one layout.

Run: ``.venv/bin/python bench/pdf_join.py [--forms 200] [--join 1000] [--fonts]``

- Dongkeng: the 22 forms of the sample, each laid out once (``render_form``), joined with a cover and
  contents by ``write_combined``; beside it, ONE WeasyPrint layout of the same 22 forms in one
  document (what the combined PDF was before). Prints both sizes, their ratio (target ≤ 1.5) and the
  fonts of the joined file as pdffonts lists them (each font once).
- Generated: ``--forms`` forms made from the Dongkeng forms (names and amounts varied), the same two
  figures.
- Join only: the 22 per-form PDFs fed ``--join`` times over (each a form of its own) into
  ``write_combined``: seconds and the growth of peak RSS while joining.
- ``--fonts``: one form's PDF with Noto Serif/Sans CJK (CFF) against AR PL UMing + WenQuanYi Zen Hei
  (TrueType), alternating, median ms of layout and of ``write_pdf`` (font subsetting) and file size.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jixiao
from jixiao.publish import Cover, write_combined
from jixiao.render import FormOutput, document, render_form
from jixiao.writers import pdf

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "dongkeng-party-office-2024-project-targets.yaml"
COVER = Cover("东坑镇党政办2024年项目绩效目标表", "东莞市东坑镇党建工作办公室", "2024年1月")


def generated(forms: list, count: int) -> list:
    """``count`` forms varied from ``forms``: another name and amount each."""
    made = []
    for i in range(count):
        form = forms[i % len(forms)]
        made.append(form.model_copy(update={"name": f"{form.name}（第{i + 1}号）", "amount": form.amount + i}))
    return made


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare(label: str, forms: list, folder: Path) -> None:
    start = time.perf_counter()
    parts = [render_form(form, ["pdf"]) for form in forms]
    rendered = time.perf_counter() - start
    joined = folder / f"{label}.pdf"
    start = time.perf_counter()
    write_combined(iter(parts), "pdf", COVER, joined)
    join_s = time.perf_counter() - start
    start = time.perf_counter()
    one_layout = pdf.write(document(forms).html)
    layout_s = time.perf_counter() - start
    size, single = joined.stat().st_size, len(one_layout)
    fonts = subprocess.run(["pdffonts", str(joined)], capture_output=True, text=True).stdout.splitlines()[2:]
    print(f"{label}: {len(forms)} forms, {sum(p.pages for p in parts)} form pages")
    print(f"  render_form (pdf) total      {rendered:7.2f} s")
    print(f"  join (cover+contents+forms)  {join_s:7.2f} s   {size / 1024:8.1f} KiB")
    print(f"  one layout of the same forms {layout_s:7.2f} s   {single / 1024:8.1f} KiB")
    print(f"  size ratio joined / one layout: {size / single:.2f}   (per-form PDFs together: "
          f"{sum(len(p.files['pdf']) for p in parts) / 1024:.1f} KiB)")
    print(f"  fonts in the joined file ({len(fonts)}): " + "; ".join(" ".join(f.split()[:2]) for f in fonts))


def join_only(forms: list, times: int, folder: Path) -> None:
    base = [render_form(form, ["pdf"]) for form in forms]
    parts = (FormOutput(f"{base[i % len(base)].name}-{i}", base[i % len(base)].files, base[i % len(base)].grid,
                        base[i % len(base)].pages) for i in range(times))
    before = peak_mb()
    start = time.perf_counter()
    target = folder / "join-only.pdf"
    write_combined(parts, "pdf", COVER, target)
    print(f"join only: {times} forms in {time.perf_counter() - start:.2f} s, "
          f"{target.stat().st_size / 1024 / 1024:.1f} MiB, peak RSS {before:.0f} → {peak_mb():.0f} MB")


FONT_SETS = {"Noto CJK (CFF)": ('"Noto Serif CJK SC"', '"Noto Sans CJK SC"'),
             "AR PL UMing + WenQuanYi Zen Hei (TrueType)": ('"AR PL UMing CN"', '"WenQuanYi Zen Hei"')}


def fonts(forms: list, rounds: int = 3) -> None:
    """Layout and write_pdf time and size of the first 8 forms with each font set first in the CSS."""
    import statistics

    figures: dict[str, list[tuple[float, float, int]]] = {name: [] for name in FONT_SETS}
    for _ in range(rounds):  # alternate, so both see the same machine load
        for name, (serif, sans) in FONT_SETS.items():
            for form in forms[:8]:
                html = document(form).html
                html = html.replace('"SimSun", "宋体",', f'"SimSun", "宋体", {serif},')
                html = html.replace('"SimHei", "黑体",', f'"SimHei", "黑体", {sans},')
                start = time.perf_counter()
                laid_out = pdf.lay_out(html)
                middle = time.perf_counter()
                data = laid_out.write_pdf()
                figures[name].append(((middle - start) * 1000, (time.perf_counter() - middle) * 1000, len(data)))
    for name, rows in figures.items():
        layout_ms, write_ms, size = (statistics.median(r[i] for r in rows) for i in range(3))
        print(f"{name}: layout {layout_ms:6.1f} ms, write_pdf {write_ms:6.1f} ms, {size / 1024:6.1f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=200, help="generated forms (default 200)")
    parser.add_argument("--join", type=int, default=1000, help="forms in the join-only run (default 1000)")
    parser.add_argument("--fonts", action="store_true", help="only compare the two font sets")
    args = parser.parse_args()
    forms = jixiao.load(SAMPLE).all_forms()
    if args.fonts:
        fonts(forms)
        return
    with tempfile.TemporaryDirectory() as folder:
        if args.join:  # first, so that peak RSS is the join's (and 22 forms' layouts), not the others'
            join_only(forms, args.join, Path(folder))
        compare("dongkeng", forms, Path(folder))
        if args.forms:
            compare("generated", generated(forms, args.forms), Path(folder))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
