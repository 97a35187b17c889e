"""What the adapter can learn of Hypercorn's graceful shutdown, for keep-alive connections.

After SIGTERM (or ``max_requests``) Hypercorn's worker sets ``WorkerContext.terminated``; from
then on it closes each HTTP/1 connection once its current response is sent, and closes idle ones
at once, without telling the client. Two consequences, handled by the adapter:

* a response sent after that point is the connection's last: it must say ``Connection: close``
  so the client does not send its next request into a connection that will not read it;
* a request can still be parsed from a connection the server has *just* closed (its bytes were
  in the socket as the idle connection was closed). Run, it could be applied and its response
  lost; it is not run.

ASGI carries neither fact, so both are read through ``send``: Hypercorn's stream's
``app_send``, whose object holds the ``context`` and, through the protocol's ``send``, the
``TCPServer`` and its stream ``writer``. Anything else (another server, a Hypercorn that changes
these) reads as "not shutting down": the plain behaviour, never a failure.
``tests/load/test_keepalive_shutdown.py`` fails if this stops seeing Hypercorn's state.
"""

from __future__ import annotations

from typing import Any

from .types import Send


def _owner(method: Any) -> Any:
    return getattr(method, "__self__", None)


def server_terminating(send: Send) -> bool:
    """Whether the worker serving this request has begun shutting down."""
    context = getattr(_owner(send), "context", None)
    is_set = getattr(getattr(context, "terminated", None), "is_set", None)
    return bool(is_set()) if callable(is_set) else False


def connection_closing(send: Send) -> bool:
    """Whether the server has already closed this request's connection (HTTP/1 over TCP)."""
    protocol = _owner(getattr(_owner(send), "send", None))  # H11Protocol
    tcp_server = _owner(getattr(protocol, "send", None))
    is_closing = getattr(getattr(tcp_server, "writer", None), "is_closing", None)
    return bool(is_closing()) if callable(is_closing) else False


def termination_waiter(send: Send) -> Any:
    """A coroutine function that returns when the worker serving this request begins shutting
    down (Hypercorn's ``WorkerContext.terminated``), or None when that cannot be seen. Event
    streams wait on it to end before the graceful timeout."""
    context = getattr(_owner(send), "context", None)
    wait = getattr(getattr(context, "terminated", None), "wait", None)
    return wait if callable(wait) else None


def leave_sigterm_to_the_server() -> bool:
    """In a worker process of a multi-process Hypercorn, let a SIGTERM sent to the whole
    process group stop the worker gracefully instead of killing it mid-request.

    Hypercorn's main process owns the shutdown: on SIGTERM it sets the event its workers watch,
    and each worker then finishes what it accepted within ``graceful_timeout`` (and closes its
    event streams). A worker has no SIGTERM handler of its own, so a signal to the group -
    systemd's default control-group stop, ``kill -TERM -<pgid>``, the group of ``flask serve``
    - killed every worker at once: accepted requests were cut, and Hypercorn's exit status
    depended on which worker it saw die first. Hypercorn already ignores SIGINT in its workers
    for the same reason (Ctrl+C reaches the group). This does the same for SIGTERM, except in a
    worker whose main process is gone (then nobody would stop it: it dies of the signal, as
    before). A worker is stopped through its server's main process, not by its own pid.

    Nothing happens in a single-process server (no parent process: Hypercorn's own SIGTERM
    handler applies). Returns whether the handler was installed.
    """
    import multiprocessing
    import os
    import signal

    if multiprocessing.parent_process() is None:
        return False
    parent = os.getppid()

    def on_sigterm(signum: int, frame: Any) -> None:
        if os.getppid() != parent:  # orphaned: no main process will stop this worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    return True
