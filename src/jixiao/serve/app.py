"""The routes of `jixiao serve`: one page, its static assets, and a small JSON API over the served folder.

    GET  /                 the page (Chinese), carrying this session's token in a <meta>
    GET  /static/…         editor bundle, script, styles (shipped in the package: no CDN)
    GET  /api/files        input files of the folder with their forms and counts of findings
    GET  /api/file?name=   a file's text and version
    PUT  /api/file         save {name, text, version}; 409 if the file changed on disk meanwhile
    GET  /api/starters     the starters of `jixiao new`;   POST /api/new {starter, name}: a new file
    GET  /api/schema       the JSON Schema (editor completion)
    POST /api/preview      {name, text} → the HTML the PDF prints, errors and findings with lines
    POST /api/download     {name, format, form} → the DOCX/XLSX/PDF, rendered into the folder's output/
    POST /api/import?filename=   the raw bytes of an XLSX/DOCX/PDF/TXT → a new input file, warnings

Every request must name this server as its Host (no DNS rebinding) and, when it carries an Origin, come
from this page; every POST/PUT needs the session token in ``X-Jixiao-Token`` (no cross-site requests).
"""

from __future__ import annotations

import json
import secrets
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import importer
from ..errors import JixiaoError
from ..importer import emit
from ..schema import json_schema
from ..starter import starter_files
from . import downloads
from .files import Folder, FolderError, output_dir, version_of
from .preview import preview

HERE = Path(__file__).parent
TOKEN_HEADER = "x-jixiao-token"
MAX_TEXT = 2 * 1024 * 1024        # an input file in the editor (the largest sample is ~40 KB)
MAX_UPLOAD = 20 * 1024 * 1024     # a published form to import
UPLOAD_KINDS = {".xlsx": b"PK\x03\x04", ".docx": b"PK\x03\x04", ".pdf": b"%PDF-", ".txt": None}
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; frame-src 'self' about:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")


