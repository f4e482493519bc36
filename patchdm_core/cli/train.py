"""`train` and `train-latent`: their arguments, the config they build, and the runs (the training itself is in
training/loop.py and training/latent.py)."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from ..model.config import PatchDMConfig
from ..model.presets import load_config
from ..model.weights import CheckpointError
from ..runtime import checks
from ..runtime.devices import pick_device
from ..runtime.sizes import parse_size
from ..training.latent import fit_prior
from ..training.loop import train
from ..training.speed import DEFAULT_SPEED, LEVERS, LR_SCALINGS, Speed, scaled_lr
from ..training.state import ema_file


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    if name == "train-latent":
        add_latent_arguments(p)
        return
    p.add_argument("--data", required=True, type=Path, help="folder of training images (jpg, png, webp; any size)")
    p.add_argument("--config", default="demo", help="preset (tiny, demo, demo-wide, paper) or a config JSON file")
    p.add_argument("--out", required=True, type=Path, help="run folder: weights, training state, samples, log")
    num = checks.arg
    p.add_argument(
        "--steps", type=num("steps", integer=True, lo=1, hi=10**9), default=100_000, help="total optimizer steps"
    )
    p.add_argument(
        "--minutes", type=num("minutes", lo=0.01, hi=10**6), default=None, help="stop (and save) after this wall time"
    )
    p.add_argument("--resume", action="store_true", help="continue from OUT/state (config taken from there)")
    p.add_argument("--init", type=Path, default=None, help="start from these weights (fine-tuning; same shapes)")
    p.add_argument(
        "--batch-size", type=num("batch-size", integer=True, lo=1, hi=65536), default=None, help="windows per step"
    )
    p.add_argument("--lr", type=num("lr", lo=1e-9, hi=1), default=None, help="AdamW learning rate")
    p.add_argument(
        "--lr-scaling",
        choices=LR_SCALINGS,
        default="none",
        help="without --lr, a --batch-size other than the config's scales its learning rate: sqrt (lr x "
        "sqrt(global batch / config batch), the rule for Adam) or none (default: the config's lr as is)",
    )
    p.add_argument("--ema-decay", type=num("ema-decay", lo=0, hi=0.999999), default=None, help="EMA decay, 0-0.999999")
    p.add_argument(
        "--ema-extra",
        type=decays,
        default=None,
        help="further EMA decays to keep, comma-separated (e.g. 0.9995,0.9999); each is written to "
        "OUT/weights-ema<decay>.safetensors, for the eval to choose from",
    )
    p.add_argument("--image-size", type=parse_size, default=None, help="training size WxH (default 1024x512)")
    p.add_argument("--crops", choices=["center", "multi"], default=None, help="one or several crops per picture")
    every = num("every", integer=True, lo=0, hi=10**9)
    p.add_argument("--sample-every", type=every, default=None, help="steps between sample grids (0 = never)")
    p.add_argument("--save-every", type=every, default=None, help="steps between checkpoints (0 = only at the end)")
    p.add_argument(
        "--log-every", type=num("log-every", integer=True, lo=1, hi=10**9), default=None, help="steps between logs"
    )
    p.add_argument(
        "--t-min",
        type=num("t-min", integer=True, lo=0, hi=999),
        default=None,
        help="draw timesteps from [t_min, T) (fine-tuning high noise)",
    )
    p.add_argument(
        "--t-max",
        type=num("t-max", integer=True, lo=1, hi=1000),
        default=None,
        help="draw timesteps below this (fine-tuning the low-noise end, where fine detail is made)",
    )
    p.add_argument(
        "--freeze-encoder",
        action="store_true",
        help="do not train the global encoder (the latent prior trained on its codes stays valid)",
    )
    add_window_arguments(p)
    add_speed_argument(p)
    p.add_argument(
        "--min-snr-gamma",
        type=num("min-snr-gamma", lo=0, hi=1000),
        default=None,
        help="min-SNR-gamma loss weighting (0 = off; 5 in Hang et al. 2023)",
    )
    p.add_argument("--clip-model", default=None, help="use a frozen open_clip image tower of this architecture")
    p.add_argument("--clip-weights", default=None, help="local weights file of that tower (nothing is downloaded)")
    p.add_argument(
        "--device", default=None, help="cpu, cuda, ... (default: cuda > mps > cpu; LOCAL_RANK under torchrun)"
    )
    p.add_argument("--seed", type=num("seed", integer=True, lo=0, hi=checks.MAX_SEED), default=0)
    p.add_argument(
        "--no-bf16",
        action="store_true",
        help="train in fp32 (bf16 autocast is used on CUDA and on CPUs with native bf16)",
    )


def add_window_arguments(p: argparse.ArgumentParser) -> None:
    """--window and --offsets (train and bench-train): the shape and place of the training windows."""
    p.add_argument(
        "--window",
        type=checks.arg("window", integer=True, lo=2, hi=4),
        default=None,
        help="patches per side of a training window: 2 (the paper) or 3 (2x2 collaged cells: their borders are "
        "supervised)",
    )
    p.add_argument(
        "--offsets", choices=["grid", "pixel"], default=None, help="training windows on the patch grid or anywhere"
    )


def add_speed_argument(p: argparse.ArgumentParser) -> None:
    """--speed (train and bench-train): how a step runs, never what it computes (training/speed.py)."""
    p.add_argument(
        "--speed",
        type=speed_levers,
        default=DEFAULT_SPEED,
        help=f"comma list of speed levers: {', '.join(LEVERS)} (autotune and cuda-graphs: CUDA only), or none; "
        f"default {DEFAULT_SPEED}; bench-train --speed measures what they pay on this device",
    )


def speed_levers(text: str) -> Speed:
    """argparse type of --speed: an unknown lever is a usage error (exit 2), in a sentence."""
    try:
        return Speed.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def decays(text: str) -> tuple[float, ...]:
    """'0.9995,0.9999' -> (0.9995, 0.9999); each in [0, 0.999999] (argparse type)."""
    one = checks.arg("ema-extra", lo=0, hi=0.999999)
    return tuple(one(part) for part in text.split(",") if part.strip())


def config_from_args(args: argparse.Namespace) -> PatchDMConfig:
    cfg = load_config(args.config)
    overrides = {
        "batch_size": args.batch_size,
        "lr": args.lr,
        "ema_decay": args.ema_decay,
        "ema_extra": args.ema_extra,
        "crops": args.crops,
        "sample_every": args.sample_every,
        "save_every": args.save_every,
        "log_every": args.log_every,
        "t_min": args.t_min,
        "t_max": args.t_max,
        "freeze_encoder": args.freeze_encoder or None,
        "window": args.window,
        "offsets": args.offsets,
        "min_snr_gamma": args.min_snr_gamma,
    }
    if args.image_size:
        w, h = args.image_size
        overrides["image_size"] = (h, w)
    train_cfg = dataclasses.replace(cfg.train, **{k: v for k, v in overrides.items() if v is not None})
    if args.lr is None and args.lr_scaling != "none":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        lr = scaled_lr(cfg.train.lr, train_cfg.batch_size * world, cfg.train.batch_size, args.lr_scaling)
        if lr != cfg.train.lr:
            print(
                f"learning rate {lr:.3g}: {cfg.train.lr:.3g} at the config's batch {cfg.train.batch_size}, "
                f"scaled by the {args.lr_scaling} rule to the global batch {train_cfg.batch_size * world}"
            )
        train_cfg = dataclasses.replace(train_cfg, lr=lr)
    cfg = cfg.replace(train=train_cfg)
    if args.clip_model:
        cfg = cfg.replace(encoder=dataclasses.replace(cfg.encoder, kind="clip", clip_model=args.clip_model))
    return cfg


def main(args: argparse.Namespace) -> int:
    if args.command == "train-latent":
        return main_latent(args)
    if not args.data.is_dir():
        raise ValueError(f"--data {args.data} is not a folder of pictures")
    if args.init is not None and not args.init.is_file():
        raise ValueError(f"--init {args.init} is not a weights file")
    if args.device is not None:
        args.device = str(checks.device(args.device))
    args.speed.check(pick_device(args.device))
    if args.resume and not (args.out / "state" / "state.json").exists():
        raise CheckpointError(f"--resume: no training state in {args.out / 'state'}")
    checks.writable_folder(args.out, "--out")
    cfg = config_from_args(args)
    result = train(
        cfg,
        args.data,
        args.out,
        steps=args.steps,
        minutes=args.minutes,
        resume=args.resume,
        device=args.device,
        seed=args.seed,
        clip_weights=args.clip_weights,
        init=args.init,
        bf16=not args.no_bf16,
        speed=args.speed,
    )
    if int(os.environ.get("RANK", "0")) == 0:
        extra = "".join(f", {ema_file(args.out, d)} (EMA {d:g})" for d in result.extra)
        print(f"wrote {result.weights} (EMA weights){extra} and {args.out / 'state'} (training state)")
    return 0


def add_latent_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=Path, required=True, help="weights file of a trained Patch-DM (updated in place)")
    p.add_argument("--data", type=Path, required=True, help="the folder the model was trained on")
    p.add_argument("--out", type=Path, default=None, help="write here instead of updating --weights")
    num = checks.arg
    p.add_argument(
        "--steps",
        type=num("steps", integer=True, lo=1, hi=10**9),
        default=None,
        help="optimizer steps (default: the config's latent_steps)",
    )
    p.add_argument(
        "--batch-size",
        type=num("batch-size", integer=True, lo=1, hi=65536),
        default=None,
        help="codes per step (default: the config's)",
    )
    p.add_argument("--lr", type=num("lr", lo=1e-9, hi=1), default=1e-4)
    p.add_argument(
        "--min-luminance",
        type=num("min-luminance", lo=0, hi=1),
        default=0.0,
        help="leave pictures darker than this mean luminance (0 black .. 1 white) out of the prior, so that "
        "generate without a reference does not paint near-black canvases (the demo model uses 0.2)",
    )
    p.add_argument("--clip-weights", default=None, help="local open_clip weights (models with a clip encoder)")
    p.add_argument("--seed", type=num("seed", integer=True, lo=0, hi=checks.MAX_SEED), default=0)


def main_latent(args: argparse.Namespace) -> int:
    if not args.data.is_dir():
        raise ValueError(f"--data {args.data} is not a folder of pictures")
    if args.out is not None:
        checks.output_file(args.out, ".safetensors", "--out")
    else:  # the weights file is rewritten in place, through a temporary file beside it
        checks.writable_folder(args.weights.parent, "--weights")
        if args.weights.exists() and not os.access(args.weights, os.W_OK):
            raise ValueError(f"cannot update {args.weights}: it is read-only (give --out)")
    fit_prior(
        args.weights,
        args.data,
        out=args.out,
        steps=args.steps,
        batch=args.batch_size,
        lr=args.lr,
        min_luminance=args.min_luminance,
        clip_weights=args.clip_weights,
        seed=args.seed,
    )
    return 0
