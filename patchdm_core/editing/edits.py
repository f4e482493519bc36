"""The editing tools as functions of a Painter: inpaint, outpaint and re-roll, all three run by `masked`
(a canvas sampled with its known pixels projected after every step). Masks and the projection are in
regions.py, what a painted area starts from in fill.py, the colour anchor and detail matching in
harmonize.py."""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

from ..runtime.sizes import round_up
from ..sampling.noise import patch_seed
from ..sampling.painter import Painter
from ..sampling.solvers import Step, get_sampler
from . import harmonize
from .fill import fill_hole, mirror_fill
from .img2img import denoise_steps
from .regions import bounding_cells, feather, grow_canvas, projection, repaint_path

# Where an edit's painted area starts on the ladder (img2img's strength): below 1 it starts from the
# colours around it (inpaint, outpaint) or under it (reroll) rather than pure noise. Measured on the
# eight held-out pictures with the demo model (bench/edit_quality.py, weights/README.md): outpaint
# border score 2.27 at 1.0, 1.82 at 0.7; inpaint 2.61 / 2.53, with the new area's colours those of
# its surroundings instead of the model's own palette. A re-roll asks for something new: 1.0.
EDIT_STRENGTH = {"inpaint": 0.7, "outpaint": 0.7, "reroll": 1.0}


def inpaint(
    painter: Painter,
    image: Tensor,
    keep_mask: Tensor,
    *,
    seed: int,
    blur: int = 8,
    strength: float = EDIT_STRENGTH["inpaint"],
    content: str = "fill",
    fill: str = "structure",
    **kw,
) -> Iterator[Step]:
    """Repaint where keep_mask [1,1,H,W] is 0; known pixels come back exactly outside the `blur` band.

    strength < 1 runs that share of the steps, starting the hole from `content`: "fill" (the kept
    picture carried in from its border, to remove something; `fill` is fill.fill_hole's `how`:
    "structure" continues edges across the hole, "smooth" blurs the border's colours) or "original"
    (the pixels there now, for a variation of them); 1 paints it from pure noise.

    kw: steps, guidance, method ("fast" | "harmonized"), jump, resample, only_masked, margin, eta, z,
    mode, chunk, grid, sampler, guidance_interval, anchor, match_detail (see masked). "harmonized" defaults to jump 5,
    resample 5 (4.6x the evaluations of "fast")."""
    if keep_mask.shape[-2:] != image.shape[-2:]:
        raise ValueError(f"mask {tuple(keep_mask.shape[-2:])} does not match the picture {tuple(image.shape[-2:])}")
    if content not in ("fill", "original"):
        raise ValueError(f"content must be 'fill' or 'original', got {content!r}")
    pull = content == "fill" and bool((keep_mask >= 0.5).any())  # all repainted: no border to pull from
    start_from = fill_hole(image, keep_mask.to(image), how=fill) if pull and strength < 1 else image
    soft = feather((keep_mask < 0.5).float(), blur)
    return masked(painter, image, soft, seed=seed, strength=strength, start_from=start_from, **kw)


