"""Batch benchmarks of issue 7, measured side by side in one run, each a median over repeats.

Run: ``.venv/bin/python bench/batch.py`` (needs ``pip install -e '.[bench]'`` and LibreOffice's ``soffice``)
Quick subset: ``--forms 200 --repeat 1`` or ``--only a,b,e``. The full run (1,000 forms) takes minutes.

a. cold ``jixiao render`` of the 22 Dongkeng forms, DOCX + XLSX + PDF (per form and combined), beside
   LibreOffice converting the combined 22-form DOCX to PDF (a fresh soffice and a fresh profile each time);
   target ratio <= 1.5. On equal terms: LibreOffice is given the fonts jixiao's PDF embeds (a fontconfig
   file maps 宋体/SimSun and 黑体/SimHei to them, as the PDF's font stack does where SimSun is missing);
   the fonts each embedded are printed.
b. the same, PDF only; target ratio <= 0.75. Printed beside it, the floor of any cold run: a fresh Python
   that imports WeasyPrint and prints one tiny PDF, and ``jixiao --version`` (the CLI's start-up).
c. N generated forms (the Dongkeng forms with varied names and values; one input file) in all three
   formats: time (target <= 150 s for 1,000), peak memory of the CLI and its workers (target <= 500 MB),
   and t(N) / t(N/10) (target <= 11 for N = 1,000)
d. ``--jobs 2`` against ``--jobs 1`` on N/10 forms; target speed-up >= 1.8
e. a re-run after changing one indicator of one of the 22 forms, against the cold run; target <= 15 %;
   and the same re-run in a process that stays up (as ``jixiao serve`` does: run_batch called again)
f. bench/render.py: DOCX per form beside docxtpl (target <= 0.5)

Memory is sampled every 20 ms with psutil over the CLI's process tree: the largest single process and the
largest sum of the processes alive at one moment (RSS: pages shared between forked workers count in each;
and PSS, every 200 ms, which shares them out).
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the largest process that has ended) is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from xml.sax.saxutils import escape

import psutil

ROOT = Path(__file__).resolve().parents[1]
BODY_FONT = TITLE_FONT = ""  # set in main(): the fonts jixiao's PDF prints with on this machine
SAMPLE = ROOT / "samples" / "dongkeng-party-office-2024-project-targets.yaml"
JIXIAO = Path(sys.executable).with_name("jixiao")
MB = 1024 * 1024


class Measured:
    """Wall time and peak memory of one command and all its descendants."""

    def __init__(self, command: list[str], cwd: Path | None = None):
        self.command, self.cwd = command, cwd
        self.seconds = self.peak_one = self.peak_sum = self.peak_pss = 0.0
        self.cpu: dict[int, float] = {}   # last seen user + system seconds of each process of the tree
        self.pss = False

    @property
    def cpu_seconds(self) -> float:
        """CPU time of the whole process tree (as last sampled): the work, whatever else runs on the machine."""
        return sum(self.cpu.values())

    def run(self) -> "Measured":
        start = time.perf_counter()
        process = subprocess.Popen(self.command, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        watcher = threading.Thread(target=self._watch, args=(process.pid,), daemon=True)
        watcher.start()
        _, stderr = process.communicate()
        self.seconds = time.perf_counter() - start
        watcher.join()
        if process.returncode != 0:
            sys.exit(f"failed ({process.returncode}): {' '.join(self.command)}\n{stderr.decode()[-2000:]}")
        return self

    def _watch(self, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            tick = 0
            while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
                sizes, shares = [], []
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        sizes.append(proc.memory_info().rss)
                        times = proc.cpu_times()
                        self.cpu[proc.pid] = times.user + times.system
                        if self.pss and tick % 10 == 0:  # PSS (shared pages shared out) reads smaps: slower
                            shares.append(proc.memory_full_info().pss)
                    except psutil.Error:
                        pass
                self.peak_one = max(self.peak_one, max(sizes, default=0))
                self.peak_sum = max(self.peak_sum, sum(sizes))
                self.peak_pss = max(self.peak_pss, sum(shares))
                tick += 1
                time.sleep(0.02)
        except psutil.Error:
            pass


def jixiao(inputs: list[Path], out: Path, *options: str, pss: bool = False) -> Measured:
    """A cold command line run (a fresh process) into ``out``."""
    measured = Measured([str(JIXIAO), "render", *map(str, inputs), "-o", str(out), *options])
    measured.pss = pss
    return measured.run()


def soffice(docx: Path, work: Path, n: int) -> Measured:
    """LibreOffice converting a DOCX to PDF, cold: a fresh process and a fresh user profile, with the
    fonts jixiao's PDF uses (:func:`same_fonts`)."""
    profile = work / f"lo-profile-{n}"
    return Measured(["env", f"FONTCONFIG_FILE={same_fonts(work)}", "soffice",
                     f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                     "--outdir", str(work / f"lo-out-{n}"), str(docx)]).run()


