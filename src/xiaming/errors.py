"""Typed errors of the xiaming library.

Every error a user can cause (a missing file, a bad flag value, a file that is not a checkpoint)
is raised as a subclass of `XiamingError` with a message that names the file, line or parameter
and says what to do. The CLI turns these into one-line messages and a non-zero exit code; the
Python API lets them propagate so callers can catch them by type.
"""

from __future__ import annotations


class XiamingError(Exception):
    """Base class: an error caused by the user's input, with an actionable message."""


class DataError(XiamingError):
    """A names file or corpus cannot be read or is unusable (missing, empty, undecodable)."""


class CheckpointError(XiamingError):
    """A file is not a xiaming checkpoint, is truncated, damaged or of an unknown format version.

    `path` and `field` (when known) say which file and which part of it: "model_config.n_hidden",
    "tensor wte.weight", "sampling.top_k".
    """

    def __init__(self, message: str, path: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.path, self.field = path, field


class ConfigError(XiamingError):
    """A parameter value is out of range or names something that does not exist."""


class TrainingDiverged(XiamingError):
    """A run's loss became NaN or infinite; it stopped, and the best checkpoint saved before is kept."""


class XiamingWarning(UserWarning):
    """Something the user should know that did not stop the work (e.g. lines skipped as too long)."""
