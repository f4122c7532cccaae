"""Training: one loop that runs in 1..N processes over names in memory or streamed from a file.

| module | owns |
| --- | --- |
| `config.py` | `TrainConfig` and the validation cadence (torch-free: the CLI's help reads it) |
| `plan.py` | the run plan: fresh, fine-tune (`init`), resume; the checks of a saved run |
| `sources.py` | where names come from: `ListSource` (in memory) and the `DataSource` interface |
| `stream.py` | `StreamedNames`: a names file read in bounded memory, as a data source |
| `trainer.py` | one update: `GradientTrainer` (sharded over ranks), the schedule, the held-out loss |
| `parallel.py` | the group of processes (one, or torchrun's ranks) and its collectives |
| `loop.py` | `train()`: the loop, validation, early stopping, checkpoints, the resumable state |
| `guard.py` | before the first write: the output is not the input list, is replaced only when asked, one run per output (a lock) |

Importing this package does not import torch; `xiaming.train` is `loop.train`.
"""

from .config import FINE_TUNE_DROPOUT, TrainConfig, cadence

__all__ = ["FINE_TUNE_DROPOUT", "TrainConfig", "cadence"]
