"""Browsers, known across reloads: each keeps an id and its settings in its own storage (gr.BrowserState), so a
reload finds its running or finished job (runner.Record) and every setting where it was left.

A page says hello when it loads (`Clients.hello`): its Gradio session (new at every reload) is mapped to the
browser's id, which then keys its jobs, its Stop and its record. API clients never say hello: their
session is their key, as before. Stored settings are checked against each control (a number within its
range, a choice it still offers) before they are put back; anything else is left at its default.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
from collections.abc import Mapping
from typing import Any

import gradio as gr

STORAGE_KEY = "patchdm-studio"
ID = re.compile(r"^[0-9a-f]{16}$")
MAX_TEXT = 2000  # longest text setting kept (a span's monitors)


class Clients:
    """Gradio sessions -> the browser each belongs to."""

    def __init__(self) -> None:
        self._of: dict[str, str] = {}
        self._lock = threading.Lock()

    def hello(self, session: str, stored: object) -> str:
        """Map a page's session to its browser's id (the stored one, or a new one); returns the id."""
        client = stored if isinstance(stored, str) and ID.match(stored) else secrets.token_hex(8)
        with self._lock:
            self._of[session] = client
        return client

    def key(self, session: str) -> str:
        """What a session's jobs are keyed by: its browser's id, or the session itself (an API client)."""
        with self._lock:
            return self._of.get(session, session)

    def is_page(self, session: str) -> bool:
        """Whether this session is a page of a browser (it said hello), not an API client."""
        with self._lock:
            return session in self._of


def restored(component: Any, value: object) -> Any:
    """A stored setting, if this control can take it, else gr.skip() (the control keeps its default)."""
    if isinstance(component, gr.Checkbox):
        return value if isinstance(value, bool) else gr.skip()
    if isinstance(component, (gr.Number, gr.Slider)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return gr.skip()
        lo, hi = getattr(component, "minimum", None), getattr(component, "maximum", None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return gr.skip()
        return value
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        choices = {v for _, v in (component.choices or [])}
        return value if value in choices else gr.skip()
    if isinstance(component, gr.Textbox):
        return value if isinstance(value, str) and len(value) <= MAX_TEXT else gr.skip()
    if isinstance(component, gr.ColorPicker):
        return value if isinstance(value, str) and re.match(r"^#[0-9a-fA-F]{6}$", value) else gr.skip()
    return gr.skip()


def restore(keep: Mapping[str, Any], stored: object) -> list[Any]:
    """The value for every kept control, from what the browser stored (gr.skip() where nothing usable is)."""
    settings = stored.get("settings") if isinstance(stored, dict) else None
    settings = settings if isinstance(settings, dict) else {}
    return [restored(c, settings[name]) if name in settings else gr.skip() for name, c in keep.items()]


def save_js(names: list[str]) -> str:
    """The browser-side function that stores every kept control's value (no request to the server)."""
    return f"""(stored, ...values) => {{
  const names = {json.dumps(names)};
  const settings = {{}};
  names.forEach((name, i) => {{ settings[name] = values[i]; }});
  return {{...(stored || {{}}), settings}};
}}"""
