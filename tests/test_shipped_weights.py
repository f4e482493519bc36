"""Slow tests on the shipped demo weights (marker `slow`): what a user of `make run` gets.

The seam goals are met at the default sampler settings (DPM++ 2M, 12 steps, random grid) and asserted
as goals. The edit border goal (ratio <= 1.2) is met by outpainting (colour anchor and detail
matching, harmonize.py) and asserted; inpainting does not reach it with this briefly trained model
(weights/README.md has the figures): those tests pin what it does reach, a little above the measured
value, so a regression still fails them; the exactness properties (known pixels come back) are
asserted in full."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from patchdm_core import PatchDM, run
from patchdm_core.cli.common import DEFAULT_WEIGHTS
from patchdm_core.editing.regions import feather
from patchdm_core.evaluation.metrics import grain, lattice_score, mask_seam_score, seam_score, wrap_seam_score
from patchdm_core.runtime.images import from_pil

pytestmark = pytest.mark.slow
ASSETS = Path(__file__).resolve().parent.parent / "assets"
# The v2 issue's goal. v1.3 with the structure fill: fast 1.26, harmonized 1.18 (push-pull fill: 1.76, 1.98)
INPAINT_MAX = 1.5
SEAM_MAX, LATTICE_MAX = 1.2, 1.5  # the sampler issue's goal; held-out pictures score 1.0-1.25 on both


@pytest.fixture(scope="module")
def pipe() -> PatchDM:
    torch.set_num_threads(2)
    return PatchDM.load(DEFAULT_WEIGHTS, device="cpu")


def test_the_first_pictures_a_user_gets_are_not_near_black(pipe: PatchDM) -> None:
    """The README's `--seed 1` (and the app's first seeds): the prior leaves the darkest training pictures
    out (`train-latent --min-luminance 0.2`), which this model painted as near-black fields (seed 1: 0.061
    before). Measured: mean luminance of seeds 0-47 at 256x128 0.178-0.864 (before: 0.061-0.896, 4 below 0.1)."""
    from patchdm_core.training.latent import luminance

    assert float(pipe.metadata["latent_min_luminance"]) == 0.2
    lums = []
    for seed in range(6):
        lums.append(float(luminance(run(pipe.generate(128, 256, seed=seed)))[0]))
    assert lums[1] > 0.3 and min(lums) > 0.15, lums


def test_the_weights_describe_themselves(pipe: PatchDM) -> None:
    assert pipe.cfg.name == "patchdm-demo" and pipe.cfg.patch_size == 64
    assert pipe.cfg.train.t_max == 150 and pipe.cfg.train.freeze_encoder  # v1.3: the low-noise pass last
    assert int(pipe.metadata["train_steps"]) > 0 and pipe.metadata["latent_steps"]
    assert pipe.model.latent.ready  # generate without a reference picture samples z
    assert DEFAULT_WEIGHTS.stat().st_size < 25e6


def test_the_default_sampler_hides_the_patch_grid(pipe: PatchDM) -> None:
    """Default settings (DPM++ 2M, 12 steps, random grid): no lattice on the canvas grid or off it, and
    the paper's ablation order feature < pixel < naive at the same seed and steps."""
    assert (pipe.cfg.sampling.sampler, pipe.cfg.sampling.grid, pipe.cfg.sampling.steps) == ("dpmpp-2m", "random", 12)
    x = run(pipe.generate(256, 512, seed=2))  # the model's default steps, guidance, solver and grid rule
    pixel = run(pipe.generate(256, 512, seed=2, mode="pixel"))
    naive = run(pipe.generate(256, 512, seed=2, mode="naive"))
    seam, lattice = seam_score(x, pipe.p), lattice_score(x, pipe.p)
    seam_pixel, seam_naive = seam_score(pixel, pipe.p), seam_score(naive, pipe.p)
    print(f"512x256 seed 2: seam {seam:.3f} lattice {lattice:.3f}; pixel {seam_pixel:.3f}, naive {seam_naive:.3f}")
    assert seam <= SEAM_MAX and lattice <= LATTICE_MAX
    assert seam < seam_pixel < seam_naive
    assert x.std() > 0.05  # a picture, not a flat grey field
    assert grain(x) < 12  # v1.2 paints about the held-out pictures' fine detail (9.5 here; v1.1 20.6)
    assert torch.equal(x, run(pipe.generate(256, 512, seed=2)))  # random offsets come from the seed


