"""The web page and its JSON API: `xiaming serve`.

`backend.py` loads the models once and is the only place that calls the library; `schemas.py`
holds the request and response shapes with their bounds; `app.py` is the FastAPI app (routes,
error handling, request size and time limits); `static/` is the page, plain HTML, CSS and
JavaScript with no build step. The app holds no generation logic of its own.

Needs the optional extra: `pip install "xiaming[web]"` (FastAPI and uvicorn).
"""
