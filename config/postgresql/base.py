"""Django's PostgreSQL backend, checking a pooled connection with a round trip only when unsure.

With a pool (`DB_POOL_MAX_SIZE`) and CONN_HEALTH_CHECKS, Django 5.2 gives the pool psycopg's
`ConnectionPool.check_connection`: an empty query before every checkout, that is one round trip
more for every request, and under the large-campus load bench 7.6 % of a web process's busy
samples were spent in it (py-spy, `bench/load.py`).

`check_unless_recent` asks the server only when it is unsure: the connection has not answered a
check for `TRUST_SECONDS`, or its socket has something to read while the connection is idle. A
server that restarts, an administrator's pg_terminate_backend and an idle-session timeout all send
an error and close the socket, which the poll sees at once, so such a connection is still caught
before a request gets it. A connection dropped silently (a firewall forgetting it) is caught by the
round trip once it has been idle for `TRUST_SECONDS`. The settings use this backend only with a pool.

Django 6.1 takes a `check` in OPTIONS["pool"] (ticket #37075): then this backend can go and the
settings pass `check_unless_recent` there.
"""

from __future__ import annotations

import select
from time import monotonic
from typing import Any

from django.db.backends.postgresql import base
from psycopg import Connection
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

# Seconds a connection that answered a check is trusted without another, unless its socket says otherwise.
TRUST_SECONDS = 5.0
_CHECKED_AT = "_wattwatch_checked_at"


def _has_input(conn: Connection[Any]) -> bool:
    """Whether the server sent something to an idle connection (an error before it closed it, say)."""
    fd = conn.pgconn.socket
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def check_unless_recent(conn: Connection[Any]) -> None:
    """The pool's check: raise if `conn` is not fit to hand out; a round trip only when unsure."""
    unsure = (
        # psycopg's own check raises its usual error for the first three (or finds the connection fine)
        conn.closed
        or conn.broken
        or conn.pgconn.transaction_status != TransactionStatus.IDLE
        or monotonic() - getattr(conn, _CHECKED_AT, float("-inf")) >= TRUST_SECONDS
        or _has_input(conn)
    )
    if unsure:
        ConnectionPool.check_connection(conn)
        setattr(conn, _CHECKED_AT, monotonic())


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool[Any] | None:
        pool = super().pool  # type: ignore[misc]  # django-stubs do not know the pool yet
        # Django 5.2 passes the check to the pool itself (no option for it): swap it once.
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = check_unless_recent
        return pool
