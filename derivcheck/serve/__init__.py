"""Where students and courses work: the page and the HTTP API (``derivcheck serve``).

:mod:`.app` is the Starlette app, :mod:`.pool` its worker processes, :mod:`.grading`
what a worker does with one request; the page is in ``static/``. Starlette and uvicorn
are the optional extra ``derivcheck[serve]``: :func:`serve` says how to install them
when they are missing.
"""
from __future__ import annotations

from .. import limits
from ..errors import DerivcheckError

__all__ = ["serve", "cmd_serve", "ServeError"]

INSTALL = "pip install 'derivcheck[serve]'   (Starlette and uvicorn)"


class ServeError(DerivcheckError):
    """The server cannot start (its extra is not installed, the port is taken)."""

    kind = "serve_error"


def serve(host: str = "127.0.0.1", port: int = 8000, jobs: int = 2,
          timeout: float = limits.DEFAULT_TIMEOUT) -> None:
    """Run the page and the API until interrupted."""
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise ServeError(f"derivcheck serve needs Starlette and uvicorn ({exc.name} is "
                         "not installed)", hint=INSTALL) from None
    import os
    import socket
    try:
        socket.create_server((host, port)).close()
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         hint="choose another --port, or stop what uses this one") from None
    workers = jobs if jobs > 0 else os.cpu_count() or 1
    print(f"derivcheck serve: http://{host}:{port}/  ({workers} worker processes, "
          f"{timeout:g} s per check; Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(workers, timeout), host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=2)


def cmd_serve(args) -> int:
    """``derivcheck serve``: run until interrupted."""
    serve(args.host, args.port, args.jobs, args.timeout)
    return 0
