"""`jixiao serve` end to end in a real browser: Debian's chromium, driven by Playwright.

The officer's path: open the page, change an indicator value and see the preview change, make a
mistake and see it marked at its line (and the preview greyed), fix it, save, download the PDF and read
it. Set JIXIAO_SCREENSHOTS=docs to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from jixiao.serve.app import create_app

from .conftest import PROJECT, SAMPLES
from .readback import pdf_text, squash

CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else None
if playwright_api is None:
    import playwright.sync_api as playwright_api  # in CI a missing Playwright is a failure, not a skip

# The indicator the test edits is written in block style, so its value ends its own short line.
EDITED = PROJECT.replace(
    "      - {三级指标: 补贴发放次数, 实施周期指标值: 12次, 当年度指标值: 4次}",
    "      - 三级指标: 补贴发放次数\n        实施周期指标值: 12次\n        当年度指标值: 4次",
)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium (bash .ci/setup test installs it)")
        pytest.skip("chromium is not installed (bash .ci/setup test installs it)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path):
    """uvicorn serving a folder with the test form and a real sample, on a free port, in a thread."""
    import uvicorn

    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "project.yaml").write_text(EDITED, encoding="utf-8")
    shutil.copy(SAMPLES / "wangniudun-union-2024-project-approval.yaml", folder)
    shutil.copy(SAMPLES / "dongkeng-party-office-2024-project-targets.yaml", folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(create_app(folder), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", folder
    instance.should_exit = True
    thread.join(timeout=10)


def shoot(page, name: str, tmp_path: Path) -> None:
    target = Path(os.environ.get("JIXIAO_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / name))


def test_edit_preview_error_fix_save_and_download(browser, server, tmp_path):
    expect = playwright_api.expect
    url, folder = server
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.goto(url + "#project.yaml")
    preview = page.frame_locator("#preview")
    expect(preview.locator("h1")).to_have_text("项目绩效目标表")
    expect(preview.get_by_text("4次", exact=True)).to_be_visible()
    expect(page.locator("#problem-count")).to_contain_text("没有发现问题")

    # change an indicator value by typing: the preview follows
    value_line = page.locator(".cm-line", has_text="当年度指标值: 4次")
    value_line.click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    page.keyboard.type("9次")
    expect(preview.get_by_text("9次", exact=True)).to_be_visible(timeout=5000)
    expect(preview.get_by_text("4次", exact=True)).to_have_count(0)
    expect(page.locator("#save-state")).to_have_text("未保存")
    assert "4次" in (folder / "project.yaml").read_text(encoding="utf-8")  # previews never write

    # a mistake: an unknown key on line 3 is listed, marked at its line, and the preview greys
    page.locator(".cm-line", has_text="项目类型: 其他运转类").click()
    page.keyboard.press("Home")
    page.keyboard.type("x")
    problem = page.locator("#problems li.error").first
    expect(problem).to_contain_text("第 3 行", timeout=5000)
    expect(problem).to_contain_text("x项目类型")
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    expect(page.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    expect(page.locator("#preview-box")).to_have_class("preview-box stale")
    expect(page.locator("#preview-error")).to_contain_text("上一次正确时的预览")
    expect(preview.get_by_text("9次", exact=True)).to_be_visible()   # the last good preview stays
    shoot(page, "serve-error.png", tmp_path)

    # fix it: the marks go, the preview is live again
    page.keyboard.press("Backspace")
    expect(page.locator("#problem-count")).to_contain_text("没有发现问题", timeout=5000)
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.locator("#preview-box")).to_have_class("preview-box")
    expect(page.locator("#preview-error")).to_be_hidden()
    shoot(page, "serve-editor.png", tmp_path)

    # download the PDF (it saves first) and read it
    with page.expect_download(timeout=60000) as download:
        page.locator("#download-pdf").click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.name == "01-测试项目.pdf"  # a one-form file: its form's file, as `jixiao render` names it
    text = squash(pdf_text(pdf))
    assert "补贴发放次数" in text and "9次" in text and "4次" not in text
    saved = (folder / "project.yaml").read_text(encoding="utf-8")
    assert "当年度指标值: 9次" in saved and "x项目类型" not in saved
    expect(page.locator("#save-state")).to_have_text("已保存")

    # key completion from the schema, at the level the cursor is on (here: an indicator's keys)
    page.locator(".cm-line", has_text="当年度指标值: 9次").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("实施")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("实施周期指标值")  # not the form's 实施周期
    assert not failures, failures


@pytest.mark.parametrize("width, height", [(1280, 800), (1920, 1080)])
def test_page_fits_the_screen(browser, server, tmp_path, width, height):
    url, _ = server
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url + "#dongkeng-party-office-2024-project-targets.yaml")
    playwright_api.expect(page.frame_locator("#preview").locator("h1")).to_have_count(22)
    playwright_api.expect(page.locator("#problems li.warning")).to_have_count(4)
    playwright_api.expect(page.locator("#forms li")).to_have_count(22)
    # choosing form 15 (sidebar) puts the cursor on its line, and the preview follows to that form
    page.locator("#forms li").nth(14).locator("button").click()
    deadline = time.monotonic() + 5
    while page.evaluate("document.getElementById('preview').contentWindow.scrollY") < 1000:
        assert time.monotonic() < deadline, "the preview did not follow the cursor to form 15"
        time.sleep(0.05)
    top = page.evaluate("document.getElementById('preview').contentDocument"
                        ".querySelectorAll('section.form')[14].getBoundingClientRect().top")
    assert abs(top) < 5
    overflow = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert overflow == [width, height]  # no scroll bars on the page itself: each pane scrolls on its own
    for selector in ("#save", "#download-pdf", "#files", "#drop", ".cm-editor", "#preview"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width and box["width"] > 40, selector
    if width == 1920:
        shoot(page, "serve-1920.png", tmp_path)


def test_import_and_a_conflicting_save(browser, server, tmp_path):
    from jixiao.loader import load
    from jixiao.render import render

    expect = playwright_api.expect
    url, folder = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url + "#project.yaml")
    expect(page.frame_locator("#preview").locator("h1")).to_have_text("项目绩效目标表")

    # a file changed on disk after it was opened is not overwritten; the officer's text stays
    page.locator(".cm-line", has_text="项目名称: 测试项目").click()
    page.keyboard.press("End")
    page.keyboard.type("（改）")
    (folder / "project.yaml").write_text(EDITED.replace("测试项目", "别处改的"), encoding="utf-8")
    page.locator("#save").click()
    expect(page.locator("#toast")).to_contain_text("未保存")
    expect(page.locator("#save-state")).to_have_text("未保存")
    expect(page.locator(".cm-line", has_text="测试项目（改）")).to_have_count(1)
    assert "别处改的" in (folder / "project.yaml").read_text(encoding="utf-8")

    # import last year's XLSX: a new input file, opened, its forms previewed
    page.once("dialog", lambda dialog: dialog.accept())   # leave the unsaved edit
    xlsx = tmp_path / "去年的表.xlsx"
    xlsx.write_bytes(render(load(SAMPLES / "wangniudun-union-2024-project-approval.yaml").all_forms(), "xlsx"))
    page.locator("#upload").set_input_files(str(xlsx))
    expect(page.locator("#import-result")).to_contain_text("已导入 2 张表到 去年的表.yaml")
    expect(page.locator("#file-title")).to_have_text("去年的表.yaml")
    expect(page.frame_locator("#preview").get_by_text("购买社工服务费").first).to_be_visible()
    assert (folder / "去年的表.yaml").is_file()

    # a file dropped anywhere (here: on the editor) is imported too, and what it lacks is said
    transfer = page.evaluate_handle("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["只是一段说明文字"], "说明.txt", { type: "text/plain" }));
        return data;
    }""")
    page.locator(".cm-content").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.locator("#import-result li.error")).to_contain_text("没有找到绩效目标表")
    expect(page.locator("#file-title")).to_have_text("去年的表.yaml")   # still here: the browser did not open it
