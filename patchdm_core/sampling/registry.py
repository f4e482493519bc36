"""The solvers PatchDM can sample with, by name: every one has ddim_sample's signature and yields Steps,
and each brings the ladder of noise levels it is meant to walk."""

from __future__ import annotations

from ..model.schedule import Schedule
from .dpm_solver import dpmpp_2m_sample
from .solvers import ddim_sample

SAMPLERS = {"ddim": ddim_sample, "dpmpp-2m": dpmpp_2m_sample}
LABELS = {"ddim": "DDIM", "dpmpp-2m": "DPM++ 2M"}  # as PNG `parameters` name them (A1111 style)


def get_sampler(name: str):
    """The solver function called `name` (clear error for an unknown one)."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def ladder(name: str, schedule: Schedule, steps: int) -> list[int]:
    """The descending levels `name` visits in `steps` model evaluations: DDIM the official uniform
    stride; DPM-Solver++(2M) even log-SNR steps (its multistep extrapolation assumes similar h)."""
    get_sampler(name)
    return schedule.logsnr_timesteps(steps) if name == "dpmpp-2m" else schedule.ddim_timesteps(steps)


def sampling_params(settings: dict[str, object], mode: str = "feature") -> dict[str, object]:
    """PNG `parameters` entries (A1111 names) of PatchDM.settings(...) for a run in `mode`."""
    params = {
        "Steps": settings["steps"],
        "Sampler": LABELS[str(settings["sampler"])],
        "Guidance": settings["guidance"],
        "Eta": settings["eta"],
        "Mode": mode,
    }
    if mode == "feature":
        params["Grid"] = settings["grid"]
    return params
