"""Launch the studio in-process on a free port for API and browser tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from app.page import CSS, THEME, build  # noqa: E402
from app.shared.serving import middleware  # noqa: E402
from app.studio import Studio  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(studio: Studio, queue_size: int = 8) -> Iterator[str]:
    """The app's URL while it runs (closed afterwards)."""
    demo = build(studio, queue_size=queue_size)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        allowed_paths=[str(studio.history.root)],
        app_kwargs={"middleware": middleware(studio.history, studio.limits.max_upload_bytes)},
        max_file_size=studio.limits.max_upload_bytes,
        theme=THEME,
        css=CSS,
        show_error=True,  # Gradio's own refusals (a server path posted as a file) reach the client in words
    )
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
