from __future__ import annotations

import pytest
import torch

from patchdm_core import PatchDM, run, tiny, to_pil


def test_generate_yields_steps_and_crops_to_the_asked_size(tiny_pipe: PatchDM) -> None:
    steps = list(tiny_pipe.generate(40, 50, seed=0, steps=3))
    assert [s.index for s in steps] == [0, 1, 2] and steps[-1].total == 3
    assert steps[-1].x.shape == (1, 3, 40, 50) and steps[-1].x0.shape == (1, 3, 40, 50)
    assert to_pil(steps[-1].x).size == (50, 40)


def test_same_seed_same_image_other_seed_differs(tiny_pipe: PatchDM) -> None:
    a = run(tiny_pipe.generate(32, 48, seed=7, steps=3))
    b = run(tiny_pipe.generate(32, 48, seed=7, steps=3))
    c = run(tiny_pipe.generate(32, 48, seed=8, steps=3))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("tileable", [False, "x", True])
def test_moving_grid_and_stochastic_solvers_are_deterministic_per_seed(tiny_pipe: PatchDM, tileable) -> None:
    """Random grid offsets and eta noise come from the seed only: the same picture every time."""
    kw = dict(steps=4, grid="random", sampler="dpmpp-2m", eta=0.5, tileable=tileable, guidance=2.0)
    a = run(tiny_pipe.generate(48, 64, seed=7, **kw))
    b = run(tiny_pipe.generate(48, 64, seed=7, chunk=3, **kw))  # batching the network differently changes nothing
    c = run(tiny_pipe.generate(48, 64, seed=8, **kw))
    # fp32 convolutions round differently per batch size (~3e-6 per call); the untrained net's 4 guided
    # steps amplify that to ~2e-4. A batching bug (a patch decoded with another's features) is O(1).
    torch.testing.assert_close(a, b, atol=1e-3, rtol=0)
    assert torch.equal(a, run(tiny_pipe.generate(48, 64, seed=7, **kw))) and not torch.allclose(a, c)
    fixed = run(tiny_pipe.generate(48, 64, seed=7, **{**kw, "grid": "fixed"}))
    assert not torch.allclose(a, fixed)  # the grid really moved


def test_initial_noise_is_per_patch(tiny_pipe: PatchDM) -> None:
    """Growing the canvas keeps the noise of the patches that were already there."""
    p = tiny_pipe.p
    small = tiny_pipe.initial_noise(5, 2 * p, 3 * p)
    big = tiny_pipe.initial_noise(5, 3 * p, 5 * p)
    assert torch.equal(big[..., : 2 * p, : 3 * p], small)
    left_grown = tiny_pipe.initial_noise(5, 2 * p, 4 * p, origin=(0, -1))
    assert torch.equal(left_grown[..., p:], small)
    assert not torch.equal(tiny_pipe.initial_noise(6, 2 * p, 3 * p), small)
    assert abs(big.std().item() - 1) < 0.1


def test_modes_and_tileable_run(tiny_pipe: PatchDM) -> None:
    for mode in ("feature", "pixel", "naive", "sliding"):
        x = run(tiny_pipe.generate(32, 32, seed=1, steps=2, mode=mode))
        assert x.shape == (1, 3, 32, 32) and torch.isfinite(x).all()
    x = run(tiny_pipe.generate(32, 48, seed=1, steps=2, tileable=True))
    assert x.shape == (1, 3, 32, 48)


def test_random_init_is_seeded() -> None:
    a = PatchDM.random_init(tiny(), device="cpu", seed=3).model.state_dict()
    b = PatchDM.random_init(tiny(), device="cpu", seed=3).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_v_prediction_models_convert_to_eps() -> None:
    from patchdm_core import demo

    assert PatchDM.random_init(demo()).denoiser().prediction == "v"
    assert PatchDM.random_init(tiny()).denoiser().prediction == "eps"