def same_fonts(work: Path) -> Path:
    """A fontconfig file that gives LibreOffice the fonts jixiao's PDF prints with: the DOCX names 宋体 and
    黑体, which LibreOffice would otherwise replace by whatever fontconfig prefers (Noto Sans CJK here)."""
    path = work / "fonts.conf"
    if not path.exists():
        rules = "".join(
            f'<match target="pattern"><test name="family"><string>{escape(asked)}</string></test>'
            f'<edit name="family" mode="assign" binding="strong"><string>{escape(given)}</string></edit></match>'
            for asked, given in [("宋体", BODY_FONT), ("SimSun", BODY_FONT), ("黑体", TITLE_FONT),
                                 ("SimHei", TITLE_FONT)])
        path.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include>{rules}</fontconfig>',
                        "utf-8")
    return path


def first_font(stack: str) -> str:
    """The first family of a CSS font stack that fontconfig has (what WeasyPrint prints with)."""
    for family in re.findall(r'"([^"]+)"', stack):
        found = subprocess.run(["fc-list", f":family={family}", "family"], capture_output=True, text=True)
        if found.stdout.strip():
            return family
    return "serif"


def embedded_fonts(pdf: Path) -> str:
    """The base names of the fonts a PDF embeds (pdffonts), subset prefixes dropped."""
    listed = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    return ", ".join(sorted({line.split()[0].split("+")[-1] for line in listed if line.strip()}))


def floor(repeat: int) -> tuple[float, float]:
    """Medians of the least any cold run pays: (a fresh Python importing WeasyPrint and printing one tiny
    PDF in the same fonts, ``jixiao --version``)."""
    tiny = (f"import weasyprint; weasyprint.HTML(string='<body style=\"font-family: {BODY_FONT}\"><h1 style="
            f'\"font-family: {TITLE_FONT}\">绩效目标表</h1><table><tr><td>预算执行率 ≥90%</td></tr></table>'
            "</body>').write_pdf()")
    pdf = [Measured([sys.executable, "-c", tiny]).run().seconds for _ in range(repeat)]
    cli = [Measured([str(JIXIAO), "--version"]).run().seconds for _ in range(repeat)]
    return median(pdf), median(cli)


def warm_rerun(work: Path, repeat: int) -> float:
    """Median seconds of a re-run after one changed indicator in a process that stays up (as jixiao serve)."""
    from jixiao.batch import run_batch

    source = work / "warm" / SAMPLE.name
    source.parent.mkdir()
    shutil.copy(SAMPLE, source)
    out = source.parent / "out"
    run_batch([source], ["docx", "xlsx", "pdf"], out)
    times = []
    for n in range(repeat + 1):
        change_one_indicator(source, 100 + n)
        start = time.perf_counter()
        run_batch([source], ["docx", "xlsx", "pdf"], out)
        times.append(time.perf_counter() - start)
    return median(times[1:])  # the first imports WeasyPrint into this process, as a server's first PDF does


