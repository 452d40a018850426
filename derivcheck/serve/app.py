"""``derivcheck serve``: the page and the HTTP API (CONTRACT section 6).

Starlette on uvicorn: a small ASGI toolkit with nothing we do not use (no ORM, no
templates engine of its own, no validation layer: requests are batch items, checked by
:mod:`derivcheck.serve.grading`), a test client that runs the app in-process, and a
server that is one ``pip install`` away. The app holds no state besides its worker pool:
every answer depends only on the request.

Endpoints::

    GET  /               the page (static HTML, JS and CSS; KaTeX ships with it)
    POST /api/check      a batch item -> the check JSON; 400 and the error JSON for bad
                         input; past the budget the verdict is unknown.
                         ?render=1 adds "tex" (LaTeX of both formulas) and, on errors,
                         "rendered" (the message with its caret), for the page
    POST /api/parse      how the candidate is read (the page's live preview)
    POST /api/gradient   {"network", "wrt"?, "kink_convention"?} -> the gradient JSON
    POST /api/sheet      {"network", ...} -> the derivation sheet, application/pdf
    POST /api/report     a batch item -> the check's report, application/pdf
    GET  /healthz        {"status": "ok", "workers": N, "idle": n}
"""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__, limits
from .pool import CRASHED, TIMED_OUT, Pool

__all__ = ["create_app", "MAX_REQUEST_BYTES"]

#: Bytes in one request body (a formula is at most limits.MAX_TEXT_LENGTH characters, a
#: network's equations limits.MAX_FILE_SIZE together).
MAX_REQUEST_BYTES = 4 * limits.MAX_FILE_SIZE

STATIC = resources.files("derivcheck.serve") / "static"


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"verdict": "error", "error": {"kind": kind, "message": message,
                                                       "position": None}}, status_code=status)


class _TooLarge(Exception):
    pass


async def _body(request: Request):
    """The request's JSON, read up to :data:`MAX_REQUEST_BYTES`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise _TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise _TooLarge
    return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _unknown(body, pool: Pool) -> dict:
    """The check JSON of a request whose worker was killed at the hard limit."""
    from ..decide.verdict import Result
    item = body if isinstance(body, dict) else {}
    wrt, candidate = item.get("wrt"), item.get("candidate")
    assume = item.get("assume") or []
    assume = [assume] if isinstance(assume, str) else assume
    convention = item.get("kink_convention")
    return Result(
        verdict="unknown", wrt=wrt if isinstance(wrt, str) else "?",
        candidate=candidate if isinstance(candidate, str) else "", gradient="",
        method="none", kink_convention=convention if isinstance(convention, str) else "any",
        assumptions=[a for a in assume if isinstance(a, str)] if isinstance(assume, list)
        else [],
        reason=f"no answer within {pool.hard_timeout:g} s (the budget is {pool.timeout:g} s); "
               "the worker was stopped").to_json()


def _endpoint(kind: str):
    async def endpoint(request: Request) -> Response:
        pool: Pool = request.app.state.pool
        try:
            body = await _body(request)
        except _TooLarge:
            return _error(413, "limit_exceeded",
                          f"the request is larger than {MAX_REQUEST_BYTES} bytes")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return _error(400, "invalid_json", f"the request body is not JSON: {exc}")
        render = request.query_params.get("render") in ("1", "true")
        status, answer = await pool.run((kind, body, {"render": render}))
        if status == TIMED_OUT:
            if kind == "check":
                return JSONResponse(_unknown(body, pool))
            return _error(503, "timeout", f"no answer within {pool.hard_timeout:g} s; "
                                          "the worker was stopped")
        if status == CRASHED:
            return _error(500, "crash", "the worker handling this request died; other "
                                        "requests are not affected")
        code, payload = answer
        if isinstance(payload, bytes):
            name = "sheet.pdf" if kind == "sheet" else "report.pdf"
            return Response(payload, media_type="application/pdf",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return JSONResponse(payload, status_code=code)
    return endpoint


async def healthz(request: Request) -> JSONResponse:
    pool: Pool = request.app.state.pool
    return JSONResponse({"status": "ok", "version": __version__, "workers": pool.size,
                         "idle": pool.idle, "timeout": pool.timeout})


async def page(request: Request) -> FileResponse:
    return FileResponse(str(STATIC / "index.html"), media_type="text/html")


def create_app(jobs: int = 2, timeout: float = limits.DEFAULT_TIMEOUT, **pool_options
               ) -> Starlette:
    """The ASGI app, with ``jobs`` worker processes and a budget of ``timeout`` s;
    ``pool_options`` go to :class:`~derivcheck.serve.pool.Pool` (``grace``, ``handler``).
    The workers start with the app (its lifespan), e.g. under uvicorn or a test client.

    >>> app = create_app(1, timeout=5)
    >>> [route.path for route in app.routes][:4]
    ['/', '/healthz', '/api/check', '/api/parse']
    """

    @asynccontextmanager
    async def lifespan(app):
        async with Pool(jobs, timeout, **pool_options) as pool:
            app.state.pool = pool
            yield

    routes = [Route("/", page), Route("/healthz", healthz)]
    routes += [Route(f"/api/{kind}", _endpoint(kind), methods=["POST"])
               for kind in ("check", "parse", "gradient", "sheet", "report")]
    routes.append(Mount("/static", StaticFiles(directory=str(STATIC)), name="static"))
    return Starlette(routes=routes, lifespan=lifespan)
