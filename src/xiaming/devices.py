"""Choosing where tensors live: CUDA or Apple's MPS when present, the CPU otherwise."""

from __future__ import annotations

import torch

from .errors import ConfigError


def pick_device(preference: str = "auto") -> torch.device:
    """`auto` picks cuda, then mps, then cpu; an explicit choice must be available."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference not in ("cpu", "cuda", "mps") and not preference.startswith("cuda:"):
        raise ConfigError("device", preference, "choose auto, cpu, cuda or mps")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", preference, "CUDA is not available on this machine")
    if preference == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device", preference, "MPS is not available on this machine")
    return torch.device(preference)
