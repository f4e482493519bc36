"""One process, or a process group under torchrun: the device each rank trains on, DDP wrapping, and
the few points where ranks wait for each other (cache building, stopping, the end)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as tdist
from torch import nn

from ..runtime.devices import pick_device

T = TypeVar("T")


@dataclass
class Distributed:
    rank: int
    world: int
    device: torch.device
    active: bool

    @classmethod
    def setup(cls, device: str | None) -> Distributed:
        """One process, or a process group when torchrun set WORLD_SIZE > 1 (NCCL on CUDA, else gloo)."""

        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls(0, 1, pick_device(device), False)
        local = int(os.environ.get("LOCAL_RANK", "0"))
        dev = pick_device(device)
        if dev.type == "cuda":
            dev = torch.device(dev.type, local)
            torch.cuda.set_device(dev)
        tdist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        return cls(tdist.get_rank(), world, dev, True)

    def wrap(self, module: nn.Module) -> nn.Module:
        if not self.active:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(module, device_ids=ids)

    def first_rank_first(self, fn: Callable[[], T]) -> T:
        """Run fn on rank 0 first (it may write a cache), then on the others."""
        if not self.active:
            return fn()
        if self.rank == 0:
            result = fn()
        tdist.barrier()
        if self.rank != 0:
            result = fn()
        return result

    def agree_stop(self, stop: bool, step: int) -> bool:
        """Every rank stops at the same step (any rank out of time stops all)."""
        if not self.active:
            return stop
        flag = torch.tensor([int(stop)], device=self.device)
        tdist.all_reduce(flag, op=tdist.ReduceOp.MAX)
        return bool(flag.item())

    def close(self) -> None:
        if self.active:
            tdist.barrier()
            tdist.destroy_process_group()
