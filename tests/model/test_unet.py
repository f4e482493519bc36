from __future__ import annotations

import pytest
import torch

from patchdm_core import paper, tiny
from patchdm_core.model.collage import Grid, pad_half_patch, to_patches
from patchdm_core.model.patchdm import count_parameters
from patchdm_core.model.unet import PatchUNet
from tests.conftest import randomize_zero_inits


@pytest.fixture(scope="module")
def unet() -> PatchUNet:
    torch.manual_seed(0)
    net = PatchUNet(tiny().unet).eval()
    randomize_zero_inits(net)
    return net


def _call(net: PatchUNet, x: torch.Tensor, grid: Grid, origin: torch.Tensor, t: int = 300, **kw):
    b = origin.shape[0]
    z = torch.randn(b, net.cfg.z_dim, generator=torch.Generator().manual_seed(5))
    on = torch.ones(b, dtype=torch.bool)
    return net(x, torch.full((b,), t), grid, z, on, on, origin, **kw)


@pytest.mark.parametrize("rows,cols", [(2, 2), (3, 4), (5, 2)])
def test_shapes(unet: PatchUNet, rows: int, cols: int) -> None:
    p = unet.cfg.patch_size
    x = torch.randn(2 * rows * cols, 3, p, p)
    out = _call(unet, x, Grid(rows, cols), torch.zeros(2, 2), return_unshifted=True)
    assert out.shifted.shape == (2 * (rows - 1) * (cols - 1), 3, p, p)
    assert out.unshifted.shape == x.shape
    assert torch.isfinite(out.shifted).all()


def test_shifted_cell_equals_its_four_parents_alone(unet: PatchUNet) -> None:
    """Train/inference consistency: a cell inside an R x Q grid == a 2x2 forward on its parents."""
    p, rows, cols = unet.cfg.patch_size, 4, 5
    canvas = pad_half_patch(torch.randn(1, 3, rows * p, cols * p), p)
    with torch.no_grad():
        full = _call(unet, to_patches(canvas, p), Grid(rows + 1, cols + 1), torch.zeros(1, 2)).shifted
        for i, j in [(0, 0), (1, 2), (3, 4), (2, 0)]:
            window = canvas[..., i * p : (i + 2) * p, j * p : (j + 2) * p]
            alone = _call(unet, to_patches(window, p), Grid(2, 2), torch.tensor([[float(i), float(j)]])).shifted
            torch.testing.assert_close(alone[0], full[i * cols + j], atol=1e-5, rtol=1e-4)


def test_conditioning_matters(unet: PatchUNet) -> None:
    p = unet.cfg.patch_size
    x = torch.randn(4, 3, p, p)
    with torch.no_grad():
        a = _call(unet, x, Grid(2, 2), torch.zeros(1, 2)).shifted
        b = _call(unet, x, Grid(2, 2), torch.ones(1, 2)).shifted  # other position
        c = _call(unet, x, Grid(2, 2), torch.zeros(1, 2), t=600).shifted
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


def test_paper_parameter_count_matches_official() -> None:
    n = count_parameters(PatchUNet(paper().unet))
    print(f"paper() PatchUNet parameters: {n / 1e6:.2f} M (official 71.40 M)")
    assert abs(n - 71.40e6) / 71.40e6 < 0.05


class _Calls(torch.overrides.TorchFunctionMode):
    """Records the torch functions called inside it."""

    def __enter__(self) -> set:
        super().__enter__()
        self.seen: set = set()
        return self.seen

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        self.seen.add(func)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("film", ["none", "scale-shift", "all"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_the_sampler_norm_is_the_plain_norm(film: str, channels_last: bool) -> None:
    """norm_silu's inference path (statistics once, one affine map, SiLU in place) == the plain ops,
    and the training path keeps gradients for every input (the plain ops)."""
    from patchdm_core.model.blocks import norm_silu

    gen = torch.Generator().manual_seed(1)
    norm = torch.nn.GroupNorm(4, 16)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5, generator=gen)
        norm.bias.normal_(generator=gen)
    x = torch.randn(3, 16, 8, 8, generator=gen) * 3 + 1
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    s, b, m = (torch.randn(3, 16, 1, 1, generator=gen) * 0.3 for _ in range(3))
    film_args = {"none": (), "scale-shift": (s, b), "all": (s, b, m)}[film]
    h = norm(x)
    h = h * (1 + s) + b if film != "none" else h
    h = h * (1 + m) if film == "all" else h
    want = torch.nn.functional.silu(h)
    with torch.no_grad(), _Calls() as calls:
        got = norm_silu(norm, x, *film_args)
    assert torch.addcmul in calls and torch.nn.functional.group_norm not in calls  # the one-pass path ran
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)
    assert got.is_contiguous(memory_format=torch.channels_last) == channels_last
    xg = x.clone().requires_grad_(True)
    norm_silu(norm, xg, *film_args).square().sum().backward()
    assert xg.grad is not None and norm.weight.grad is not None and xg.grad.abs().sum() > 0
