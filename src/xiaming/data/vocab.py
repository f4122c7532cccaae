"""The character vocabulary: maps characters to integer ids and back.

Id 0 is the name boundary: it starts every name (as input) and ends it (as target). Id 1 stands
for any character never seen in training, so scoring a name with a new character is possible.
Real characters follow in sorted order, which makes the vocabulary a pure function of the set of
characters and so reproducible. The vocabulary is stored inside every checkpoint (`to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

BOUNDARY = 0  # start-of-name input and end-of-name target
END_TEXT = "(end)"  # the end of a name where output shows a character (explain, who; text and JSON alike)
UNKNOWN = 1  # a character outside the vocabulary
N_SPECIAL = 2
# Marker characters (private-use code points): a model may learn them (the kind of a name, see
# kinds.py) and read or even generate them, but they are never part of a name's text.
MARKERS = frozenset({"\ue000"})


@dataclass(frozen=True)
class Vocab:
    """Sorted characters; ids `N_SPECIAL..` are the characters, 0 and 1 are special."""

    chars: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c: i + N_SPECIAL for i, c in enumerate(self.chars)})
        # built once: the sampler decodes with it on every batch (rebuilt each time it cost 0.5 ms a request)
        object.__setattr__(self, "_texts", ("",) * N_SPECIAL + self.chars)
        object.__setattr__(self, "_display", ("",) * N_SPECIAL + tuple("" if c in MARKERS else c for c in self.chars))

    @classmethod
    def from_names(cls, names: Iterable[str]) -> "Vocab":
        """Build the vocabulary of every character used in `names`."""
        return cls(tuple(sorted({c for name in names for c in name})))

    def union(self, other: "Vocab") -> "Vocab":
        """A vocabulary holding the characters of both (used when fine-tuning on a new list)."""
        return Vocab(tuple(sorted(set(self.chars) | set(other.chars))))

    @property
    def size(self) -> int:
        """Number of ids, the special ones included (the model's input and output width)."""
        return len(self.chars) + N_SPECIAL

    def __len__(self) -> int:
        return self.size

    def __contains__(self, char: object) -> bool:
        return char in self._index  # type: ignore[attr-defined]

    def id(self, char: str) -> int:
        """The id of one character, `UNKNOWN` if it was never seen."""
        return self._index.get(char, UNKNOWN)  # type: ignore[attr-defined]

    def encode(self, name: str) -> list[int]:
        """Character ids of `name`, without boundary tokens."""
        return [self.id(c) for c in name]

    @property
    def texts(self) -> tuple[str, ...]:
        """The text of every id: "" for the two special ids, then the characters (for fast decoding)."""
        return self._texts  # type: ignore[attr-defined]

    @property
    def display(self) -> tuple[str, ...]:
        """`texts` as names are printed: markers (`MARKERS`) have no text either."""
        return self._display  # type: ignore[attr-defined]

    def decode(self, ids: Sequence[int]) -> str:
        """The characters of `ids`; stops at the first boundary, skips unknown ids and markers."""
        out = []
        for i in ids:
            i = int(i)
            if i == BOUNDARY:
                break
            if i >= N_SPECIAL and self.chars[i - N_SPECIAL] not in MARKERS:
                out.append(self.chars[i - N_SPECIAL])
        return "".join(out)

    def unknown_chars(self, text: str) -> list[str]:
        """Characters of `text` that are not in the vocabulary, in order of appearance."""
        return [c for c in dict.fromkeys(text) if c not in self]

    def to_dict(self) -> dict:
        """A JSON-ready form, stored in checkpoints."""
        return {"chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, data: dict) -> "Vocab":
        """Inverse of `to_dict`."""
        return cls(tuple(data["chars"]))
