"""Patch-DM Studio: the Gradio front end (layout in ui.py, actions in handlers.py)."""
