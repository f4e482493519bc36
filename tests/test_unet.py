from __future__ import annotations

import pytest
import torch

from patchdm_core import paper, tiny
from patchdm_core.collage import Grid, pad_half_patch, to_patches
from patchdm_core.model import count_parameters
from patchdm_core.unet import PatchUNet

from .conftest import randomize_zero_inits


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
