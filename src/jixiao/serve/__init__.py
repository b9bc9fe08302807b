"""``jixiao serve``: a local web page to edit, check, preview, import and download forms.

    cli ──▶ serve.run ──▶ app (routes) ──▶ files (the served folder), preview (load/check/layout),
                                           downloads (the render of `jixiao render`), importer

The page and its editor ship inside the package (``static/``; the editor bundle is built from ``web/``
with ``npm run build``), so it works with no internet.
"""

from __future__ import annotations

import os
import socket
import threading
import webbrowser
from pathlib import Path

from ..errors import JixiaoError
from ..loader import SUFFIXES


def served(target: Path) -> tuple[Path, str | None]:
    """The folder to serve and the file to open first, for ``jixiao serve FILE|DIR``."""
    if target.is_dir():
        return target, None
    if target.is_file() and target.suffix.lower() in SUFFIXES:
        return target.parent, target.name
    if not target.exists():
        raise JixiaoError.at("文件或文件夹不存在，请检查路径", target)
    raise JixiaoError.at(f"不是输入文件：应为文件夹或以 {'、'.join(SUFFIXES)} 结尾的文件", target)


def run(target: Path, host: str, port: int, open_browser: bool, announce=print) -> None:
    """Serve ``target`` until interrupted; prints the address and opens it unless ``open_browser`` is false."""
    import uvicorn  # imported here: the other commands do not need the server

    from .. import pool
    from .app import LOCAL_HOSTS, create_app

    folder, initial = served(target)
    _check_port(host, port)
    # The downloads' worker processes fork from a server that imported WeasyPrint, whatever the first
    # download's format (the fork server's imports are fixed when it starts); started in the background.
    if (os.cpu_count() or 1) > 1:
        pool.launch(pdf=True)
    anywhere = host in ("0.0.0.0", "::", "")
    app = create_app(folder, allowed_hosts=None if anywhere else set(LOCAL_HOSTS) | {host}, initial=initial)
    shown = "127.0.0.1" if anywhere else (f"[{host}]" if ":" in host else host)
    address = f"http://{shown}:{port}/" + (f"#{initial}" if initial else "")
    announce(f"jixiao serve：正在提供 {folder.resolve()}，请在浏览器中打开 {address}（按 Ctrl+C 停止）")
    if anywhere:
        announce("注意：--host 让同一网络中的其他电脑也能打开并修改这个文件夹")
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(address,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _check_port(host: str, port: int) -> None:
    """Say in Chinese that the port is taken, before uvicorn would say it in English."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise JixiaoError.at(f"无法在 {host}:{port} 上启动（{error.strerror or error}）："
                                 "端口可能已被占用，请用 --port 换一个") from None
