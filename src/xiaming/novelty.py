"""What counts as a new name: the rules that reject generated names too close to training names.

`exact` rejects only names that are in the training list. `off` rejects nothing. A rule returns a
`Rejection` naming itself and the training name that caused it, so `--verbose` and `--json` can
say why a candidate was dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError

MODES = ("exact", "off")


@dataclass(frozen=True)
class Rejection:
    """Why a candidate is not new."""

    rule: str  # e.g. "exact"
    training_name: str  # the training name that caused it


class NoveltyFilter:
    """Checks candidates against a training list under one mode."""

    def __init__(self, training_names: list[str], mode: str = "exact") -> None:
        if mode not in MODES:
            raise ConfigError(f"--novelty {mode!r}: choose one of {', '.join(MODES)}")
        self.mode = mode
        self.names = set(training_names)

    def check(self, name: str) -> Rejection | None:
        """None when `name` is new under this mode, else the first rule it breaks."""
        if self.mode == "off":
            return None
        if name in self.names:
            return Rejection("exact", name)
        return None
