"""`jixiao serve`: every route through Starlette's test client, and the ways a request may be refused."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from docx import Document
from starlette.testclient import TestClient

from jixiao.loader import load
from jixiao.render import render
from jixiao.serve import app as app_module
from jixiao.serve import served
from jixiao.serve.app import create_app
from jixiao.starter import starter_files

from .conftest import PROJECT, SAMPLE_FILES, SAMPLES
from .readback import docx_text, pdf_text, squash

TOKEN = "test-token"
HEADERS = {"x-jixiao-token": TOKEN}
WANG = "wangniudun-union-2024-project-approval.yaml"
DONG = "dongkeng-party-office-2024-project-targets.yaml"
HOUJIE_JSON = "houjie-party-office-2026-department-targets.json"


@pytest.fixture
def folder(tmp_path) -> Path:
    served_dir = tmp_path / "forms"
    served_dir.mkdir()
    for path in SAMPLES.iterdir():
        shutil.copy(path, served_dir / path.name)
    (served_dir / "project.yaml").write_text(PROJECT, encoding="utf-8")
    return served_dir


@pytest.fixture
def client(folder) -> TestClient:
    return TestClient(create_app(folder, token=TOKEN), base_url="http://127.0.0.1:8000")


def test_page_carries_token_and_a_csp_without_remote_origins(client):
    page = client.get("/")
    assert page.status_code == 200
    assert f'<meta name="jixiao-token" content="{TOKEN}">' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "*" not in csp
    assert 'src="http' not in page.text and 'href="http' not in page.text
    for asset in ("/static/editor.js", "/static/app.js", "/static/app.css"):
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset
    assert "innerHTML" not in client.get("/static/app.js").text  # user text is set with textContent


def test_files_lists_inputs_with_forms_and_findings(client, folder):
    (folder / ".hidden.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    files = {row["name"]: row for row in client.get("/api/files").json()["files"]}
    assert set(files) == {p.name for p in SAMPLE_FILES} | {"project.yaml"}   # not the schema, hidden or .txt
    assert len(files[DONG]["forms"]) == 22 and files[DONG]["forms"][0]["layout"] == "项目绩效目标表"
    assert [f["name"] for f in files[WANG]["forms"]] == ["工会活动", "购买社工服务费"]
    starts = [n for n, line in enumerate((SAMPLES / WANG).read_text("utf-8").splitlines(), 1) if line.startswith("  - ")]
    assert [f["line"] for f in files[WANG]["forms"]] == starts   # where each form starts, for the page's list
    assert files[DONG]["warnings"] == 4 and files[DONG]["errors"] == 0
    (folder / "bad.yaml").write_text("表样: 项目绩效目标表\n项目名称: [\n", encoding="utf-8")
    assert client.get("/api/files").json()["files"][0] == {"name": "bad.yaml", "version": files_version(folder, "bad.yaml"),
                                                          "forms": [], "errors": 1, "warnings": 0}


def files_version(folder: Path, name: str) -> str:
    from jixiao.serve.files import version_of
    return str(version_of(folder / name))


def test_read_returns_text_and_version(client, folder):
    data = client.get("/api/file", params={"name": HOUJIE_JSON}).json()
    assert data["text"] == (folder / HOUJIE_JSON).read_text(encoding="utf-8")
    assert data["version"] == files_version(folder, HOUJIE_JSON)


@pytest.mark.parametrize("name, status", [
    ("../secret.yaml", 403), ("/etc/passwd.yaml", 403), ("sub/x.yaml", 403), ("..\\x.yaml", 403),
    (".hidden.yaml", 403), ("x.txt", 400), ("", 400), ("missing.yaml", 404), ("C:x.yaml", 403),
])
def test_bad_names_are_refused_everywhere(client, folder, name, status):
    (folder.parent / "secret.yaml").write_text(PROJECT, encoding="utf-8")
    assert client.get("/api/file", params={"name": name}).status_code == status
    saved = client.put("/api/file", json={"name": name, "text": "x: 1", "version": "1-a"}, headers=HEADERS)
    assert saved.status_code == status
    assert (folder.parent / "secret.yaml").read_text(encoding="utf-8") == PROJECT
    assert "error" in saved.json() and saved.json()["error"]


def test_symlink_out_of_the_folder_is_refused_and_not_listed(client, folder, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(PROJECT, encoding="utf-8")
    (folder / "link.yaml").symlink_to(outside)
    response = client.get("/api/file", params={"name": "link.yaml"})
    assert response.status_code == 403 and "符号链接" in response.json()["error"]
    assert "link.yaml" not in [row["name"] for row in client.get("/api/files").json()["files"]]
    saved = client.put("/api/file", json={"name": "link.yaml", "text": "x", "version": "1-a"}, headers=HEADERS)
    assert saved.status_code == 403 and outside.read_text(encoding="utf-8") == PROJECT
    preview = client.post("/api/preview", json={"name": "link.yaml", "text": PROJECT}, headers=HEADERS)
    assert preview.status_code == 403


def test_save_writes_and_a_stale_version_is_refused_with_409(client, folder):
    loaded = client.get("/api/file", params={"name": "project.yaml"}).json()
    edited = loaded["text"].replace("测试项目", "改过的项目")
    saved = client.put("/api/file", json={"name": "project.yaml", "text": edited, "version": loaded["version"]},
                       headers=HEADERS)
    assert saved.status_code == 200
    assert (folder / "project.yaml").read_text(encoding="utf-8") == edited
    assert saved.json()["version"] == files_version(folder, "project.yaml")
    stale = client.put("/api/file", json={"name": "project.yaml", "text": "覆盖", "version": loaded["version"]},
                       headers=HEADERS)
    assert stale.status_code == 409 and "已被其他程序" in stale.json()["error"]
    assert (folder / "project.yaml").read_text(encoding="utf-8") == edited


def test_a_touched_but_unchanged_file_still_saves(client, folder):
    loaded = client.get("/api/file", params={"name": "project.yaml"}).json()
    os.utime(folder / "project.yaml", ns=(1, 1))
    saved = client.put("/api/file", json={"name": "project.yaml", "text": "改了", "version": loaded["version"]},
                       headers=HEADERS)
    assert saved.status_code == 200


def test_concurrent_saves_of_one_version_write_exactly_one(client, folder):
    version = client.get("/api/file", params={"name": "project.yaml"}).json()["version"]
    results, start = [], threading.Barrier(6)

    def save(n: int) -> None:
        start.wait()
        text = PROJECT.replace("测试项目", f"第{n}版")
        response = client.put("/api/file", json={"name": "project.yaml", "text": text, "version": version},
                              headers=HEADERS)
        results.append((response.status_code, text))

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409, 409, 409, 409, 409]
    winner = next(text for status, text in results if status == 200)
    assert (folder / "project.yaml").read_text(encoding="utf-8") == winner


@pytest.mark.parametrize("headers, status", [
    ({}, 403), ({"x-jixiao-token": "wrong"}, 403),
    ({**HEADERS, "origin": "http://evil.example"}, 403), ({**HEADERS, "origin": "null"}, 403),
    ({**HEADERS, "origin": "http://127.0.0.1:8000"}, 200),
])
def test_changes_need_the_session_token_and_this_origin(client, folder, headers, status):
    version = files_version(folder, "project.yaml")
    response = client.put("/api/file", json={"name": "project.yaml", "text": "改", "version": version},
                          headers=headers)
    assert response.status_code == status
    assert ((folder / "project.yaml").read_text(encoding="utf-8") == "改") == (status == 200)
    for path, body in (("/api/new", {"starter": "项目绩效目标表"}), ("/api/preview", {"name": "a.yaml", "text": ""}),
                       ("/api/download", {"name": WANG, "format": "pdf"})):
        if status != 200:
            assert client.post(path, json=body, headers=headers).status_code == 403
    if status != 200:
        assert client.post("/api/import?filename=a.txt", content=b"x", headers=headers).status_code == 403


def test_a_foreign_host_is_refused_dns_rebinding(folder):
    rebinding = TestClient(create_app(folder, token=TOKEN), base_url="http://attacker.example:8000")
    response = rebinding.get("/api/file", params={"name": "project.yaml"})
    assert response.status_code == 403 and "project" not in response.text
    assert rebinding.get("/").status_code == 403
    anywhere = TestClient(create_app(folder, token=TOKEN, allowed_hosts=None), base_url="http://192.168.1.5:8000")
    assert anywhere.get("/api/files").status_code == 200


def test_new_file_from_each_starter_never_overwrites(client, folder):
    starters = client.get("/api/starters").json()["starters"]
    assert starters == [p.stem for p in starter_files()] and "项目绩效目标表" in starters
    for starter in starters:
        created = client.post("/api/new", json={"starter": starter, "name": "新表"}, headers=HEADERS)
        assert created.status_code == 201
        assert load(folder / created.json()["name"]).ok
    names = sorted(p.name for p in folder.glob("新表*.yaml"))
    assert names == sorted(["新表.yaml"] + [f"新表-{n}.yaml" for n in range(2, len(starters) + 1)])
    escaped = client.post("/api/new", json={"starter": starters[0], "name": "../../逃出"}, headers=HEADERS)
    assert escaped.status_code == 201 and (folder / escaped.json()["name"]).is_file()
    assert client.post("/api/new", json={"starter": "没有"}, headers=HEADERS).status_code == 400


def test_schema_route_gives_the_input_schema(client):
    schema = client.get("/api/schema").json()
    assert "公共" in schema["$defs"]["文件"]["properties"]


def test_preview_lays_out_unsaved_text_and_never_writes(client, folder):
    before = files_version(folder, "project.yaml")
    text = PROJECT.replace("4次", "7次")
    data = client.post("/api/preview", json={"name": "project.yaml", "text": text}, headers=HEADERS).json()
    assert data["loaded"] and data["forms"] == [{"index": 1, "name": "测试项目", "layout": "项目绩效目标表",
                                                    "line": 1}]
    assert "<td" in data["html"] and "7次" in data["html"] and "4次" not in data["html"]
    assert files_version(folder, "project.yaml") == before
    assert data["problems"] == [] and data["errors"] == 0


def test_preview_reports_errors_and_findings_with_lines(client):
    broken = client.post("/api/preview", json={"name": "p.yaml", "text": PROJECT.replace("项目名称: 测试项目", "项目名称: [")},
                         headers=HEADERS).json()
    assert not broken["loaded"] and broken["html"] is None
    assert broken["problems"][0]["line"] in (2, 3, 4) and "YAML 语法错误" in broken["problems"][0]["message"]
    unknown = client.post("/api/preview", json={"name": "p.yaml", "text": PROJECT.replace("项目类型:", "项目类:")},
                          headers=HEADERS).json()
    assert unknown["problems"][0]["line"] == 3 and "项目类型" in unknown["problems"][0]["message"]
    empty_value = PROJECT.replace("当年度指标值: 4次", "当年度指标值: ''")
    finding = client.post("/api/preview", json={"name": "p.yaml", "text": empty_value}, headers=HEADERS).json()
    assert finding["loaded"] and finding["html"]
    errors = [p for p in finding["problems"] if p["severity"] == "error"]
    assert errors and errors[0]["rule"] == "V001" and errors[0]["line"] == 14
    as_json = client.post("/api/preview", json={"name": "p.json", "text": '{"表样": "项目绩效目标表",\n "x": }'},
                          headers=HEADERS).json()
    assert as_json["problems"][0]["line"] == 2 and "JSON" in as_json["problems"][0]["message"]


def test_download_whole_file_and_one_form(client, folder):
    pdf = client.post("/api/download", json={"name": WANG, "format": "pdf", "form": None}, headers=HEADERS)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    combined = folder / "output" / "wangniudun-union-2024-project-approval.pdf"
    assert pdf.content == combined.read_bytes()
    text = squash(pdf_text(combined))
    assert "工会活动" in text and "购买社工服务费" in text
    docx = client.post("/api/download", json={"name": WANG, "format": "docx", "form": 2}, headers=HEADERS)
    assert docx.status_code == 200
    body = squash(docx_text(docx.content))
    assert "购买社工服务费" in body and "工会活动" not in body
    Document(io.BytesIO(docx.content))
    assert client.post("/api/download", json={"name": WANG, "format": "exe"}, headers=HEADERS).status_code == 422
    missing_form = client.post("/api/download", json={"name": WANG, "format": "xlsx", "form": 9}, headers=HEADERS)
    assert missing_form.status_code == 422 and "第 9 张" in missing_form.json()["error"]
    assert client.post("/api/download", json={"name": WANG, "format": "pdf", "form": "1"},
                       headers=HEADERS).status_code == 400


def test_download_of_a_form_with_errors_says_why(client, folder):
    (folder / "bad.yaml").write_text(PROJECT.replace("当年度指标值: 4次", "当年度指标值: ''"), encoding="utf-8")
    response = client.post("/api/download", json={"name": "bad.yaml", "format": "pdf"}, headers=HEADERS)
    assert response.status_code == 422 and "V001" in response.json()["error"]
    assert not (folder / "output" / "bad").exists()


def test_import_an_xlsx_into_a_new_input_file(client, folder):
    forms = load(SAMPLES / WANG).all_forms()
    xlsx = render(forms, "xlsx")
    first = client.post("/api/import?filename=" + "去年.xlsx", content=xlsx, headers=HEADERS)
    assert first.status_code == 201, first.text
    data = first.json()
    assert data["name"] == "去年.yaml" and data["forms"] == 2
    assert [f.form.display_name for f in load(folder / "去年.yaml").forms] == ["工会活动", "购买社工服务费"]
    second = client.post("/api/import?filename=" + "去年.xlsx", content=xlsx, headers=HEADERS)
    assert second.json()["name"] == "去年-2.yaml"
    assert (folder / "去年.yaml").read_text(encoding="utf-8") == (folder / "去年-2.yaml").read_text(encoding="utf-8")
    assert all("jixiao-import-" not in w for w in data["warnings"])


def test_import_of_text_without_forms_says_so(client):
    response = client.post("/api/import?filename=a.txt", content="随便写的字".encode(), headers=HEADERS)
    assert response.status_code == 422 and "没有找到绩效目标表" in response.json()["error"]
    assert "jixiao-import-" not in response.json()["error"]


@pytest.mark.parametrize("filename, content, status", [
    ("a.exe", b"MZ", 415), ("a.yaml", b"x: 1", 415), ("a.pdf", b"not a pdf", 415), ("a.xlsx", b"%PDF-1.7", 415),
    ("a.txt", "中文".encode("gbk"), 415), ("a.pdf", b"", 400),
])
def test_wrong_uploads_are_refused(client, folder, filename, content, status):
    before = sorted(p.name for p in folder.iterdir())
    response = client.post(f"/api/import?filename={filename}", content=content, headers=HEADERS)
    assert response.status_code == status and response.json()["error"]
    assert sorted(p.name for p in folder.iterdir()) == before


def test_oversized_uploads_and_texts_are_refused(client, folder, monkeypatch):
    monkeypatch.setattr(app_module, "MAX_UPLOAD", 1000)
    monkeypatch.setattr(app_module, "MAX_TEXT", 1000)
    big = client.post("/api/import?filename=a.pdf", content=b"%PDF-" + b"0" * 2000, headers=HEADERS)
    assert big.status_code == 413 and "太大" in big.json()["error"]

    def chunks():
        for _ in range(5):
            yield b"%PDF-" + b"0" * 500   # no Content-Length: the limit holds while reading

    streamed = client.post("/api/import?filename=a.pdf", content=chunks(), headers=HEADERS)
    assert streamed.status_code == 413
    text = client.post("/api/preview", json={"name": "a.yaml", "text": "x" * 2000}, headers=HEADERS)
    assert text.status_code == 413


def test_bad_json_bodies_are_refused(client):
    assert client.post("/api/preview", content=b"{", headers=HEADERS).status_code == 400
    assert client.post("/api/preview", json=[1], headers=HEADERS).status_code == 400
    assert client.post("/api/preview", json={"name": "a.yaml"}, headers=HEADERS).status_code == 400


def test_served_picks_folder_and_first_file(folder):
    assert served(folder) == (folder, None)
    assert served(folder / WANG) == (folder, WANG)
    with pytest.raises(Exception, match="不存在"):
        served(folder / "nope")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(Exception, match="不是输入文件"):
        served(folder / "notes.txt")


def test_serve_command_says_what_is_wrong_in_chinese(folder):
    from click.testing import CliRunner

    from jixiao.cli import main

    missing = CliRunner().invoke(main, ["serve", str(folder / "nope"), "--no-browser"])
    assert missing.exit_code == 2 and "不存在" in missing.output and "Traceback" not in missing.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = CliRunner().invoke(main, ["serve", str(folder), "--no-browser", "--port", str(port)])
    assert busy.exit_code == 2 and "--port" in busy.output


def test_user_text_stays_text_in_the_preview(client):
    hostile = PROJECT.replace("项目名称: 测试项目", "项目名称: '<img src=x onerror=alert(1)><script>alert(2)</script>'")
    data = client.post("/api/preview", json={"name": "p.yaml", "text": hostile}, headers=HEADERS).json()
    assert "&lt;img src=x onerror=alert(1)&gt;" in data["html"]
    assert "<img" not in data["html"] and "<script>" not in data["html"]
    assert data["forms"][0]["name"].startswith("<img")   # JSON data; the page sets it with textContent


def test_a_gbk_file_is_reported_not_garbled(client, folder):
    (folder / "gbk.yaml").write_bytes(PROJECT.encode("gbk"))
    response = client.get("/api/file", params={"name": "gbk.yaml"})
    assert response.status_code == 422 and "UTF-8" in response.json()["error"]
    row = next(r for r in client.get("/api/files").json()["files"] if r["name"] == "gbk.yaml")
    assert row["errors"] == 1


def test_an_upload_name_with_a_path_stays_inside(client, folder):
    xlsx = render(load(SAMPLES / WANG).all_forms(), "xlsx")
    response = client.post("/api/import?filename=../../x/去年.xlsx", content=xlsx, headers=HEADERS)
    assert response.status_code == 201 and (folder / response.json()["name"]).is_file()
    assert not (folder.parent / "去年.yaml").exists()


def test_an_unreadable_file_is_said_in_chinese(client, monkeypatch):
    from jixiao.serve.files import Folder

    def denied(self, name):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Folder, "read", denied)   # as root, chmod 0 would not stop the read
    response = client.get("/api/file", params={"name": "project.yaml"})
    assert response.status_code == 500 and "文件读写失败" in response.json()["error"]