def generated(count: int, folder: Path) -> Path:
    """An input file of ``count`` forms: the Dongkeng forms in turn, each with its own name and values."""
    import jixiao as lib

    forms = lib.load(SAMPLE).all_forms()
    items = []
    for k in range(count):
        data = forms[k % len(forms)].model_dump(by_alias=True, mode="json", exclude_none=True)
        data["项目名称"] = f"{data['项目名称']}（{k + 1:04d}）"
        data["预算金额"] = str(int(float(data["预算金额"])) + k)
        first = next(iter(next(iter(data["绩效指标"].values())).values()))
        if first:
            first[0]["当年度指标值"] = f"{first[0]['当年度指标值']}（第{k + 1}批）"
        items.append(data)
    path = folder / f"generated-{count}.json"
    path.write_text(json.dumps({"表单": items}, ensure_ascii=False), "utf-8")
    return path


def change_one_indicator(path: Path, n: int) -> None:
    """Change the annual value of one indicator of one form (the first one the file lists)."""
    text = path.read_text("utf-8")
    changed, hits = re.subn(r"(当年度指标值: )([^,}\n]+)", lambda m: f"{m.group(1)}{m.group(2)}（调整{n}）", text,
                            count=1)
    assert hits == 1
    path.write_text(changed, "utf-8")


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of a, b, d and e (default 3)")
    parser.add_argument("--forms", type=int, default=1000, help="generated forms for c (default 1000)")
    parser.add_argument("--only", default="a,b,c,d,e,f", help="which parts, e.g. a,b,e")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    missing = [tool for tool in ("soffice", "pdffonts", "fc-list") if not shutil.which(tool)]
    if missing and parts & {"a", "b"}:
        sys.exit(f"a and b need LibreOffice, poppler-utils and fontconfig: {', '.join(missing)} not found")
    lines: list[str] = []
    global BODY_FONT, TITLE_FONT
    css = (ROOT / "templates" / "style.css").read_text("utf-8")
    BODY_FONT = first_font(re.search(r"html \{ font-family: ([^;]+);", css).group(1))
    TITLE_FONT = first_font(re.search(r"h1 \{\s*font-family: ([^;]+);", css).group(1))

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="jixiao-bench-") as folder:
        work = Path(folder)
        say(f"machine: {psutil.cpu_count()} cores; jixiao {JIXIAO}; medians over {args.repeat} runs")
        cold_all = None
        if parts & {"a", "b", "e"}:
            all_runs, pdf_runs, lo_runs = [], [], []
            for r in range(args.repeat):  # interleaved: the three share the machine's state at each moment
                all_runs.append(jixiao([SAMPLE], work / f"a-{r}"))
                pdf_runs.append(jixiao([SAMPLE], work / f"b-{r}", "-f", "pdf"))
                lo_runs.append(soffice(work / "a-0" / f"{SAMPLE.stem}.docx", work, r))
            cold_all, lo = median([m.seconds for m in all_runs]), median([m.seconds for m in lo_runs])
            cpu_lo = median([m.cpu_seconds for m in lo_runs])
            if "a" in parts:
                cpu = median([m.cpu_seconds for m in all_runs])
                say(f"a. 22 forms DOCX+XLSX+PDF, cold CLI: {cold_all:.2f} s; LibreOffice DOCX→PDF: {lo:.2f} s; "
                    f"ratio {cold_all / lo:.2f} (target ≤ 1.5); CPU time {cpu:.2f} s vs {cpu_lo:.2f} s")
                say(f"   fonts embedded: jixiao {embedded_fonts(work / 'a-0' / f'{SAMPLE.stem}.pdf')}; "
                    f"LibreOffice {embedded_fonts(work / 'lo-out-0' / f'{SAMPLE.stem}.pdf')}")
            if "b" in parts:
                cold_pdf, cpu = median([m.seconds for m in pdf_runs]), median([m.cpu_seconds for m in pdf_runs])
                say(f"b. 22 forms PDF only, cold CLI: {cold_pdf:.2f} s; ratio {cold_pdf / lo:.2f} (target ≤ 0.75); "
                    f"CPU time {cpu:.2f} s vs {cpu_lo:.2f} s")
                tiny, start = floor(args.repeat)
                say(f"   floor of a cold run: a fresh Python printing one tiny PDF with WeasyPrint {tiny:.2f} s "
                    f"({tiny / lo:.2f}× LibreOffice); jixiao --version {start:.2f} s")
        if "c" in parts:
            small, large = generated(args.forms // 10, work), generated(args.forms, work)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t_small = jixiao([small], work / "c-small", "--no-cache")
            t_large = jixiao([large], work / "c-large", "--no-cache", pss=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            say(f"c. {args.forms} forms DOCX+XLSX+PDF: {t_large.seconds:.1f} s (target ≤ 150 s for 1,000); "
                f"peak RSS largest process {t_large.peak_one / MB:.0f} MB, sum of concurrent processes "
                f"{t_large.peak_sum / MB:.0f} MB (PSS {t_large.peak_pss / MB:.0f} MB) (target ≤ 500 MB); "
                "ru_maxrss of children "
                f"{'%.0f MB' % (after / 1024) if after > before else '(not above the earlier runs)'}")
            say(f"   CPU time of all processes {t_large.cpu_seconds:.1f} s; {args.forms // 10} forms: "
                f"{t_small.seconds:.1f} s (CPU {t_small.cpu_seconds:.1f} s), peak {t_small.peak_one / MB:.0f} MB / sum "
                f"{t_small.peak_sum / MB:.0f} MB; t({args.forms})/t({args.forms // 10}) = "
                f"{t_large.seconds / t_small.seconds:.2f} (target ≤ 11)")
        if "d" in parts:
            hundred = generated(max(2, args.forms // 10), work)
            one, two = [], []
            for r in range(max(1, args.repeat - 1)):
                one.append(jixiao([hundred], work / f"d1-{r}", "--no-cache", "--jobs", "1"))
                two.append(jixiao([hundred], work / f"d2-{r}", "--no-cache", "--jobs", "2"))
            wall1, wall2 = median([m.seconds for m in one]), median([m.seconds for m in two])
            say(f"d. {args.forms // 10} forms: --jobs 1 {wall1:.1f} s, --jobs 2 {wall2:.1f} s; "
                f"speed-up {wall1 / wall2:.2f} (target ≥ 1.8); CPU time of all processes "
                f"{median([m.cpu_seconds for m in one]):.1f} s and {median([m.cpu_seconds for m in two]):.1f} s")
        if "e" in parts:
            reruns, colds = [], []
            for r in range(args.repeat):
                source = work / f"e-{r}" / SAMPLE.name
                source.parent.mkdir()
                shutil.copy(SAMPLE, source)
                colds.append(jixiao([source], work / f"e-{r}" / "out"))
                change_one_indicator(source, r)
                reruns.append(jixiao([source], work / f"e-{r}" / "out"))
            cold, rerun = median([m.seconds for m in colds]), median([m.seconds for m in reruns])
            cpu_cold, cpu_rerun = median([m.cpu_seconds for m in colds]), median([m.cpu_seconds for m in reruns])
            say(f"e. re-run after one changed indicator: {rerun:.2f} s against the cold run {cold:.2f} s: "
                f"{100 * rerun / cold:.0f} % (target ≤ 15 %); CPU time {cpu_rerun:.2f} s vs {cpu_cold:.2f} s "
                f"({100 * cpu_rerun / cpu_cold:.0f} %)")
            warm = warm_rerun(work, args.repeat)
            say(f"   the same re-run in a process that stays up (jixiao serve): {warm:.2f} s, "
                f"{100 * warm / cold:.0f} % of the cold command line")
        if "f" in parts:
            found = subprocess.run([sys.executable, str(ROOT / "bench" / "render.py"), "--repeat", "2"],
                                   capture_output=True, text=True, check=False)
            docx_line = [ln for ln in found.stdout.splitlines() if "ratio" in ln or "docx" in ln]
            say("f. bench/render.py (ms per form): " + ("; ".join(ln.strip() for ln in docx_line)
                                                       or found.stderr.strip()[-300:]))
    print("\nsummary\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
