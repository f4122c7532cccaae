"""The FastAPI app: the page at /, the JSON API under /api, its documentation at /docs.

`create_app(backend)` builds the app over models already loaded (`backend.Backend`); it holds no
generation logic. What it adds is the HTTP side of the library's contract:

- every error is JSON `{"detail": "one line"}`: a bad field is 422 naming the field, a value the
  library refuses is 400 with its message in the request's field names and, when the library says
  which field is at fault, that field as `"field"` (`errors.error_body`), an unknown path 404, a body
  over `max_body` bytes 413, a request the server cannot start in time, or that
  takes longer than `timeout` seconds, 503 with `Retry-After` (and a bug, should one remain, a 500
  saying so rather than a bare page);
- with `hosts` given (a loopback server), a request for any other host name is refused (`Guard`);
- library calls run on a small thread pool (one thread per core by default), so a burst of
  requests queues instead of fighting over the cores; which request takes a free thread is
  decided by `admission.Admission`: a fair queue in two lanes, where expensive requests may hold
  all threads but one, a request is refused at once (503, Retry-After) when it could not start
  within the time limit, and one whose client has gone away leaves the queue; each answer's
  Server-Timing header gives the time it waited (queue) and the time the library worked (work);
  with `processes` (`workers.Workers`) each thread hands its call to a worker process, so the
  calls are not limited to one core;
- requests name models only by their loaded names (see `schemas.py`);
- /docs (Swagger UI) and /redoc load their scripts and styles from the app itself, under
  `DOCS_ASSETS`, from the files the `fastapi-offline` package ships: FastAPI's own pages fetch them
  from a CDN, which left /docs blank on a machine without the internet.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import XiamingError
from .admission import Admission, Full, Ticket
from .backend import Backend
from .errors import error_body, invalid_field
from .schemas import (
    MAX_BODY,
    TIMEOUT,
    BestRequest,
    ErrorOut,
    ExplainOut,
    ExplainRequest,
    GenerateRequest,
    Limits,
    ModelsOut,
    NamesOut,
    QuizOut,
    QuizRequest,
    ScoreOut,
    ScoreRequest,
    VerseOut,
    VerseRequest,
    WhoOut,
    WhoRequest,
    _Options,
)
from .workers import Workers

STATIC = resources.files(__package__).joinpath("static")
DOCS_ASSETS = "/docs-assets"  # where /docs and /redoc find Swagger UI's and ReDoc's files (fastapi-offline's)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": what}
    for code, what in (
        (400, "the library refused a value (one line; `field` names the request field at fault, when one is)"),
        (413, "request body too large"),
        (422, "a field is missing, of the wrong type or out of bounds"),
        (
            503,
            (
                "the server is full: it could not start the request, or finish it, within its time limit; "
                "the Retry-After header says in how many seconds to try again"
            ),
        ),
    )
}


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class Guard:
    """ASGI middleware: refuse a request for a host name not in `hosts` (400), and a body over `limit`
    bytes (413), declared or streamed.

    The host check stops DNS rebinding: a web page on another site whose name is made to point at
    127.0.0.1 could otherwise use the local server as its own. The body (at most `limit` bytes) is
    read here, before the app sees the request, and handed on whole; a streamed body is cut off as
    soon as it passes the limit.
    """

    def __init__(self, app, limit: int, hosts: tuple[str, ...] | None = None) -> None:
        self.app, self.limit, self.hosts = app, limit, hosts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.hosts is not None:
            host = headers.get(b"host", b"").decode("latin-1")
            name = host[: host.rindex("]") + 1] if host.startswith("[") else host.split(":")[0]
            if name not in self.hosts:
                response = JSONResponse(
                    {"detail": f"host {host!r} is not served here (use {self.hosts[0]})"}, status_code=400
                )
                return await response(scope, receive, send)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _too_large(self.limit)(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _too_large(self.limit)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body over {limit:,} bytes"}, status_code=413)


def _one_line(exc: RequestValidationError) -> str:
    """The first validation error as one line naming the field (`n: Input should be ...`)."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    if not where:
        return (
            "the request body must be a JSON object"
            if first.get("type") != "missing"
            else "a JSON request body is required"
        )
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def _settings(req: _Options, **sampling: Any) -> dict[str, Any]:
    """The request's sampling options by SampleOptions field (None: the model's default)."""
    return dict(
        prefix=req.prefix,
        min_len=req.min_len,
        max_len=req.max_len,
        include=req.include,
        exclude=req.exclude,
        charset=req.charset,
        **sampling,
    )


