"""How long `jixiao serve` makes the officer wait: one preview (load + check + print HTML) per sample, and
a PDF download of the whole file, first (rendered) and again (from the batch cache).

Run: ``.venv/bin/python bench/serve.py [--repeat N]``. Figures are medians in milliseconds; the preview
runs ~500 ms after typing stops, so its time is added to that delay.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from jixiao.serve.downloads import produce
from jixiao.serve.files import output_dir
from jixiao.serve.preview import preview

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    inputs = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".yaml", ".json") and "schema" not in p.name)
    for path in inputs:
        text = path.read_text(encoding="utf-8")
        preview(text, path.name)  # warm the template cache, as a running server has
        forms = len(preview(text, path.name, layout=False).forms)
        took = median_ms(lambda text=text, name=path.name: preview(text, name), repeat)
        print(f"preview  {path.name:52} {forms:3d} forms  {took:7.0f} ms")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(shutil.copy(inputs[0], folder))
        first = median_ms(lambda: produce(source, "pdf", None, output_dir(Path(folder))), 1)
        again = median_ms(lambda: produce(source, "pdf", None, output_dir(Path(folder))), repeat)
        print(f"download {source.name} PDF (whole file): first {first:.0f} ms, again (cache) {again:.0f} ms")


if __name__ == "__main__":
    main()
