"""How much memory a painting job needs, estimated from the model's config before anything is allocated.

A job that cannot fit should be refused in a sentence, not die in the allocator after the model is loaded
(a 65536x65536 canvas asked torch for 51.5 GB for its first tensor). The canvas denoiser streams patch rows
(denoiser.py), so what grows with the canvas is:
- canvas-sized float32 tensors: at the peak of a guided step the sample x, the previous prediction x0_prev
  (multistep solvers), and inside the denoiser the moved (padded) copy of [x; x] and the network's output
  for it before and after its crop: 2 + 3 x 2 copies; an unguided step has 2 + 3. CANVAS_SPARE more for a
  steering hook (palette, structure) and the solver's temporaries.
- the encoder features of one band of patch rows: the previous row, the current band and its collage.
- one chunk of patches through the decoder (its activations, a few times its features).
The model's own weights and the process (torch, the app) are not counted: the check compares with the memory
this machine still has free, which already leaves those out.
"""

from __future__ import annotations

from ..model.config import PatchDMConfig, UNetConfig

CANVAS_SPARE = 2  # canvas copies for steering hooks and the solver's temporaries
DECODER_FACTOR = 4  # a chunk's decoder activations, as a multiple of its features (the skip concatenations)


def feature_floats(unet: UNetConfig) -> int:
    """Floats of one patch's encoder features (every skip map and the middle block's output)."""
    side, widths = unet.patch_size, [unet.model_channels * m for m in unet.channel_mult]
    total = widths[0] * side * side  # the stem
    for level, width in enumerate(widths):
        total += unet.res_blocks * width * side * side
        if level < len(widths) - 1:
            side //= 2
            total += width * side * side  # the downsampling block's output
    return total + widths[-1] * side * side  # the middle block


def canvas_copies(guided: bool) -> int:
    """Canvas-sized float32 tensors alive at a step's peak (module doc)."""
    return 2 + 3 * (2 if guided else 1) + CANVAS_SPARE


def job_bytes(
    cfg: PatchDMConfig, height: int, width: int, *, batch: int = 1, guided: bool = True, chunk: int = 64
) -> int:
    """Bytes a height x width job of `batch` canvases needs beyond the loaded model (an estimate, module doc)."""
    p = cfg.patch_size
    rows, cols = -(-height // p) + 1, -(-width // p) + 1  # the grid moved off the canvas: one more of each
    passes = batch * (2 if guided else 1)
    canvas = 3 * rows * p * cols * p * 4
    band = max(1, chunk // (passes * cols))
    per_patch = feature_floats(cfg.unet) * 4
    features = (2 * min(band, rows) + 1) * cols * passes * per_patch
    decoder = min(chunk, passes * rows * cols) * per_patch * DECODER_FACTOR
    return batch * canvas_copies(guided) * canvas + features + decoder