def create_app(
    backend: Backend,
    timeout: float = TIMEOUT,
    max_body: int = MAX_BODY,
    workers: int | None = None,
    hosts: tuple[str, ...] | None = None,
    processes: Workers | None = None,
) -> FastAPI:
    """The app over loaded models; `timeout` seconds per request, `workers` library threads (default:
    cores), `hosts` the host names it answers to (None: any; `LOOPBACK_HOSTS` for a local server),
    `processes` worker processes making the library calls (None: the threads make them; with
    processes, one thread per process)."""
    threads = processes.count if processes is not None else (workers or os.cpu_count() or 2)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xiaming")
    admission = Admission(threads, timeout)  # at most `threads` calls are handed to the pool at once

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPIOffline(
        title="xiaming (侠名)",
        version=_version(),
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        description="New names from character-level models: generate (one model or a mix of styles), "
        "search for the likeliest, score, explain one name, whose style, the guessing "
        "game, names from classical verse. Requests name models as listed by GET "
        '/api/models. Every error is JSON `{"detail": "one line"}`.',
    )
    app.add_middleware(Guard, limit=max_body, hosts=hosts)
    app.state.admission = admission

    def library(name: str, args: list[Any]) -> Any:
        """`backend.<name>(*args)`, in a worker process when there are some."""
        if processes is not None:
            return processes.call(name, args)
        return getattr(backend, name)(*args)

    async def run(request: Request, response: Response, req: BaseModel, name: str, *args: Any) -> Any:
        """`backend.<name>(*args)` on the pool, once `admission` gives the request a thread, within the
        time limit; the Server-Timing header says how long the request waited for a thread (queue) and
        how long the library worked (work), in ms."""
        queued = time.perf_counter()
        lane, shape = admission.lane_of(name, req.model_dump(exclude_none=True))
        ticket = admission.admit(lane, shape)  # Full: 503 at once
        await _granted(ticket, request, timeout)
        started = time.perf_counter()
        work: list[float] = []

        def timed() -> Any:
            try:
                return library(name, list(args))
            finally:
                work.append(time.perf_counter() - started)

        future = asyncio.get_running_loop().run_in_executor(pool, timed)
        future.add_done_callback(lambda _f: admission.release(ticket, work[0] if work else None))
        try:  # shielded: the slot stays taken until the call really ends, even past the time limit
            result = await asyncio.wait_for(asyncio.shield(future), max(0.0, timeout - (started - queued)))
        except asyncio.TimeoutError:
            raise _Busy(timeout, admission.retry_after(lane)) from None
        done = time.perf_counter()
        response.headers["Server-Timing"] = (
            f"queue;dur={1000 * (started - queued):.1f}, work;dur={1000 * (done - started):.1f}"
        )
        return result

    async def _granted(ticket: Ticket, request: Request, seconds: float) -> None:
        """Wait until `ticket` may take a thread; _Busy after `seconds`, _Gone when the client leaves."""
        if ticket.granted.done():
            return
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            done, _ = await asyncio.wait({ticket.granted, gone}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the handler itself was cancelled: give back a thread granted meanwhile
            ticket.leave()
            admission.release(ticket, None)
            raise
        finally:
            gone.cancel()
        if ticket.granted.done():
            return
        ticket.leave()  # never started: it holds no thread
        if gone in done:
            raise _Gone()
        raise _Busy(seconds, admission.retry_after(ticket.lane))

    @app.exception_handler(XiamingError)
    async def _library_error(_request: Request, exc: XiamingError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc), **invalid_field(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); please report it"}, status_code=500)

    @app.exception_handler(Full)
    async def _full(_request: Request, exc: Full) -> JSONResponse:
        what = "expensive requests" if exc.lane == "heavy" else "requests"
        return JSONResponse(
            {
                "detail": f"the server is full of {what}: this one could not start within "
                f"{timeout:g} s; try again in {exc.retry_after} s"
            },
            status_code=503,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(_Busy)
    async def _busy(_request: Request, exc: _Busy) -> JSONResponse:
        return JSONResponse(
            {
                "detail": f"the request took longer than {exc.seconds:g} s; ask for fewer names "
                "or loosen the constraints"
            },
            status_code=503,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(_Gone)
    async def _gone(_request: Request, _exc: _Gone) -> Response:
        return Response(status_code=499)  # nobody reads it: the client closed the connection

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(str(STATIC.joinpath("index.html")), media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/api/models", response_model=ModelsOut, summary="the loaded models and the request limits")
    async def models() -> ModelsOut:
        return ModelsOut(
            default=backend.default,
            models=backend.describe(),
            limits=Limits(timeout_s=timeout, budget_s=backend.budget),
            features=backend.features(),
            styles=backend.styles if "who" in backend.features() else [],
        )

    @app.post("/api/generate", response_model=NamesOut, responses=ERRORS, summary="sample n distinct new names")
    async def generate(req: GenerateRequest, request: Request, response: Response) -> NamesOut:
        settings = _settings(
            req,
            temperature=req.temperature,
            top_k=req.top_k,
            top_p=req.top_p,
            min_p=req.min_p,
            word_lean=req.word_lean,
        )
        return await run(
            request,
            response,
            req,
            "generate",
            req.model,
            req.n,
            settings,
            req.novelty,
            req.seed,
            req.rank,
            req.style,
            req.gender,
            req.blend,
            req.kind,
        )

    @app.post("/api/best", response_model=NamesOut, responses=ERRORS, summary="the n most likely new names, by search")
    async def best(req: BestRequest, request: Request, response: Response) -> NamesOut:
        settings = _settings(req)
        return await run(request, response, req, "best", req.model, req.n, settings, req.novelty, req.gender, req.blend)

    @app.post("/api/score", response_model=ScoreOut, responses=ERRORS, summary="how likely the model finds each name")
    async def score(req: ScoreRequest, request: Request, response: Response) -> ScoreOut:
        return await run(request, response, req, "score", req.model, req.names, req.style, req.blend)

    @app.post(
        "/api/explain",
        response_model=ExplainOut,
        responses=ERRORS,
        summary="inside the model for one name: each step's alternatives, an LSTM's gates and units",
    )
    async def explain(req: ExplainRequest, request: Request, response: Response) -> ExplainOut:
        return await run(request, response, req, "explain", req.model, req.name, req.top, req.style, req.blend)

    @app.post(
        "/api/verse",
        response_model=VerseOut,
        responses=ERRORS,
        summary="given names taken from a line of classical verse, each with its line and poem",
    )
    async def verse(req: VerseRequest, request: Request, response: Response) -> VerseOut:
        return await run(
            request,
            response,
            req,
            "verse",
            req.model,
            req.n,
            req.surname,
            req.books,
            req.gender,
            req.seed,
            req.given_len,
        )

    if "who" in backend.features():

        @app.post("/api/who", response_model=WhoOut, responses=ERRORS, summary="whose style each name is in")
        async def who(req: WhoRequest, request: Request, response: Response) -> WhoOut:
            return await run(request, response, req, "who", req.names, req.models)

    if "quiz" in backend.features():

        @app.post(
            "/api/quiz",
            response_model=QuizOut,
            responses=ERRORS,
            summary="rounds of the guessing game, each with its answer",
        )
        async def quiz(req: QuizRequest, request: Request, response: Response) -> QuizOut:
            return await run(request, response, req, "quiz", req.mode, req.rounds, req.size, req.seed, req.models)

    return app


class _Busy(Exception):
    """A request ran past the time limit (waiting for a thread, or in the library)."""

    def __init__(self, seconds: float, retry_after: int) -> None:
        super().__init__(seconds, retry_after)
        self.seconds, self.retry_after = seconds, retry_after


class _Gone(Exception):
    """The client closed the connection while its request waited for a thread."""


async def _disconnected(request: Request) -> None:
    """Return when the client has closed the connection (the ASGI server's `http.disconnect`)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _version() -> str:
    from .. import __version__

    return __version__