def test_outpainting_keeps_the_old_picture(pipe: PatchDM) -> None:
    """At the default strength (0.7) the new strip starts from the border's colours mirrored outward,
    held to them while the noise is high, its detail matched to the picture's: measured with v1.3 border
    score 0.48 and a mean colour 0.043 from the old picture's last 64 px (v1.2 0.62 / 0.033; v1.2 without
    the anchor and the matching 1.68 / 0.060; v1.1 2.01 / 0.078; from pure noise 2.75 / 0.210)."""
    image = from_pil(Image.open(ASSETS / "volna-1024x512.jpg").resize((512, 256)))
    out = run(pipe.outpaint(image, (0, 128, 0, 0), seed=2, feather_px=32))
    keep = torch.zeros(1, 1, *out.shape[-2:])
    keep[..., :, :512] = 1
    ratio = mask_seam_score(out, keep)
    colour = float((out[..., 512:576].mean((-1, -2)) - image[..., 448:512].mean((-1, -2))).abs().mean())
    print(f"outpaint border ratio: {ratio:.3f}, colour step {colour:.3f} (goal 1.2; measured 0.48, 0.043)")
    assert out.shape[-1] == 640 and ratio <= 1.2 and colour <= 0.06
    assert out[..., 512:].std() > 0.05  # the new strip is painted, not a flat fill
    assert torch.equal(out[..., :, :400].mul(127.5).round(), image[..., :, :400].mul(127.5).round())


def test_tileable_output_wraps_around(pipe: PatchDM) -> None:
    tiled = run(pipe.generate(256, 512, seed=4, tileable=True))
    plain = run(pipe.generate(256, 512, seed=4))
    wrap, no_wrap = wrap_seam_score(tiled), wrap_seam_score(plain)
    print(f"wrap seam: tileable {wrap:.3f}, plain {no_wrap:.3f} (goal: tileable <= 1.20)")
    assert wrap <= 1.2 and wrap < 0.6 * no_wrap


def test_a_tile_off_the_patch_grid_wraps_on_both_axes(pipe: PatchDM) -> None:
    """200x136 is painted on 192x128 and resampled with wrap-around (a centre crop of 256x192 cut the
    period). Measured, mean of seeds 0-3: x 0.93, y 1.03; 360x200 over 6 seeds x 1.03, y 1.13 (the old crop:
    4.35, 8.15). One line alone varies (interior lines' 90th percentile 1.25-1.3), hence the mean."""
    wraps = {"x": [], "y": []}
    for seed in range(4):
        tile = run(pipe.generate(136, 200, seed=seed, tileable=True))
        assert tile.shape[-2:] == (136, 200)
        for axis, values in wraps.items():
            values.append(wrap_seam_score(tile, axis))
    means = {axis: sum(v) / len(v) for axis, v in wraps.items()}
    print(f"off-grid wrap seam, mean of 4 seeds: {means} (goal <= 1.2)")
    assert max(means.values()) <= 1.2, wraps


def test_inpainting_a_held_out_picture_keeps_the_rest(pipe: PatchDM) -> None:
    image = from_pil(Image.open(ASSETS / "volna-1024x512.jpg").resize((512, 256)))
    keep = torch.ones(1, 1, 256, 512)
    keep[..., 80:176, 200:360] = 0
    out = run(pipe.inpaint(image, keep, seed=3, blur=8))
    band = feather(1 - keep, 8) > 0
    same = (out.mul(127.5).round() == image.mul(127.5).round()) | band
    ratio = mask_seam_score(out, keep)
    print(f"inpaint (fast) border ratio: {ratio:.3f} (goal {INPAINT_MAX}; v1.3 1.26, push-pull fill 1.76)")
    assert same.all() and ratio <= INPAINT_MAX


def test_harmonized_inpainting_joins_the_border(pipe: PatchDM) -> None:
    image = from_pil(Image.open(ASSETS / "volna-1024x512.jpg").resize((512, 256)))
    keep = torch.ones(1, 1, 256, 512)
    keep[..., 64:192, 192:320] = 0
    out = run(pipe.inpaint(image, keep, seed=5, blur=8, method="harmonized", steps=20, jump=5, resample=3))
    ratio = mask_seam_score(out, keep)
    print(f"inpaint (harmonized) border ratio: {ratio:.3f} (goal {INPAINT_MAX}; v1.3 1.18, push-pull fill 1.98)")
    band = feather(1 - keep, 8) > 0
    assert ((out.mul(127.5).round() == image.mul(127.5).round()) | band).all() and ratio <= INPAINT_MAX