class ApiError(Exception):
    """A request the API refuses, with a Chinese message and an HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def create_app(root: Path, *, allowed_hosts: set[str] | None = LOCAL_HOSTS, token: str | None = None,
               initial: str | None = None) -> Starlette:
    """The app serving the folder ``root``; ``allowed_hosts`` None accepts any Host (``--host 0.0.0.0``)."""
    folder = Folder(root)
    token = token or secrets.token_urlsafe(32)
    page = (HERE / "page.html").read_text(encoding="utf-8").replace("{{token}}", token)
    summaries: dict[tuple[str, str], dict] = {}

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def files(request: Request) -> Response:
        rows = await run_in_threadpool(_file_rows, folder, summaries)
        return JSONResponse({"folder": str(folder.root), "files": rows, "initial": initial})

    async def read_file(request: Request) -> Response:
        text, version = await run_in_threadpool(folder.read, request.query_params.get("name", ""))
        return JSONResponse({"text": text, "version": str(version)})

    async def save_file(request: Request) -> Response:
        body = await _json(request)
        version = await run_in_threadpool(folder.save, _str(body, "name"), _str(body, "text"), _str(body, "version"))
        return JSONResponse({"version": str(version)})

    async def starters(request: Request) -> Response:
        return JSONResponse({"starters": [p.stem for p in starter_files()]})

    async def new_file(request: Request) -> Response:
        body = await _json(request)
        chosen = {p.stem: p for p in starter_files()}.get(_str(body, "starter"))
        if chosen is None:
            raise ApiError("没有这个示例表样", 400)
        name = body.get("name")
        name = name.strip() if isinstance(name, str) and name.strip() else chosen.stem
        path = await run_in_threadpool(folder.create, name, chosen.read_bytes())
        return JSONResponse({"name": path.name}, status_code=201)

    async def schema(request: Request) -> Response:
        return JSONResponse(json_schema())

    async def live(request: Request) -> Response:
        body = await _json(request)
        name = _str(body, "name")
        folder.resolve(name)  # the name decides YAML or JSON; it must be a name this folder could hold
        result = await run_in_threadpool(preview, _str(body, "text"), name)
        return JSONResponse(result.as_dict())

    async def download(request: Request) -> Response:
        body = await _json(request)
        form = body.get("form")
        if form is not None and (not isinstance(form, int) or isinstance(form, bool) or form < 1):
            raise ApiError("表的编号无效", 400)
        source = folder.resolve(_str(body, "name"))
        if not source.is_file():
            raise ApiError(f"文件「{source.name}」不存在，请先保存", 404)
        made = await run_in_threadpool(downloads.produce, source, _str(body, "format"), form,
                                       output_dir(folder.root))
        return FileResponse(made.path, media_type=made.media_type, filename=made.filename,
                            headers={"X-Jixiao-Filename": quote(made.filename)})

    async def import_upload(request: Request) -> Response:
        filename = Path(request.query_params.get("filename", "")).name
        suffix = Path(filename).suffix.lower()
        if suffix not in UPLOAD_KINDS:
            raise ApiError(f"不能导入「{filename}」：只能导入 {'、'.join(UPLOAD_KINDS)} 文件", 415)
        data = await _body(request, MAX_UPLOAD, "导入的文件")
        _check_kind(filename, suffix, data)
        result = await run_in_threadpool(_import, folder, filename, data)
        return JSONResponse(result, status_code=201)

    routes = [
        Route("/", index),
        Route("/api/files", files),
        Route("/api/file", read_file, methods=["GET"]),
        Route("/api/file", save_file, methods=["PUT"]),
        Route("/api/starters", starters),
        Route("/api/new", new_file, methods=["POST"]),
        Route("/api/schema", schema),
        Route("/api/preview", live, methods=["POST"]),
        Route("/api/download", download, methods=["POST"]),
        Route("/api/import", import_upload, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    handlers = {ApiError: _refused, FolderError: _refused, downloads.DownloadError: _unprocessable,
                JixiaoError: _unprocessable, OSError: _os_error}
    app = Starlette(routes=routes, exception_handlers=handlers,
                    middleware=[Middleware(Guard, token=token, allowed_hosts=allowed_hosts)])
    app.state.token = token
    return app


class Guard:
    """Refuses requests from elsewhere: a foreign Host (DNS rebinding), a foreign Origin, a change without
    the session token; adds the Content-Security-Policy (no remote origin) to every response."""

    def __init__(self, app: ASGIApp, token: str, allowed_hosts: set[str] | None):
        self.app, self.token, self.allowed_hosts = app, token, allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            return await JSONResponse({"error": refusal[0]}, status_code=refusal[1])(scope, receive, send)

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                            (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _refusal(self, request: Request) -> tuple[str, int] | None:
        host = request.headers.get("host", "")
        hostname = urlsplit(f"//{host}").hostname or ""
        if self.allowed_hosts is not None and hostname not in self.allowed_hosts:
            return f"不接受发往「{host}」的请求：请用 jixiao serve 打印的地址打开", 403
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{host}":
            return "拒绝来自其他网页的请求", 403
        if request.method not in ("GET", "HEAD"):
            sent = request.headers.get(TOKEN_HEADER, "")
            if not secrets.compare_digest(sent.encode(), self.token.encode()):
                return "缺少或错误的会话令牌：请刷新页面（服务重启后令牌会变）", 403
        return None


async def _refused(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": error.message}, status_code=error.status)


async def _unprocessable(request: Request, error: Exception) -> Response:
    message = getattr(error, "message", None) or "；".join(str(error).splitlines())
    return JSONResponse({"error": message}, status_code=422)


async def _os_error(request: Request, error: Exception) -> Response:
    """A file the server could not read or write (permissions, disk full): said in Chinese, not a 500 page."""
    return JSONResponse({"error": f"文件读写失败：{getattr(error, 'strerror', None) or error}"}, status_code=500)


async def _body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(f"{what}太大（上限 {limit // (1024 * 1024)} MB）", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(f"{what}太大（上限 {limit // (1024 * 1024)} MB）", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> dict:
    data = await _body(request, MAX_TEXT, "内容")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("请求不是有效的 JSON", 400) from None
    if not isinstance(body, dict):
        raise ApiError("请求不是有效的 JSON 对象", 400)
    return body


def _str(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise ApiError(f"请求缺少「{key}」", 400)
    return value


def _check_kind(filename: str, suffix: str, data: bytes) -> None:
    magic = UPLOAD_KINDS[suffix]
    if not data:
        raise ApiError(f"「{filename}」是空文件", 400)
    if magic is not None and not data.startswith(magic):
        raise ApiError(f"「{filename}」的内容不是 {suffix[1:].upper()} 文件（可能改过扩展名）", 415)
    if magic is None:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(f"「{filename}」不是 UTF-8 编码的文本", 415) from None


def _import(folder: Folder, filename: str, data: bytes) -> dict:
    """Import an uploaded file into a new input file of the folder; the upload itself is not kept."""
    with tempfile.TemporaryDirectory(prefix="jixiao-import-") as temporary:
        upload = Path(temporary) / (Path(filename).stem[:80] + Path(filename).suffix.lower())
        upload.write_bytes(data)
        try:
            result = importer.import_file(upload)
        except JixiaoError as error:
            raise ApiError("；".join(str(error).replace(str(upload), filename).splitlines()), 422) from None
        warnings = [w.replace(str(upload), filename) for w in result.warnings]
    text = emit.to_yaml(result.forms, filename)
    path = folder.create(Path(filename).stem, text.encode("utf-8"))
    return {"name": path.name, "forms": len(result.forms), "warnings": warnings}


def _file_rows(folder: Folder, cache: dict[tuple[str, str], dict]) -> list[dict]:
    rows = []
    for path in folder.input_files():
        try:
            data = path.read_bytes()
            version = str(version_of(path, data))
            key = (path.name, version)
            if key not in cache:
                cache[key] = preview(data.decode("utf-8-sig"), path.name, layout=False).as_dict()
            summary = cache[key]
            rows.append({"name": path.name, "version": version, "forms": summary["forms"],
                         "errors": summary["errors"], "warnings": summary["warnings"]})
        except (OSError, UnicodeDecodeError):
            rows.append({"name": path.name, "version": None, "forms": [], "errors": 1, "warnings": 0})
    return rows

