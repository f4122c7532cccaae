"""Evidence that reweights the sampler: per-name judgements beyond the character model.

Each kind of evidence (the realism critic, a gender lean) is one object with `log_weights(names)`:
the log importance weight of each candidate name. Sampling draws a pool of candidates from the
model (every constraint and the novelty rule already applied) and resamples from it in proportion
to exp(sum of log weights), so the names follow the model reweighted by the evidence and keep its
variety (sampling-importance-resampling; see `steer.py`). A new kind of evidence is one more object.
"""
