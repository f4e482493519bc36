"""One DDIM step of the official Patch-DM sampler on the CPU, from a local checkout of its code.

The official code (github.com/mlpc-ucsd/Patch-DM, no licence) is not part of this project: point
`--official` at your own checkout. Its training framework (pytorch_lightning 1.4) is not needed:
the paper's configuration is built by running the checkout's own `templates.py` functions
(`autoenc_base` -> `ffhq64_autoenc` -> `train_autoenc`) in its `config` module, the network by its
`make_model`, and the step by its sampler's `ddim_sample_loop_progressive` (unguided, as the paper's
config; random weights: the cost does not depend on their values). Needs einops and lmdb besides torch.
Prints seconds per step (the first step is a warm-up) and the peak RSS.

    python bench/official_step.py --official ../Patch-DM --size 1024x512 --steps 3
"""

from __future__ import annotations

import argparse
import ast
import resource
import sys
import time
from pathlib import Path

import torch


def paper_config(official: Path):  # noqa: ANN201 - the official TrainConfig
    sys.path.insert(0, str(official))
    import config  # the checkout's own module

    namespace = dict(vars(config))
    tree = ast.parse((official / "templates.py").read_text())
    wanted = {"autoenc_base", "ffhq64_autoenc", "train_autoenc"}
    body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted]
    exec(compile(ast.Module(body=body, type_ignores=[]), str(official / "templates.py"), "exec"), namespace)  # noqa: S102
    return namespace["train_autoenc"]()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", type=Path, required=True, help="a local checkout of the official code")
    ap.add_argument("--size", default="1024x512", help="canvas WxH")
    ap.add_argument("--steps", type=int, default=3, help="steps to time (the first is a warm-up)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = (int(v) for v in args.size.lower().split("x"))
    conf = paper_config(args.official.resolve())
    conf.patch_size = 64
    model = conf.make_model_conf().make_model().eval()
    sampler = conf._make_diffusion_conf(T=50).make_sampler()
    p = conf.patch_size
    rows, cols = height // p, width // p
    grid_y, grid_x = torch.meshgrid(
        torch.linspace(0, rows, rows + 1), torch.linspace(0, cols, cols + 1), indexing="ij"
    )  # positions of the padded grid's patches, as the official sampler expects them
    pos = torch.stack([grid_y, grid_x], dim=-1).flatten(0, 1)
    kwargs = {"cond": torch.randn(1, conf.style_ch), "imgs": None}
    steps = sampler.ddim_sample_loop_progressive(
        model, shapes=(1, 3, height, width), noise=torch.zeros(1, 3, p, p), pos=[pos], model_kwargs=kwargs
    )
    times = []
    with torch.no_grad():
        for _ in range(args.steps):
            start = time.perf_counter()
            next(steps)
            times.append(time.perf_counter() - start)
            print(f"official step: {times[-1]:.2f} s", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    params = sum(t.numel() for t in model.parameters()) / 1e6
    print(
        f"official paper config ({params:.1f} M parameters), {args.size}, threads {torch.get_num_threads()}: "
        f"{min(times[1:] or times):.2f} s per step (best of {len(times[1:]) or 1} after a warm-up), "
        f"peak RSS {rss:.2f} GiB"
    )


if __name__ == "__main__":
    main()
