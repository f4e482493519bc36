from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from patchdm_core.runtime.pictures import crops_of
from patchdm_core.training.data import ImageFolderWindows
from tests.helpers import image_folder, smooth_picture


def _dataset(root, **kw) -> ImageFolderWindows:
    return ImageFolderWindows(root, (32, 64), 16, (8, 16), **kw)


def test_odd_files_are_converted_or_skipped(tmp_path, capsys) -> None:
    root = image_folder(tmp_path / "d", n=1)
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    data = np.asarray(smooth_picture(1).convert("RGB"))
    truncated = root / "truncated.jpg"
    smooth_picture(2).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    Image.fromarray(data[..., 0]).save(root / "grey.png")
    rgba = np.dstack([data, np.full(data.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(root / "rgba.png")
    Image.fromarray(data[..., 1].astype(np.uint16) * 257).save(root / "deep16.png")
    smooth_picture(3).convert("P").save(root / "palette.png")
    (root / "notes.txt").write_text("not an image")
    ds = _dataset(root)
    err = capsys.readouterr().err
    assert len(ds) == 5  # plain, grey, rgba, 16-bit, palette
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert (
        len(warnings) == 2 and any("corrupt.png" in w for w in warnings) and any("truncated.jpg" in w for w in warnings)
    )
    grey = ds.image(ds.sources.index(str(root / "grey.png")))
    assert torch.equal(grey[:, 0], grey[:, 1])  # greyscale became 3 equal channels
    deep = ds.image(ds.sources.index(str(root / "deep16.png")))
    assert deep.std() > 0.05  # 16-bit scaled to 8, not clipped to white


def test_empty_and_missing_folders_are_clear_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="data folder not found"):
        _dataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        _dataset(tmp_path / "empty")


def test_windows_masks_and_origins(tmp_path) -> None:
    ds = _dataset(image_folder(tmp_path / "d", n=3), hflip=False)
    b = ds.sample(64, torch.Generator().manual_seed(0))
    assert b.x0.shape == (64, 3, 32, 32) and b.mask.shape == (64, 1, 32, 32) and b.view.shape == (64, 3, 8, 16)
    assert b.origin[:, 0].max() <= 1 and b.origin[:, 1].max() <= 3 and len(set(map(tuple, b.origin.tolist()))) > 4
    for k in range(8):
        i, (oy, ox) = int(b.index[k]), (int(v) for v in b.origin[k])
        padded = torch.nn.functional.pad(ds.image(i), (8, 8, 8, 8))
        torch.testing.assert_close(b.x0[k], padded[0, :, oy * 16 : oy * 16 + 32, ox * 16 : ox * 16 + 32])
        assert (b.x0[k] * (1 - b.mask[k])).abs().max() == 0
    corner = b.mask[(b.origin == 0).all(dim=1)]
    assert corner.numel() and corner[:, :, :8].max() == 0 and corner[:, :, 8:, 8:].min() == 1


def test_flip_mirrors_window_and_view(tmp_path) -> None:
    ds = _dataset(image_folder(tmp_path / "d", n=1), hflip=True)
    b = ds.sample(200, torch.Generator().manual_seed(1))
    mirrored = torch.nn.functional.pad(ds.image(0).flip(-1), (8, 8, 8, 8))[0]
    flipped = (b.view - ds.views[0]).abs().amax(dim=(1, 2, 3)) > 0
    assert 0.3 < flipped.float().mean() < 0.7
    k = int(flipped.nonzero()[0])
    oy, ox = (int(v) for v in b.origin[k])
    torch.testing.assert_close(b.x0[k], mirrored[:, oy * 16 : oy * 16 + 32, ox * 16 : ox * 16 + 32])


def test_multi_crops_of_a_square_picture() -> None:
    img = smooth_picture(0, (128, 128))
    assert len(crops_of(img, (32, 64), "center")) == 1
    crops = crops_of(img, (32, 64), "multi")
    assert len(crops) == 2 and all(c.shape == (32, 64, 3) for c in crops)
    assert not np.array_equal(crops[0], crops[1])


def test_cache_is_reused(tmp_path) -> None:
    root = image_folder(tmp_path / "d", n=2)
    a = _dataset(root, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1
    b = _dataset(root, cache_dir=tmp_path / "cache")
    assert torch.equal(a.padded, b.padded) and a.sources == b.sources


def test_seam_aware_windows_on_the_grid_and_at_any_pixel(tmp_path) -> None:
    ds = _dataset(image_folder(tmp_path / "d", n=2), hflip=False)
    gen = torch.Generator().manual_seed(0)
    for offsets in ("grid", "pixel"):
        b = ds.sample(64, gen, window=3, offsets=offsets)
        assert b.x0.shape == (64, 3, 48, 48) and b.mask.shape == (64, 1, 48, 48)
        start = (b.origin * 16).round().long()
        assert torch.allclose(start.float(), b.origin * 16)  # the origin is the window's top-left pixel / p
        assert (start[:, 0] == 0).all() and start[:, 1].max() <= 32  # inside the 48 x 80 padded image
        for k in range(6):
            (sy, sx), i = start[k].tolist(), int(b.index[k])
            padded = torch.nn.functional.pad(ds.image(i), (8, 8, 8, 8))[0]
            torch.testing.assert_close(b.x0[k], padded[:, sy : sy + 48, sx : sx + 48])
        on_grid = (start[:, 1] % 16 == 0).float().mean()
        assert on_grid == 1 if offsets == "grid" else on_grid < 0.5  # pixel offsets leave the grid
    with pytest.raises(ValueError, match="4x4-patch training window does not fit a 64x32"):
        ds.sample(2, gen, window=4)
