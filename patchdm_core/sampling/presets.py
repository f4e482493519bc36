"""Named sampling presets: whole sets of solver settings a user picks by name instead of flag by flag.

The model's own defaults (its weights file's metadata, `set-defaults`) are what every command uses when told
nothing; a preset replaces them, and a flag given beside it (--steps, --guidance, ...) wins over both.
"quality" is what v1.4 shipped with: DPM-Solver++(2M) over 12 log-SNR steps, guidance 1.5 at every step
(24 network passes per canvas). "fast" is the shipped default since 2026-12-07: the same ladder with guidance
only at timesteps 450 and above (Kynkaanniemi et al. 2024), 1.75 there to make up for the steps without it:
17 passes, 1.41x less work, every score within 5% of "quality" on the held-out pictures at 1024x512 (the
finest level 6% worse at 2048x1024; docs/experiments/speed.md).
"""

from __future__ import annotations

PRESETS: dict[str, dict[str, object]] = {
    "quality": {"sampler": "dpmpp-2m", "steps": 12, "guidance": 1.5, "guidance_interval": (0, 999), "ladder_end": 0},
    "fast": {"sampler": "dpmpp-2m", "steps": 12, "guidance": 1.75, "guidance_interval": (450, 999), "ladder_end": 0},
}


def preset(name: str | None) -> dict[str, object]:
    """The settings of a preset (empty for None: the model's defaults), or ValueError for an unknown name."""
    if name is None:
        return {}
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return dict(PRESETS[name])