def test_a_colour_sketch_keeps_its_layout_and_strength_lets_go_of_it(pipe: PatchDM) -> None:
    """Issue goal: at strength 0.6 the 16x-downsampled picture is within 0.15 MAD of the sketch's, and
    the picture departs further at 0.9 (bench/steering.py measures it at 1024x512)."""
    import torch.nn.functional as F

    from bench.steering import layout_sketch

    sketch = layout_sketch(512, 256)
    target = F.avg_pool2d((from_pil(sketch) + 1) / 2, 16)
    mads = {}
    for strength in (0.0, 0.6, 0.9):
        out = run(pipe.img2img(sketch, strength=strength, seed=1))
        mads[strength] = float((F.avg_pool2d((out + 1) / 2, 16) - target).abs().mean())
    print(f"layout MAD at strength 0 / 0.6 / 0.9: {mads}")
    assert mads[0.0] < 0.01 < mads[0.6] <= 0.15 and mads[0.6] < mads[0.9]


def test_the_shipped_layout_model_proposes_new_layouts_with_large_shapes() -> None:
    """`--composition layout-model`: its layouts are new (none a copy of a training picture's thumbnail or its
    mirror: bench/layout_model.py measured 0.12 RMS at the nearest over 64 seeds, held-out pictures 0.23), of
    large smooth regions (smooth share 0.68 there; held-out 0.53) and of several palettes."""
    from patchdm_core.composition.sources import LayoutBank, bank_beside, layout_of, model_beside
    from patchdm_core.evaluation.metrics import smooth_share
    from patchdm_core.model.layout import load_layout_model

    model = load_layout_model(model_beside(DEFAULT_WEIGHTS))
    assert model.metadata["final"] == "true" and int(model.metadata["train_steps"]) > 3000
    bank = LayoutBank.load(bank_beside(DEFAULT_WEIGHTS)).thumbs
    layouts = torch.cat([layout_of(model, seed, 32, 64) for seed in range(8)])
    pool = torch.cat([bank, bank.flip(-1)]).flatten(1)
    nearest = torch.cdist(layouts.flatten(1), pool).min(dim=1).values / pool.shape[1] ** 0.5
    assert nearest.min() > 0.05, nearest
    big = torch.nn.functional.interpolate(layouts, size=(256, 512), mode="bicubic").clamp(-1, 1)
    assert sum(smooth_share(x) for x in big) / len(big) > 0.4
    assert layouts.mean(dim=(2, 3)).std(dim=0).mean() > 0.1  # the seeds' palettes differ


def test_structure_guidance_gives_the_canvas_the_layouts_large_shapes() -> None:
    """At full strength the last step's x is the last prediction with the layout's low band swapped in, so
    L(x) - L(layout) = (L - L^2)(x0 - layout): a Gaussian L leaves under 3% of a difference at scales of four
    bands and more (64-px blocks at band 16), and the shipped model's predictions stay inside [-1, 1], where
    the clamp after the swap moves nothing. Measured 0.010 mean and 0.026 worst on the [-1, 1] scale for two
    seeds; 0.05 is 4% of what separates this layout's sky from its field, and plain generate is off by 0.6."""
    import torch.nn.functional as F

    from patchdm_core.sampling.structure import Structure
    from tests.sampling.test_structure import _layout

    pipe = PatchDM.load(DEFAULT_WEIGHTS, device="cpu")
    layout = _layout(256, 512)
    z = pipe.default_z(1)
    canvas = run(pipe.generate(256, 512, seed=1, z=z, layout=layout, structure=Structure(band=16)))
    plain = run(pipe.generate(256, 512, seed=1, z=z))
    blocks = lambda x: F.avg_pool2d(x, 64)  # noqa: E731
    assert (blocks(canvas) - blocks(layout)).abs().max() < 0.05
    assert (blocks(plain) - blocks(layout)).abs().mean() > 0.3
    off = run(pipe.generate(256, 512, seed=1, z=z, layout=layout, structure=Structure(strength=0.0)))
    assert torch.equal(off, plain)  # strength 0 is plain generate, bit for bit
