"""Streaming a names file too large to hold: train on millions of lines in bounded memory.

`xiaming train huge.txt --stream` (or `StreamedNames(path)` passed to `xiaming.train`) never holds
the list as Python strings or padded tensors. It reads the file twice, line by line
(`corpus.iter_lines`, so encodings, CRLF, blank and over-long lines are handled as for a whole file):

1. The scan keeps a 64-bit hash per line, from which repeated names are found (the first
   occurrence kept, as `corpus.read_names` does) and counted.
2. The layout, for a given `val_fraction` and `seed`, draws the same train/validation split as
   `corpus.split` and writes the training names' code points into a packed file (code points,
   plus one offset per name) in a private temporary folder, counting characters as it goes: the
   vocabulary (and the once-seen characters) come out of this one pass. The held-out names are kept
   in memory (they are validated every `eval_interval` steps); on a huge list a small
   `--val-fraction` keeps them few.

Batches are then read from the packed file through a memory map: each step draws the same indices
from the same generator as the in-memory trainer, so a streamed run computes exactly what a run on
the whole file computes (same vocabulary, same batches, same losses, same weights); only the
rows of the batch are read, by each rank only its own share (`trainer.GradientTrainer`). What
stays in memory is the hashes during the scan (8 bytes a line), the held-out names and the
memory-mapped pages the kernel chooses to cache (file pages, shared by the processes of one
machine and given back under pressure); the model and the batches do not grow with the file.

Two different names with the same 64-bit hash (about one chance in ten million for two million
names) would count as one: the second would be dropped as a repeat.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
import weakref
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import corpora
from ..data.corpus import MAX_NAME_LEN, TooLong, check_max_len, check_names_file, iter_lines, no_names
from ..data.vocab import BOUNDARY, N_SPECIAL, UNKNOWN, Vocab
from ..errors import ConfigError, DataError
from .sources import Split

_FLUSH = 1 << 20  # code points buffered before a write


def _hash(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def _flush(out, chunk: bytearray, counts: np.ndarray) -> None:
    """Write the buffered code points, count them into `counts`, and empty the buffer."""
    points = np.frombuffer(bytes(chunk), dtype=np.uint32)
    counts += np.bincount(points, minlength=len(counts))
    out.write(chunk)
    chunk.clear()


def _shuffled(n: int, seed: int) -> np.ndarray:
    """`random.Random(seed).shuffle(list(range(n)))` (corpus.split's draw), in a numpy array: the same
    swaps from the same random numbers, without a list of `n` Python ints (whose freed memory a
    process keeps: some 70 MB for two million names)."""
    order = np.arange(n, dtype=np.int64)
    randbelow = random.Random(seed)._randbelow  # what shuffle draws each swap with
    for i in range(n - 1, 0, -1):
        j = randbelow(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


class PackedNames:
    """All distinct names of a streamed file, in file order, read from disk each time it is iterated
    (`corpus.describe` counts them); the checkpoint stores them for novelty checks as the file's
    bytes (`encoded`), never as millions of strings (some 150 MB at every save of two million)."""

    def __init__(self, path: Path, count: int) -> None:
        self.path, self.count = path, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8", newline="\n") as f:
            for line in f:
                yield line[:-1]

    def encoded(self) -> torch.Tensor:
        """`checkpoint.encode_names` of the list: the file without its final newline."""
        data = np.fromfile(self.path, dtype=np.uint8)
        return torch.from_numpy(data[:-1] if len(data) and data[-1] == 10 else data)


@dataclass
class Layout:
    """One split of a streamed file: the packed training names, the held-out names, the counts."""

    val_fraction: float
    seed: int
    train_count: int
    val_names: list[str]
    char_counts: dict[str, int]  # character -> occurrences among the training names
    max_len: int  # longest name (training and held-out), in characters
    codepoints: np.ndarray  # (total training characters,) uint32, memory-mapped
    offsets: np.ndarray  # (train_count + 1,) int64, memory-mapped: name i is codepoints[offsets[i]:offsets[i+1]]
    names: PackedNames  # every distinct name, in file order

    def train_vocab(self) -> Vocab:
        """The vocabulary of the training names (what `Vocab.from_names(train_names)` gives)."""
        return Vocab(tuple(sorted(self.char_counts)))


class StreamedNames:
    """A names file read in bounded memory; `source` and (after `layout`) `names` as in `NameList`.

    Constructing it scans the file once (repeats, blanks and over-long lines, with the same warning
    and errors as `corpus.load_names`). Its files live in a private temporary folder, removed by
    `close()`, at the end of a `with` block, or when the object is collected.
    """

    def __init__(
        self,
        path: str | Path,
        encoding: str = "utf-8",
        max_len: int | None = MAX_NAME_LEN,
        min_names: int = 2,
        workdir: str | Path | None = None,
    ) -> None:
        path = Path(path)
        if not path.exists() and corpora.is_builtin(str(path)):
            raise DataError(
                f"{path}: is a built-in corpus; --stream reads names files (built-in corpora are small: drop --stream)"
            )
        check_max_len(max_len)
        if str(path) == "-" and not path.exists():
            raise DataError(
                "-: --stream reads its file twice, and standard input can be read only once; save the "
                "names to a file (e.g. > names.txt) and stream that, or drop --stream"
            )
        check_names_file(path)  # not a directory, device or socket
        if not path.is_file():  # a pipe: its lines are gone once read
            raise DataError(
                f"{path}: is a pipe; --stream reads its file twice, which a pipe cannot give; save the "
                f"names to a file and stream that, or drop --stream (a pipe is read once without it)"
            )
        self.path, self.encoding, self.max_len, self.source = path, encoding, max_len, str(path)
        self._stamp = (path.stat().st_size, path.stat().st_mtime_ns)  # the second reading checks it
        self._dir = Path(tempfile.mkdtemp(prefix="xiaming-stream-", dir=workdir))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self._dir, True)
        hashes = array("Q")
        too_long = TooLong(path, max_len)
        for line, name in iter_lines(path, encoding, max_len):
            if name is None:
                too_long.add(line)
            elif name:
                hashes.append(_hash(name))
        too_long.warn()
        if not hashes:
            raise no_names(path, too_long)
        codes = np.frombuffer(hashes, dtype=np.uint64)
        _, first = np.unique(codes, return_index=True)
        self._first = np.zeros(len(codes), dtype=bool)  # per non-blank line: the first occurrence of its name
        self._first[first] = True
        self.count = len(first)
        del hashes, codes, first
        if self.count < min_names:
            raise DataError(f"{path}: only {self.count} distinct name(s); at least {min_names} are needed to train")
        self._layout: Layout | None = None

    def close(self) -> None:
        """Remove the packed files."""
        self._finalizer()

    def __enter__(self) -> StreamedNames:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    streamed = True  # a `sources.DataSource`

    def split(self, val_fraction: float, seed: int) -> Split:
        layout = self.layout(val_fraction, seed)
        return Split(range(layout.train_count), layout.val_names, layout.train_vocab(), layout.max_len)

    def batches(self, plan) -> PackedSource:
        return PackedSource(self.layout(plan.config.val_fraction, plan.config.seed), plan.vocab)

    @property
    def names(self) -> PackedNames:
        """Every distinct name, in file order (available once `layout` has run)."""
        if self._layout is None:
            raise RuntimeError("StreamedNames.names is read after layout()")
        return self._layout.names

    def _distinct(self) -> Iterator[str]:
        """The distinct names in file order (a second reading of the file)."""
        if (self.path.stat().st_size, self.path.stat().st_mtime_ns) != self._stamp:
            raise DataError(f"{self.path}: the file changed while it was being read; train on a copy that stays put")
        k = 0
        for _, name in iter_lines(self.path, self.encoding, self.max_len):
            if name:
                if self._first[k]:
                    yield name
                k += 1

    def layout(self, val_fraction: float, seed: int) -> Layout:
        """The split `corpus.split(names, val_fraction, seed)` would make, with the training names packed."""
        if self._layout is not None and (self._layout.val_fraction, self._layout.seed) == (val_fraction, seed):
            return self._layout
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError("val_fraction", val_fraction, "must be between 0 and 1")
        n = self.count
        n_val = min(max(1, round(n * val_fraction)), n - 1)
        is_val = np.zeros(n, dtype=bool)
        is_val[_shuffled(n, seed)[:n_val]] = True
        tag = f"{len(list(self._dir.glob('*.cp')))}"
        cp_path, off_path, names_path = (self._dir / f"{tag}.cp", self._dir / f"{tag}.off", self._dir / f"{tag}.txt")
        # Everything gathered during the pass lives in a few large buffers: strings or counters made
        # along the way would pin the allocator's arenas, and the process would keep ~70 MB it freed.
        counts = np.zeros(0x110000, dtype=np.int64)  # occurrences per code point among the training names
        held_out = bytearray()  # the held-out names, UTF-8, one per line
        offsets = array("q", [0])
        chunk = bytearray()  # code points (UTF-32) not yet written
        total, longest = 0, 0
        try:
            with open(cp_path, "wb") as cp, open(names_path, "w", encoding="utf-8", newline="\n") as listing:
                for j, name in enumerate(self._distinct()):
                    listing.write(name + "\n")
                    longest = max(longest, len(name))
                    if is_val[j]:
                        held_out += name.encode("utf-8") + b"\n"
                        continue
                    chunk += name.encode("utf-32-le")
                    total += len(name)
                    offsets.append(total)
                    if len(chunk) >= 4 * _FLUSH:
                        _flush(cp, chunk, counts)
                _flush(cp, chunk, counts)
            np.frombuffer(offsets, dtype=np.int64).tofile(off_path)
        except OSError as exc:  # the disk of the temporary folder filled up, most likely
            raise DataError(
                f"{self._dir}: could not write the packed copy of {self.path} ({exc.strerror or exc}); "
                f"free some space there, or point TMPDIR at a larger disk"
            ) from None
        train_count = len(offsets) - 1
        del offsets, is_val
        val_names = held_out.decode("utf-8").split("\n")[:-1]
        codepoints = np.memmap(cp_path, dtype=np.uint32, mode="r") if total else np.zeros(0, dtype=np.uint32)
        char_counts = {chr(c): int(counts[c]) for c in np.flatnonzero(counts)}
        self._layout = Layout(
            val_fraction,
            seed,
            train_count,
            val_names,
            char_counts,
            longest,
            codepoints,
            np.memmap(off_path, dtype=np.int64, mode="r"),
            PackedNames(names_path, n),
        )
        return self._layout


class PackedSource:
    """Training rows read from a `Layout`'s packed file (a `sources.BatchSource`)."""

    def __init__(self, layout: Layout, vocab: Vocab) -> None:
        self.layout = layout
        self.points = np.array([ord(c) for c in vocab.chars], dtype=np.int64)  # sorted, as the vocabulary is
        self.vocab = vocab

    def __len__(self) -> int:
        return self.layout.train_count

    def targets(self, idx: torch.Tensor) -> torch.Tensor:
        i = idx.numpy()
        off = self.layout.offsets
        return torch.from_numpy(np.asarray(off[i + 1] - off[i], dtype=np.int64) + 1)

    def _ids(self, points: np.ndarray) -> np.ndarray:
        """Vocabulary ids of code points (UNKNOWN for a character outside the vocabulary)."""
        pos = np.searchsorted(self.points, points)
        found = pos < len(self.points)
        found[found] = self.points[pos[found]] == points[found]
        return np.where(found, pos + N_SPECIAL, UNKNOWN)

    def rows(self, idx: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = idx.numpy()
        start = np.asarray(self.layout.offsets[i], dtype=np.int64)
        length = np.asarray(self.layout.offsets[i + 1], dtype=np.int64) - start  # (b,)
        cols = np.arange(width)
        inside = cols[None, :] < length[:, None]  # (b, width)
        where = np.where(inside, start[:, None] + cols[None, :], 0)
        points = (
            self.layout.codepoints[where.ravel()].astype(np.int64).reshape(where.shape)
            if where.size and len(self.layout.codepoints)
            else np.zeros(where.shape, dtype=np.int64)
        )
        ids = torch.from_numpy(np.where(inside, self._ids(points.ravel()).reshape(where.shape), 0))  # (b, width)
        mask = torch.from_numpy(inside)
        y = torch.where(mask, ids, torch.full_like(ids, -1))
        y[torch.arange(len(i)), torch.from_numpy(length)] = BOUNDARY  # the end of each name
        x = torch.full_like(ids, BOUNDARY)
        x[:, 1:] = torch.where(mask[:, :-1], ids[:, :-1], torch.full_like(ids[:, :-1], BOUNDARY))
        return x, y

    def rare_ids(self) -> torch.Tensor:
        once = sorted(c for c, n in self.layout.char_counts.items() if n == 1)
        return torch.tensor([self.vocab.id(c) for c in once], dtype=torch.long)