def outpaint(
    painter: Painter,
    image: Tensor,
    pad: tuple[int, int, int, int],
    *,
    seed: int,
    feather_px: int = 32,
    strength: float = EDIT_STRENGTH["outpaint"],
    **kw,
) -> Iterator[Step]:
    """Grow the canvas by pad = (top, right, bottom, left) px (rounded up to whole patches) and paint
    the new area; the seam is feathered `feather_px` into the old picture. The grown canvas is a
    picture of its own: positions follow the same rule as generate on it. strength < 1 starts the
    new area from the old picture mirrored out past its border and blurred (fill.mirror_fill)."""
    if not any(pad):
        raise ValueError("nothing to extend: give at least one side a positive extension")
    canvas, keep, (top, left) = grow_canvas(image, pad, painter.p)
    noise_origin = (-(top // painter.p), -(left // painter.p))  # the old picture's cells keep their noise seeds
    if kw.get("z") is None:
        kw["z"] = painter.encode_style(image)  # the old picture's code, not the grown canvas's
    soft = feather(1 - keep, feather_px)
    if strength < 1:  # the new strip starts from the border's colours
        kw.setdefault("start_from", mirror_fill(canvas, (top, left, *image.shape[-2:])))
    return masked(painter, canvas, soft, seed=seed, noise_origin=noise_origin, strength=strength, **kw)


def reroll(
    painter: Painter,
    image: Tensor,
    box: tuple[int, int, int, int],
    *,
    seed: int,
    blur: int = 16,
    strength: float = EDIT_STRENGTH["reroll"],
    **kw,
) -> Iterator[Step]:
    """Re-sample the patches under box = (x, y, w, h) with new noise from `seed`; keep the rest.
    strength < 1 starts from the pixels there now: a variation of them."""
    x, y, w, h = box
    height, width = image.shape[-2:]
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise ValueError(f"box {box} is not inside the {width}x{height} picture")
    p = painter.p
    repaint = torch.zeros(1, 1, height, width, device=image.device)
    repaint[..., y // p * p : round_up(y + h, p), x // p * p : round_up(x + w, p)] = 1
    return masked(painter, image, feather(repaint, blur), seed=seed, strength=strength, **kw)


def masked(
    painter: Painter,
    image: Tensor,
    soft: Tensor,
    *,
    seed: int,
    steps: int | None = None,
    guidance: float | None = None,
    method: str = "fast",
    jump: int = 5,
    resample: int = 5,
    only_masked: bool = False,
    margin: int = 64,
    eta: float | None = None,
    z: Tensor | None = None,
    mode: str = "feature",
    chunk: int | None = None,
    noise_origin: tuple[int, int] = (0, 0),
    grid: str | None = None,
    sampler: str | None = None,
    guidance_interval: tuple[int, int] | None = None,
    ladder_end: int | None = None,
    strength: float = 1.0,
    start_from: Tensor | None = None,
    anchor: int = harmonize.ANCHOR_FACTOR,
    match_detail: bool = True,
) -> Iterator[Step]:
    """Sample a canvas whose pixels with soft == 0 are known (projected every step).

    strength < 1 starts the chain part-way down the ladder, as img2img does, from `start_from`
    (the canvas with the area to paint already coloured in) noised to that level, and, unless
    anchor is 0, keeps the painted area's colours at blocks of `anchor` px those of that start
    while the noise is high (harmonize.anchored). match_detail scales the painted area's fine
    detail down to that of the picture around it at the end (harmonize.match_detail)."""
    if method not in ("fast", "harmonized"):
        raise ValueError(f"method must be 'fast' or 'harmonized', got {method!r}")
    p, (height, width) = painter.p, image.shape[-2:]
    big_h, big_w = round_up(height, p), round_up(width, p)
    pad = (0, big_w - width, 0, big_h - height)  # edge-replicated, known strip to reach whole patches

    def whole_patches(x: Tensor) -> Tensor:  # edge-replicated out to the padded canvas
        x = x.to(painter.device).float()
        return F.pad(x, pad, mode="replicate") if any(pad) else x

    known = whole_patches(image)
    soft = F.pad(soft.to(painter.device), pad)
    r0, r1, c0, c1 = bounding_cells(soft, p, margin) if only_masked else (0, big_h // p, 0, big_w // p)
    if not (soft > 0).any():
        raise ValueError("the mask is empty: paint the area to repaint")
    crop = (..., slice(r0 * p, r1 * p), slice(c0 * p, c1 * p))
    s = painter.settings(
        steps=steps,
        guidance=guidance,
        eta=eta,
        grid=grid,
        sampler=sampler,
        guidance_interval=guidance_interval,
        ladder_end=ladder_end,
    )
    n = denoise_steps(s["steps"], strength)
    if n == 0:
        raise ValueError(f"strength {strength} repaints nothing in {s['steps']} steps: raise the strength")
    den = painter.denoiser(mode, chunk=chunk, grid=s["grid"], grid_seed=seed)
    den.window = (r0, c0, big_h // p, big_w // p)
    # Edits paint with the global code of the picture being edited (unless given one), so the new
    # area takes its palette and texture; a code sampled from the latent model would not match it.
    eps_fn = painter.guided(den, z if z is not None else painter.encode_style(known[..., :height, :width]), s)
    gen = torch.Generator().manual_seed(patch_seed(seed, -3, -3))
    levels = painter.levels(s)
    levels = levels[len(levels) - n :]
    path = repaint_path(levels, jump, resample) if method == "harmonized" else levels
    project = projection(painter.schedule, known[crop], soft[crop], gen)
    origin = (noise_origin[0] + r0, noise_origin[1] + c0)
    x = painter.initial_noise(seed, (r1 - r0) * p, (c1 - c0) * p, origin=origin)
    if strength < 1:
        start = known if start_from is None else whole_patches(start_from)
        x = painter.schedule.q_sample(start[crop], levels[0], x)
        if anchor:
            project = harmonize.anchored(project, painter.schedule, start[crop], soft[crop], gen, factor=anchor)
    x = project(x, levels[0])
    solve = get_sampler(s["sampler"])
    for step in solve(eps_fn, x, painter.schedule, path=path, eta=s["eta"], generator=gen, project=project):
        if (r0, r1, c0, c1) != (0, big_h // p, 0, big_w // p):
            step.x, step.x0 = _paste(known, step.x, crop), _paste(known, step.x0, crop)
        if step.t < 0 and match_detail:  # the finished canvas
            step.x = step.x0 = harmonize.match_detail(step.x, soft)
        step.x, step.x0 = step.x[..., :height, :width], step.x0[..., :height, :width]
        yield step


def _paste(canvas: Tensor, part: Tensor, crop: tuple) -> Tensor:
    out = canvas.clone()
    out[crop] = part
    return out
