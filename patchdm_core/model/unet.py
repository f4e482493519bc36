"""PatchUNet: the ADM-style patch denoiser with feature collage between its encoder and decoder.

`forward` maps noisy patches on an R x Q grid (offset by half a patch) to eps for the (R-1) x (Q-1)
image-aligned grid: training (R = Q = 2, one centre patch) and inference (the padded canvas) are the
same call. `encode` and `decode` are exposed so the canvas denoiser can stream rows of patches.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .blocks import Emb, Embedder, ResBlock, group_norm, norm_silu, zero_module
from .collage import Grid, collage, grid_positions
from .config import UNetConfig


class UNetOut(NamedTuple):
    shifted: Tensor  # [B*(R-1)*(Q-1), C, p, p] eps of the collaged (image-aligned) cells
    unshifted: Tensor | None  # [B*R*Q, C, p, p] eps of the input cells, decoded without collage


class PatchUNet(nn.Module):
    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p, g = cfg.patch_size, cfg.norm_groups
        bottom = p >> (cfg.levels - 1)
        if bottom < 2 or bottom % 2 or p % 2:
            raise ValueError(f"patch {p} with {cfg.levels} levels leaves {bottom}x{bottom} maps; need even >= 2")
        widths = [cfg.model_channels * m for m in cfg.channel_mult]

        def block(cin: int, cout: int, res: int, **kw) -> ResBlock:
            return ResBlock(
                cin,
                cout,
                cfg.emb_dim,
                cfg.z_dim,
                groups=g,
                dropout=cfg.dropout,
                heads=cfg.num_heads,
                attention=kw.pop("attention", res in cfg.attn_resolutions),
                **kw,
            )

        self.embed = Embedder(cfg.time_dim, cfg.pos_dim, cfg.z_dim)
        self.stem = nn.Conv2d(cfg.in_channels, widths[0], 3, padding=1)
        self.enc = nn.ModuleDict()
        skips, cin, res = [widths[0]], widths[0], p
        for level, width in enumerate(widths):
            for i in range(cfg.res_blocks):
                self.enc[f"{res}x{res}_block{i}"] = block(cin, width, res)
                cin = width
                skips.append(cin)
            if level < cfg.levels - 1:
                self.enc[f"{res // 2}x{res // 2}_down"] = block(cin, cin, res, resample="down", attention=False)
                res //= 2
                skips.append(cin)
        self.mid = nn.ModuleList(
            [block(cin, cin, res, attention=cfg.mid_attention), block(cin, cin, res, attention=False)]
        )
        self.dec = nn.ModuleDict()
        for level, width in reversed(list(enumerate(widths))):
            for i in range(cfg.res_blocks + 1):
                self.dec[f"{res}x{res}_block{i}"] = block(cin + skips.pop(), width, res)
                cin = width
            if level > 0:
                self.dec[f"{res * 2}x{res * 2}_up"] = block(cin, cin, res, resample="up", attention=False)
                res *= 2
        self.out = nn.Sequential(
            group_norm(cin, g), nn.SiLU(), zero_module(nn.Conv2d(cin, cfg.in_channels, 3, padding=1))
        )

    def encode(self, x: Tensor, emb: Emb) -> list[Tensor]:
        """[N,C,p,p] -> every skip feature map, then the middle-block output (all [N, c, h, h])."""
        h = self.stem(x)
        feats = [h]
        for blk in self.enc.values():
            h = blk(h, emb)
            feats.append(h)
        for blk in self.mid:
            h = blk(h, emb)
        feats.append(h)
        return feats

    def decode(self, feats: list[Tensor], emb: Emb) -> Tensor:
        """Features of N cells (collaged or not) -> eps [N, C, p, p]."""
        skips, h = list(feats[:-1]), feats[-1]
        for name, blk in self.dec.items():
            if not name.endswith("_up"):
                h = torch.cat([h, skips.pop()], dim=1)
            h = blk(h, emb)
        norm, _, conv = self.out  # kept a Sequential: its parameter names are in the weights files
        return conv(norm_silu(norm, h))

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        grid: Grid,
        z: Tensor,
        keep_z: Tensor,
        keep_pos: Tensor,
        origin: Tensor,
        return_unshifted: bool = False,
    ) -> UNetOut:
        """x [B*R*Q,C,p,p] on an offset grid; t, keep_z, keep_pos [B]; z [B,z_dim]; origin [B,2]
        (patch-unit centre of each image's top-left input cell). Returns eps for the shifted grid."""
        b = t.shape[0]

        def emb_for(cells: int, shifted: bool) -> Emb:
            pos = grid_positions(grid, origin, shifted=shifted)
            return self.embed(
                t.repeat_interleave(cells),
                pos,
                keep_pos.repeat_interleave(cells),
                z.repeat_interleave(cells, dim=0),
                keep_z.repeat_interleave(cells),
            )

        enc_emb = emb_for(grid.cells, shifted=False)
        feats = self.encode(x, enc_emb)
        shifted = self.decode([collage(f, grid) for f in feats], emb_for(grid.shifted().cells, shifted=True))
        unshifted = self.decode(feats, enc_emb) if return_unshifted else None
        assert shifted.shape[0] == b * grid.shifted().cells
        return UNetOut(shifted, unshifted)
