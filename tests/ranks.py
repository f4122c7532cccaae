"""Joining a two-process gloo group on this machine, as torchrun would set it up (the distributed and
golden training tests start each rank as a fresh process)."""

from __future__ import annotations

import os


def join_pair(rank: int, port: int) -> None:
    """Set the torchrun environment of `rank` of two on 127.0.0.1:`port`, one thread per rank."""
    import torch

    torch.set_num_threads(1)
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE="2",
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        XIAMING_DIST_TIMEOUT="60",
    )
