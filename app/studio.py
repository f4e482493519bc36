"""The studio: every tab's actions on one object (`Studio`: the model, its limits, the history) and every tab's
events on another (`Events`: the same actions with the signatures Gradio inspects, run on the one model worker).

Each tab adds its own in app/tabs/; what they share is in app/shared/.
"""

from __future__ import annotations

from .shared.variations import VaryActions, VaryEvents
from .tabs.generate import GenerateActions, GenerateEvents
from .tabs.history import HistoryEvents
from .tabs.inpaint import InpaintActions, InpaintEvents
from .tabs.outpaint import OutpaintActions, OutpaintEvents
from .tabs.sketch import SketchActions, SketchEvents
from .tabs.span import SpanActions, SpanEvents
from .tabs.upscale import UpscaleActions, UpscaleEvents

__all__ = ["Events", "Studio"]


class Studio(GenerateActions, SpanActions, InpaintActions, OutpaintActions, SketchActions, UpscaleActions, VaryActions):
    """The model, its limits, its pace and the history, with one generator per app action (tests call them
    directly)."""


class Events(
    GenerateEvents,
    SpanEvents,
    InpaintEvents,
    OutpaintEvents,
    SketchEvents,
    UpscaleEvents,
    HistoryEvents,
    VaryEvents,
):
    """Every tab's event functions, with the job plumbing, admission, Stop, Send and Vary they share."""
