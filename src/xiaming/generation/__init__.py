"""Generation: everything between a loaded model and the names it gives.

`namer.Namer` is the one object every front end calls (generate, best, score, explain, prepare);
`constraints` compiles the user's options into masks once, `sample` draws, `search` finds the
likeliest names within a budget (`deadline` bounds its time), `novelty` says what counts as new,
`score` gives log-probabilities per character, `explain` shows a name's choices, `kinds` asks for
personal names or epithets, and `evaluate` / `realism` measure a model's names. Models come from
`xiaming.engine` (numpy) through `xiaming.checkpoint`; nothing here imports torch at import time.
"""
