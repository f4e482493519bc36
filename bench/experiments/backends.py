"""CPU inference backends for the patch network, measured inside the real sampler step.

Each backend replaces the UNet's `encode` and `decode` (the two calls the canvas denoiser makes, at the
batch sizes it makes them) and runs one guided feature-collage step of the model's default settings;
the step's eps is compared with PyTorch fp32 eager (max abs diff; the tolerance for a CPU default is
1e-2). Rows are interleaved round by round so a noisy neighbour slows them alike; the median is kept.

Backends (a row whose runtime is not installed is reported as missing, not skipped silently):
  torch-cl      PyTorch eager fp32, channels_last weights (the shipped default off native bf16)
  torch-nchw    PyTorch eager fp32, contiguous weights
  torch-bf16    PyTorch eager with bf16 autocast (only where the CPU has native bf16)
  compile       torch.compile (inductor, CPU, frozen weights, dynamic batch) of encode and decode
  onnxruntime   ONNX export (dynamic batch) run by ONNX Runtime's CPU provider
  openvino      the same ONNX files compiled by OpenVINO for its CPU plugin (f32 precision hint)
  ort-int8      ONNX Runtime with dynamic int8 weights and activations (quantize_dynamic)

    python bench/experiments/backends.py --weights weights/patchdm-demo.safetensors --size 1024x512 --rounds 5 \
        --out bench/results/cpu-backends
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from patchdm_core.evaluation.bench import machine  # noqa: E402
from patchdm_core.model.blocks import Emb  # noqa: E402
from patchdm_core.pipeline import PatchDM  # noqa: E402
from patchdm_core.runtime import precision, threads  # noqa: E402
from patchdm_core.runtime.precision import cpu_name  # noqa: E402
from patchdm_core.sampling.guidance import cfg  # noqa: E402

FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")  # what decides the kernels
ROWS = ("torch-cl", "torch-nchw", "torch-bf16", "compile", "onnxruntime", "openvino", "ort-int8")


class _Encode(nn.Module):
    def __init__(self, unet: nn.Module) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, x, tp, z):  # noqa: ANN001, ANN201 - export signature: plain tensors in and out
        return tuple(type(self.unet).encode(self.unet, x, Emb(tp, z)))  # the class's: rows swap the instance's


class _Decode(nn.Module):
    def __init__(self, unet: nn.Module) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, tp, z, *feats):  # noqa: ANN001, ANN201
        return type(self.unet).decode(self.unet, list(feats), Emb(tp, z))


Runner = Callable[..., list[torch.Tensor] | torch.Tensor]


def export_onnx(unet: nn.Module, folder: Path) -> tuple[Path, Path, int]:
    """encode.onnx and decode.onnx with a dynamic batch axis; returns their paths and the feature count."""
    p, dim = unet.cfg.patch_size, unet.embed.time_dim + unet.embed.pos_dim
    x, tp, z = torch.randn(4, 3, p, p), torch.randn(4, dim), torch.randn(4, unet.cfg.z_dim)
    enc, dec = _Encode(unet).eval(), _Decode(unet).eval()
    with torch.no_grad():
        feats = enc(x, tp, z)
    names = [f"f{i}" for i in range(len(feats))]
    batch = {0: "n"}
    with torch.no_grad():
        torch.onnx.export(
            enc, (x, tp, z), folder / "encode.onnx", input_names=["x", "tp", "z"], output_names=names,
            dynamic_axes={n: batch for n in ["x", "tp", "z", *names]}, dynamo=False, opset_version=17,
        )  # fmt: skip
        torch.onnx.export(
            dec, (tp, z, *feats), folder / "decode.onnx", input_names=["tp", "z", *names], output_names=["eps"],
            dynamic_axes={n: batch for n in ["tp", "z", "eps", *names]}, dynamo=False, opset_version=17,
        )  # fmt: skip
    return folder / "encode.onnx", folder / "decode.onnx", len(feats)


def _numpy_runner(run: Callable[[dict], list], names: list[str]) -> tuple[Runner, Runner]:
    def encode(x: torch.Tensor, emb: Emb) -> list[torch.Tensor]:
        out = run("enc", {"x": x.contiguous().numpy(), "tp": emb.tp.numpy(), "z": emb.z.numpy()})
        return [torch.from_numpy(o) for o in out]

    def decode(feats: list[torch.Tensor], emb: Emb) -> torch.Tensor:
        inputs = {"tp": emb.tp.numpy(), "z": emb.z.numpy()}
        inputs.update({n: f.contiguous().numpy() for n, f in zip(names, feats)})
        return torch.from_numpy(run("dec", inputs)[0])

    return encode, decode


def onnxruntime_runner(enc_path: Path, dec_path: Path, n: int, int8: bool = False) -> tuple[Runner, Runner]:
    import onnxruntime as ort

    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        for path in (enc_path, dec_path):
            quantize_dynamic(path, path.with_suffix(".int8.onnx"), weight_type=QuantType.QInt8)
        enc_path, dec_path = enc_path.with_suffix(".int8.onnx"), dec_path.with_suffix(".int8.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    # ORT's pool spins after each run by default: it would steal the cores from the next row (or the next
    # denoiser call of another backend) and make it look several times slower.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sessions = {
        k: ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        for k, p in (("enc", enc_path), ("dec", dec_path))
    }
    return _numpy_runner(lambda k, inputs: sessions[k].run(None, inputs), [f"f{i}" for i in range(n)])


def openvino_runner(enc_path: Path, dec_path: Path, n: int) -> tuple[Runner, Runner]:
    import openvino as ov

    core, config = ov.Core(), {"INFERENCE_NUM_THREADS": torch.get_num_threads(), "INFERENCE_PRECISION_HINT": "f32"}
    compiled = {k: core.compile_model(str(p), "CPU", config) for k, p in (("enc", enc_path), ("dec", dec_path))}
    requests = {k: c.create_infer_request() for k, c in compiled.items()}

    def run(k: str, inputs: dict) -> list:
        result = requests[k].infer(inputs)
        return [result[o] for o in compiled[k].outputs]

    return _numpy_runner(run, [f"f{i}" for i in range(n)])


def compile_runner(unet: nn.Module) -> tuple[Runner, Runner]:
    import torch._inductor.config as inductor

    inductor.freezing = True  # weights become constants: the convolutions get prepacked oneDNN weights
    enc = torch.compile(_Encode(unet).eval(), dynamic=True)
    dec = torch.compile(_Decode(unet).eval(), dynamic=True)
    return (lambda x, emb: list(enc(x, emb.tp, emb.z))), (lambda feats, emb: dec(emb.tp, emb.z, *feats))


class Step:
    """One guided denoiser step of the default sampler settings on a fixed canvas, with swappable network calls."""

    def __init__(self, pipe: PatchDM, height: int, width: int) -> None:
        s = pipe.settings()
        self.unet = pipe.model.unet
        self.eager = (self.unet.encode, self.unet.decode)
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(1, 3, height, width, generator=gen)
        self.t = torch.tensor([500])
        self.den = pipe.denoiser("feature", grid=s["grid"], grid_seed=1)
        self.fn = cfg(self.den, pipe.cond(pipe.default_z(1)), s["guidance"])

    def __call__(self, runners: tuple[Runner, Runner] | None, bf16: bool = False) -> tuple[float, torch.Tensor]:
        self.unet.encode, self.unet.decode = runners or self.eager
        precision.apply("bf16" if bf16 else "fp32")  # each row its own precision, whatever the CPU policy picks
        self.den.evals["calls"] = 1  # the same moved grid every time
        try:
            start = time.perf_counter()
            eps = self.fn(self.x, self.t)
            return time.perf_counter() - start, eps
        finally:
            self.unet.encode, self.unet.decode = self.eager


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="weights/patchdm-demo.safetensors")
    ap.add_argument("--size", default="1024x512", help="canvas WxH")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default="bench/results/cpu-backends")
    args = ap.parse_args(argv)
    print(threads.configure(args.threads or None), flush=True)
    width, height = (int(v) for v in args.size.lower().split("x"))
    pipe = PatchDM.load(args.weights, device="cpu")
    unet = pipe.model.unet
    step = Step(pipe, height, width)
    runners: dict[str, tuple[Runner, Runner] | None] = {}
    notes: dict[str, str] = {}
    setup: dict[str, float] = {}
    tmpdir = tempfile.TemporaryDirectory(prefix="patchdm-onnx-")  # removed when main returns
    tmp = Path(tmpdir.name)
    onnx_files = None
    for row in args.rows.split(","):
        start = time.perf_counter()
        try:
            if row in ("torch-cl", "torch-nchw"):
                runners[row] = None
            elif row == "torch-bf16":
                if not precision.cpu_has_bf16():
                    notes[row] = "no native bf16 on this CPU"
                    continue
                runners[row] = None
            elif row == "compile":
                runners[row] = compile_runner(unet)
                step(runners[row])  # the compile itself, timed as setup
            else:
                onnx_files = onnx_files or export_onnx(unet, tmp)
                if row == "onnxruntime":
                    runners[row] = onnxruntime_runner(*onnx_files)
                elif row == "ort-int8":
                    runners[row] = onnxruntime_runner(*onnx_files, int8=True)
                elif row == "openvino":
                    runners[row] = openvino_runner(*onnx_files)
                else:
                    raise SystemExit(f"unknown row {row!r}; choose from {', '.join(ROWS)}")
        except ImportError as exc:
            notes[row] = f"runtime not installed ({exc.name})"
            continue
        setup[row] = time.perf_counter() - start
        print(f"{row}: ready in {setup[row]:.1f} s", flush=True)

    def run(row: str) -> tuple[float, torch.Tensor]:
        unet.to(memory_format=torch.contiguous_format if row == "torch-nchw" else torch.channels_last)
        return step(runners[row], bf16=row == "torch-bf16")

    _, ref = run("torch-cl") if "torch-cl" in runners else step(None)
    times: dict[str, list[float]] = {row: [] for row in runners}
    diffs: dict[str, float] = {}
    for r in range(args.rounds + 1):  # round 0 warms every row up
        for row in runners:
            sec, eps = run(row)
            diffs[row] = float((eps - ref).abs().max())
            if r:
                times[row].append(sec)
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items() if v), flush=True)
    base = statistics.median(times.get("torch-cl") or times[next(iter(times))])
    result = {
        "cpu": cpu_name(),
        "machine": machine(),
        "native_bf16": precision.cpu_has_bf16(),
        "cpu_flags": [f for f in FLAGS if f in precision.cpu_flags()],
        "size": args.size,
        "settings": pipe.settings(),
        "rounds": args.rounds,
        "rows": {
            row: {
                "step_s": statistics.median(v),
                "min_s": min(v),
                "speedup_vs_torch_cl": base / statistics.median(v),
                "max_abs_diff": diffs[row],
                "setup_s": setup[row],
            }
            for row, v in times.items()
        },
        "missing": notes,
        "command": "python bench/experiments/backends.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    lines = [
        f"# CPU backends: one guided denoiser step at {args.size}",
        "",
        f"CPU: {result['cpu']} ({result['machine']['threads']} threads; flags: {' '.join(result['cpu_flags'])}); "
        f"torch {result['machine']['torch']}. Settings: {result['settings']}. "
        f"Median of {args.rounds} interleaved rounds.",
        "",
        "| backend | step s (median) | min s | speed-up vs torch-cl | max abs diff vs fp32 eager | setup s |",
        "|---|---|---|---|---|---|",
    ]
    for row, v in result["rows"].items():
        lines.append(
            f"| {row} | {v['step_s']:.3f} | {v['min_s']:.3f} | {v['speedup_vs_torch_cl']:.2f}x | "
            f"{v['max_abs_diff']:.1e} | {v['setup_s']:.1f} |"
        )
    lines += [f"| {row} | - | - | - | {why} | - |" for row, why in notes.items()]
    lines += ["", f"Command: `{result['command']}`", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
