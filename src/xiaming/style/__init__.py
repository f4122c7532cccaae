"""Style: whose style a name is and names in a mix of styles, over the generation floor.

`attribution` scores a name under several style models (`who`, `StyleJudge`) with a fitted
calibration; `build` fits that calibration (a build step: scripts/build_style.py, never imported
by attribution); `mix` makes several models one `Namer`; `quiz` is the guess-the-author game.
"""
