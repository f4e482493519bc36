"""`train-layout`: train the layout model (`generate --composition layout-model`) on a folder of wallpapers."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..model.layout import LayoutConfig, load_layout_model
from ..runtime import checks
from ..runtime.devices import pick_device
from ..runtime.sizes import parse_size
from ..training.layout import train_layout


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    num = checks.arg
    p.add_argument("--data", type=Path, required=True, help="folder of training wallpapers (any size)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the layout model to write (.safetensors; generate finds WEIGHTS-layout.safetensors by itself)",
    )
    p.add_argument("--steps", type=num("steps", integer=True, lo=1, hi=10**9), default=100_000, help="optimizer steps")
    p.add_argument(
        "--minutes", type=num("minutes", lo=0.01, hi=10**6), default=None, help="stop (and save) after this wall time"
    )
    p.add_argument("--batch-size", type=num("batch-size", integer=True, lo=1, hi=4096), default=32)
    p.add_argument("--lr", type=num("lr", lo=1e-9, hi=1), default=1e-3, help="AdamW learning rate")
    p.add_argument(
        "--channels",
        type=num("channels", integer=True, lo=2, hi=512),
        default=LayoutConfig.channels,
        help="width of the network's first level (the default makes 3.0 M parameters)",
    )
    p.add_argument(
        "--thumb",
        type=parse_size,
        default=(LayoutConfig.thumb[1], LayoutConfig.thumb[0]),
        help="the layouts' size WxH (a canvas's layout is this thumbnail, enlarged)",
    )
    p.add_argument(
        "--save-minutes", type=num("save-minutes", lo=0.01, hi=10**6), default=5.0, help="minutes between saves"
    )
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        help="continue from this layout model (its config; --thumb and --channels are not used then)",
    )
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda > mps > cpu)")
    p.add_argument("--seed", type=num("seed", integer=True, lo=0, hi=checks.MAX_SEED), default=0)


def main(args: argparse.Namespace) -> int:
    if not args.data.is_dir():
        raise ValueError(f"--data {args.data} is not a folder of pictures")
    checks.output_file(args.out, ".safetensors", "--out")
    init = load_layout_model(args.init) if args.init else None
    if init is not None:
        print(f"continuing from {args.init} ({init.metadata.get('train_steps', '?')} steps)")
    width, height = args.thumb
    cfg = LayoutConfig(thumb=(height, width), channels=args.channels, heads=2 if args.channels % 2 == 0 else 1)
    train_layout(
        args.data,
        args.out,
        cfg=cfg,
        steps=args.steps,
        minutes=args.minutes,
        batch=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        save_minutes=args.save_minutes,
        init=init,
        device=pick_device(args.device),
    )
    return 0
