"""What the server does with a request before Gradio sees it: it notes when it arrived (for Stop), and it
hands out from the outputs folder only what the History lists.

Gradio serves every file under a folder it is allowed to read (`allowed_paths`, which the History's folder
must be so that its pictures can be shown), by name: dotfiles, other files, and the targets of symlinks
that someone placed there. This ASGI middleware stands in front of Gradio's file routes and answers 404 for
any file under the outputs folder that History.serves() does not name; every other request passes as is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

from .history import History

FILE_ROUTES = ("/gradio_api/file=", "/file=")


class ListedFilesOnly:
    def __init__(self, app: Any, history: History) -> None:
        self.app, self.history = app, history

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            path = unquote(scope.get("path", ""))
            route = next((r for r in FILE_ROUTES if r in path), None)
            if route is not None and not self.allowed(path.split(route, 1)[1]):
                await PlainTextResponse("not found", status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def allowed(self, requested: str) -> bool:
        """A file outside the outputs folder is Gradio's business (its cache, its own assets); inside it,
        only what the History serves (a symlink counts as inside whatever its target)."""
        target = Path(requested)
        inside = any(_within(p, self.history.root) for p in (target.absolute(), _resolved(target)))
        return not inside or self.history.serves(target)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


class ArrivalStamp:
    """Stamps every request with the moment it arrived (`request.state.arrived`), before Gradio reads and
    decodes its body: Stop cancels every job of the session that arrived before it, even one whose
    admission check was still decoding its pictures when Stop came (jobs.Jobs.start)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope.setdefault("state", {})["arrived"] = time.monotonic()
        await self.app(scope, receive, send)


class BodyLimit:
    """A request body over `limit` bytes is refused (413) before Gradio reads it, except on the upload route,
    which has its own limit per file: a picture sent inline (a data: URL in the JSON of a job) would
    otherwise be parsed and decoded whole, whatever --max-upload-mb says. A body without a declared length
    is cut off at the limit."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" or scope.get("path", "").endswith("/upload"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            message = f"request too large: over the {self.limit // 2**20} MB limit (--max-upload-mb)"
            await PlainTextResponse(message, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            return {"type": "http.disconnect"} if seen > self.limit else message

        await self.app(scope, counted, send)


def middleware(history: History, max_body: int) -> list[Middleware]:
    """For `launch(app_kwargs={"middleware": ...})`: request bodies of at most `max_body` bytes."""
    return [
        Middleware(BodyLimit, limit=max_body),
        Middleware(ArrivalStamp),
        Middleware(ListedFilesOnly, history=history),
    ]
