"""Image-to-image (SDEdit) and upscale as functions of a Painter (their pieces are in img2img.py): the
picture noised to the level a strength picks on the solver's ladder, then the same loop generate runs;
a sketch with transparent parts goes through the editing projection (edits.masked) instead. And the
structure hook of a layout on the canvas a painter paints (sampling/structure.py)."""

from __future__ import annotations

from collections.abc import Iterator

import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from ..runtime.images import from_pil
from ..sampling.painter import SETTINGS, Painter, check_canvas, wrap_axes
from ..sampling.solvers import Step, X0Fn
from ..sampling.structure import Structure, StructureSteer
from .edits import masked
from .img2img import check_strength, denoise_steps, place, resize, sketch_strength, split_alpha


def img2img(
    painter: Painter,
    image: Tensor | Image.Image,
    *,
    strength: float,
    seed: int,
    size: tuple[int, int] | None = None,
    z: Tensor | None = None,
    offload: bool | None = None,
    x0_fn: X0Fn | None = None,
    **kw,
) -> Iterator[Step]:
    """Repaint a picture (or sketch) at `size` = (height, width) (default: its own) with `strength` in
    [0, 1]: 0 gives it back, 1 is `generate` with its global code (or `z`). A PIL picture's transparent
    parts are painted freely (strength 1 there). `x0_fn` steers every prediction (a structure or palette
    hook). kw: steps, guidance, eta, grid, sampler, guidance_interval, mode, tileable, chunk, positions,
    stride."""
    strength = check_strength(strength)
    alpha = None
    if isinstance(image, Image.Image):
        picture, alpha = split_alpha(image)
        image = from_pil(picture)
    height, width = size or tuple(image.shape[-2:])
    check_canvas(height, width, kw.get("mode", "feature"), kw.get("tileable", False))
    x = resize(image.float().cpu(), height, width).to(painter.device)
    z = painter.encode_style(x) if z is None else z
    s = painter.settings(**{k: kw.pop(k, None) for k in SETTINGS})
    if alpha is not None:  # per-pixel strength: the repaint projection of the editing tools does it
        soft = sketch_strength(F.interpolate(alpha, (height, width), mode="bilinear"), strength)
        # a sketch's own flat colours are no measure of the detail to paint: no detail matching
        mode, chunk = kw.get("mode", "feature"), kw.get("chunk")
        yield from masked(painter, x, soft, seed=seed, z=z, **s, mode=mode, chunk=chunk, match_detail=False)
        return
    n = denoise_steps(s["steps"], strength)
    if n == 0:
        yield Step(0, 1, -1, x, x)  # nothing to denoise: the (resized) picture itself
        return
    tileable = kw.get("tileable", False)
    big_h, big_w = painter.grid_size(height, width, tileable)
    noise = painter.initial_noise(seed, big_h, big_w, device=painter.canvas_device(big_h, big_w, offload))
    path = painter.levels(s)
    start = len(path) - n
    if start > 0:  # strength 1 starts from pure noise, exactly as generate does
        canvas, _ = place(x, big_h, big_w, wrap_axes(tileable))
        noise = painter.schedule.q_sample(canvas.to(noise.device), path[start], noise)
    yield from painter.paint(noise, (height, width), seed=seed, z=z, s=s, start=start, x0_fn=x0_fn, **kw)


UPSCALE_STRENGTH = 0.4  # img2img's: more starts to lose the picture
UPSCALE_DETAIL_STRENGTH = 0.6  # with the picture's low band held (how="structure"): more new detail, same picture


def upscale(
    painter: Painter,
    image: Tensor | Image.Image,
    *,
    seed: int,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    strength: float | None = None,
    how: str = "structure",
    **kw,
) -> Iterator[Step]:
    """ "Hires fix": Lanczos to `size` = (height, width) or `scale` x the picture, then repainted from the
    resized picture noised at `strength`. how "img2img" stops there (a low strength keeps the picture and adds
    little); "structure" also holds the picture's low band, everything coarser than its own enlarged pixels,
    at every step (structure guidance, band 4 x the scale), so a higher strength paints new detail at the
    new pixel scale without moving the picture."""
    if how not in ("img2img", "structure"):
        raise ValueError(f"upscale how must be 'img2img' or 'structure', got {how!r}")
    h, w = (image.height, image.width) if isinstance(image, Image.Image) else tuple(image.shape[-2:])
    if size is None:
        if scale is None or not scale > 0:
            raise ValueError("give a scale > 0 or a target size")
        size = (round(h * scale), round(w * scale))
    if strength is None:
        strength = UPSCALE_DETAIL_STRENGTH if how == "structure" else UPSCALE_STRENGTH
    if how == "structure":
        picture = from_pil(image.convert("RGB")) if isinstance(image, Image.Image) else image
        factor = max(size[0] / h, size[1] / w)
        band = max(4, round(4 * factor))
        resized = resize(picture.float().cpu(), *size)
        tile = kw.get("tileable", False)
        kw["x0_fn"] = structure_steer(painter, resized, *size, Structure(band=band), tileable=tile)
    return img2img(painter, image, size=size, strength=strength, seed=seed, **kw)


def structure_steer(
    painter: Painter,
    layout: Tensor,
    height: int,
    width: int,
    structure: Structure,
    *,
    tileable: bool | str = False,
    weight: Tensor | None = None,
) -> StructureSteer:
    """The structure hook of a layout [1, 3, h, w] (any size: resized to height x width, then placed on the
    whole-patch canvas the painter paints, as img2img places a picture); `weight` [1, 1, h, w] in [0, 1]
    says where it counts (a sketch's alpha), resized the same way."""
    wrap = wrap_axes(tileable)
    big_h, big_w = painter.grid_size(height, width, tileable)
    canvas, _ = place(resize(layout.float().cpu(), height, width), big_h, big_w, wrap)
    if weight is not None:
        weight, _ = place(F.interpolate(weight.float(), (height, width), mode="bilinear"), big_h, big_w, wrap)
    s = structure
    return StructureSteer(
        canvas, band=s.band, strength=s.strength, t_stop=s.t_stop, t_full=s.t_full, weight=weight, wrap=wrap
    )
