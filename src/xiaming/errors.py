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


class _NoValue:
    """The `value` of a ConfigError about a field as a whole (`charset: no characters given`)."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: object = _NoValue()


class ConfigError(XiamingError):
    """A parameter value is out of range or names something that does not exist.

    `ConfigError(field, value, reason)`: `field` is the parameter's Python name (`max_len`, `prefix`,
    `top_k`: the `SampleOptions` / config / function argument), `value` the value refused (`NO_VALUE`
    when the field as a whole is at fault), `reason` what is wrong and what to do. `str(error)` is a
    one-line message in the Python names (`max_len 40: names are at most 32 characters`); each front end
    renders `field` in its own words with `render(name)` (the CLI as its flag, `--max-len`; the web API
    as its JSON key) and never parses the message.

    A reason that mentions other fields writes them as `{field}` and lists them in `refs`, so that
    they are renamed with the same function: `ConfigError("min_len", 5, "is above {max_len} 3",
    refs=("max_len",))`.

    `ConfigError(message)` (one argument) is an error about no particular field: `field` is None.
    """

    def __init__(
        self, field: str, value: object = NO_VALUE, reason: str | None = None, *, refs: tuple[str, ...] = ()
    ) -> None:
        if reason is None:  # ConfigError(message): about no one field
            if value is not NO_VALUE:
                raise TypeError("ConfigError(field, value, reason) needs a reason")
            self.field, self.value, self.reason, self.refs = None, NO_VALUE, field, ()
        else:
            self.field, self.value, self.reason, self.refs = field, value, reason, tuple(refs)
        super().__init__(self.render())

    def render(self, name=None) -> str:
        """The one-line message with each field (the error's own and those in `refs`) written as
        `name(field)` (default: the Python name itself)."""
        name = name or (lambda field: field)
        reason = self.reason
        for ref in self.refs:
            reason = reason.replace("{" + ref + "}", name(ref))
        if self.field is None:
            return reason
        shown = "" if self.value is NO_VALUE else f" {show_value(self.value)}"
        return f"{name(self.field)}{shown}: {reason}"


def show_value(value: object) -> str:
    """A refused value as messages show it: strings quoted (so an empty or spaced one is visible), numbers
    and lists as written (`3`, `0.5`, `1,2`)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


class TrainingDiverged(XiamingError):
    """A run's loss became NaN or infinite; it stopped, and the best checkpoint saved before is kept."""


class XiamingWarning(UserWarning):
    """Something the user should know that did not stop the work (e.g. lines skipped as too long)."""
