"""Database access: flaskr's get_db()/close_db() on flask.g, over reused connections.

A network database must not be reconnected per request (for MySQL 9.7 that is a full caching_sha2_password
exchange each time: ~84 req/s against ~1,700 with reused connections, measured on 2 cores): get_db() borrows
a connection and close_db() gives it back.
The engine is chosen here, in make_source(), and nowhere else; both drivers take the same SQL.
"""

from __future__ import annotations

import itertools
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Protocol

import psycopg
import pymysql
from flask import Flask, current_app, g
from psycopg_pool import ConnectionPool, PoolTimeout

from .config import DBConfig

CONNECT_TIMEOUT = 3  # seconds to open a connection: a down database answers 500/503 quickly, never hangs
QUERY_TIMEOUT = 5  # seconds for a request's database work (borrow + statement): then its 500 with the reason
STATEMENT_BACKSTOP = QUERY_TIMEOUT + 1  # pymysql's per-read timeout after connecting: never the first to fire
# PostgreSQL pool size = gunicorn threads per worker (gunicorn.conf.py): one connection per busy thread.
POOL_MAX_SIZE = 4


class QueryTimeout(Exception):
    """The database did not answer within QUERY_TIMEOUT: the request's connection was cut."""


# The errors that mean "the database is unreachable, refused us or did not answer": the views turn them into
# JSON (DB-API errors of both drivers, and our own deadline).
DB_ERRORS = (pymysql.err.Error, psycopg.Error, QueryTimeout)


class Source(Protocol):
    """Where connections come from: borrow() one for a request, give_back() afterwards."""

    def borrow(self) -> Any: ...
    def give_back(self, conn: Any) -> None: ...
    def close(self) -> None: ...


def init_app(app: Flask) -> None:
    """Register the connection source and the teardown (flaskr's shape). Nothing connects yet."""
    app.extensions["db"] = make_source(app.config["DB"])
    app.teardown_appcontext(close_db)


def get_db() -> Any:
    """The request's connection: borrowed on first use, kept on g until teardown."""
    if "db" not in g:
        g.db = current_app.extensions["db"].borrow()
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    """Give the request's connection back (it is not closed: the next request reuses it)."""
    conn = g.pop("db", None)
    if conn is not None:
        current_app.extensions["db"].give_back(conn)


def query_one(sql: str) -> Any:
    """The first column of the first row (both drivers take the same SQL), within QUERY_TIMEOUT: borrowing
    (which may connect) and the statement share the budget, so a frozen database answers the request with an
    error, and frees its thread, after QUERY_TIMEOUT at most."""
    started = time.monotonic()
    conn = get_db()
    with deadline(conn, QUERY_TIMEOUT - (time.monotonic() - started)), conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@contextmanager
def deadline(conn: Any, seconds: float) -> Iterator[None]:
    """Cut CONN's socket if the block has not finished within SECONDS; the driver's blocked read then fails
    at once and the error becomes QueryTimeout. The cut connection is closed (pymysql) or broken (psycopg):
    neither is used again."""
    if seconds <= 0:
        raise QueryTimeout(f"no answer from the database within {QUERY_TIMEOUT} s")
    token = WATCHDOG.arm(socket_of(conn), seconds)
    try:
        yield
    except (*DB_ERRORS, OSError) as exc:
        if WATCHDOG.disarm(token):
            raise QueryTimeout(
                f"no answer from the database within {QUERY_TIMEOUT} s (query abandoned)"
            ) from exc
        raise
    else:
        if WATCHDOG.disarm(token):  # it fired as the answer arrived: the connection is cut all the same
            close_quietly(conn)


def socket_of(conn: Any) -> int:
    """The file descriptor of a driver connection's socket (pymysql's _sock: no public handle)."""
    return conn.pgconn.socket if isinstance(conn, psycopg.Connection) else conn._sock.fileno()


def close_quietly(conn: Any) -> None:
    with suppress(*DB_ERRORS, OSError):
        conn.close()


class Watchdog:
    """Deadlines for blocking driver calls, kept by one thread per process: once a deadline passes, the
    socket is shut down (both directions, on a duplicate of its descriptor), so whatever blocks on it returns
    with an error at once.

    Needed because a frozen server (`docker pause`, a hung host that still acknowledges) never closes the
    connection: the kernel keeps acknowledging, so neither TCP keepalives nor tcp_user_timeout ever fire,
    psycopg has no read timeout at all, and gunicorn's gthread timeout does not stop a request's thread.
    A descriptor is cut only while its deadline is armed, and a thread disarms before it closes its
    connection, so a reused descriptor is never touched.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, int]] = {}  # token: (monotonic deadline, fd)
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._waking_at = float("inf")  # when the thread wakes next (inf: when notified)

    def arm(self, fd: int, seconds: float) -> int:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="db-deadlines", daemon=True)
                self._thread.start()
            token = next(self._tokens)
            due = time.monotonic() + seconds
            self._armed[token] = (due, fd)
            if due < self._waking_at:  # only then: deadlines of one length arrive in order, a wake-up costs
                self._cond.notify()
        return token

    def disarm(self, token: int) -> bool:
        """Forget TOKEN's deadline. True when it had already fired (its socket was shut down)."""
        with self._cond:
            self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
        return False

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for token, (due, fd) in list(self._armed.items()):
                    if due <= now:
                        del self._armed[token]
                        self._fired.add(token)
                        _shut_down(fd)
                self._waking_at = min((due for due, _ in self._armed.values()), default=float("inf"))
                wait = self._waking_at - now
                self._cond.wait(None if wait == float("inf") else max(wait, 0.01))


def _shut_down(fd: int) -> None:
    try:
        dup = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    with dup, suppress(OSError):
        dup.shutdown(socket.SHUT_RDWR)


WATCHDOG = Watchdog()


def make_source(config: DBConfig) -> Source:
    """The one place the engine is chosen."""
    if config.engine == "postgres":
        return PostgresPool(config)
    return MySQLPerThread(config)


def error_message(exc: BaseException) -> str:
    """The driver's own message, as app.js sends err.message (pymysql's args are (code, message))."""
    message = exc.args[1] if isinstance(exc, pymysql.err.Error) and len(exc.args) == 2 else exc
    return str(message).strip() or type(exc).__name__


class MySQLPerThread:
    """One persistent pymysql connection per thread (gunicorn's gthread workers), replaced when it went stale.

    A few lines instead of a pool library: with N threads there are at most N connections, and a thread never
    shares its connection, so there is nothing to lock.
    """

    def __init__(self, config: DBConfig) -> None:
        self._kwargs = {
            "host": config.host,
            "port": config.port,
            "user": config.user,
            "password": config.password,
            "database": config.name,
            "connect_timeout": CONNECT_TIMEOUT,
            # pymysql reads the handshake with read_timeout: while connecting, that is CONNECT_TIMEOUT too
            # (borrow() then raises it to STATEMENT_BACKSTOP for the statements)
            "read_timeout": CONNECT_TIMEOUT,
            "write_timeout": CONNECT_TIMEOUT,
            "autocommit": True,
            # NOW() is a naive DATETIME in the session's time zone: make that UTC, so it can be labelled "Z".
            "init_command": "SET time_zone = '+00:00'",
        }
        self._local = threading.local()

    def borrow(self) -> pymysql.connections.Connection:
        conn = getattr(self._local, "conn", None)
        # pymysql offers no public handle on its socket; _sock has been there since its first release.
        if conn is not None and conn.open and _closed_by_server(conn._sock):
            conn.close()  # the server closed its end while the connection sat idle: it is stale
        if conn is None or not conn.open:
            # A new connection (after a DB restart, or the thread's first request). One attempt: if the
            # database is still down this raises, the request answers 500, and the next request tries again.
            self._local.conn = None
            conn = pymysql.connect(**self._kwargs)
            # Per-read timeouts once connected: a backstop only, query_one's deadline comes first. pymysql has
            # no public setter; it applies these attributes on each read and write (pymysql 1.x).
            conn._read_timeout = conn._write_timeout = STATEMENT_BACKSTOP
            self._local.conn = conn
        return conn

    def give_back(self, conn: pymysql.connections.Connection) -> None:
        """Nothing to do: the connection stays with its thread for the next request."""

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.open:
            conn.close()


def _closed_by_server(sock: Any) -> bool:
    """True when an idle connection's socket has something to read: the server said goodbye while it sat.

    Between requests the server owes us nothing, so a readable socket means end-of-file or the server's
    shutdown notice (a database restart closes every client connection). Asking the kernel costs no round
    trip, unlike a ping on every borrow (the tuning record in extras/bench/results.md compares both). A
    server that vanished without closing (its host gone) is not seen here: the query's timeout answers that
    request with a 500, and the next borrow connects again. `sock` is a socket or its file descriptor.
    """
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class PostgresPool:
    """psycopg_pool's ConnectionPool, opened on first use so the app starts even when the database is down."""

    def __init__(self, config: DBConfig) -> None:
        self._connection_class = _remembering_connection_class()
        self._pool = ConnectionPool(
            psycopg.conninfo.make_conninfo(
                host=config.host,
                port=config.port,
                user=config.user,
                password=config.password,
                dbname=config.name,
            ),
            connection_class=self._connection_class,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT,
                # The server cancels a slow statement half a second before query_one's deadline would cut
                # the connection (a cancelled statement leaves it usable); the deadline is for a frozen one.
                "options": f"-c statement_timeout={QUERY_TIMEOUT * 1000 - 500}",
                "tcp_user_timeout": QUERY_TIMEOUT * 1000,
            },
            min_size=1,
            max_size=POOL_MAX_SIZE,
            open=False,
            timeout=CONNECT_TIMEOUT,  # how long a request waits for a connection before the 500
            # A borrowed connection whose server closed it while it sat in the pool (a DB restart) is thrown
            # away and replaced instead of being handed to the request. Checked without a round trip.
            check=_check_not_closed_by_server,
            # Background reconnects back off exponentially; give up after 5 s so the next request starts a
            # fresh attempt, and readiness follows the database within seconds, not after a long backoff.
            reconnect_timeout=5,
        )
        self._open_lock = threading.Lock()

    def borrow(self) -> psycopg.Connection:
        with self._open_lock:
            if self._pool.closed:
                self._pool.open(wait=False)
        try:
            return self._pool.getconn()
        except PoolTimeout as exc:
            # The pool only says it waited; the driver's reason (refused, unknown host, bad password) is what
            # a learner needs, like app.js's err.message.
            last = self._connection_class.last_error
            raise psycopg.OperationalError(error_message(last) if last else str(exc)) from exc

    def give_back(self, conn: psycopg.Connection) -> None:
        self._pool.putconn(conn)

    def close(self) -> None:
        self._pool.close()


def _check_not_closed_by_server(conn: psycopg.Connection) -> None:
    """psycopg_pool's check= callback: raising makes the pool take another connection.

    Closed first: the pool throws away only a connection that is closed or broken, and would hand an open one
    straight back to this check.
    """
    if not conn.closed and _closed_by_server(conn.pgconn.socket):
        conn.close()
    if conn.closed:
        raise psycopg.OperationalError("the server closed this idle connection")


def _remembering_connection_class() -> type[psycopg.Connection]:
    """A psycopg Connection class (one per pool) that remembers why its last connect failed."""

    class RememberingConnection(psycopg.Connection):
        last_error: psycopg.OperationalError | None = None

        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> RememberingConnection:
            try:
                conn = super().connect(*args, **kwargs)
            # Connecting raises OperationalError for every network or auth failure; keep it, then re-raise.
            except psycopg.OperationalError as exc:
                cls.last_error = exc
                raise
            cls.last_error = None
            return conn

    return RememberingConnection
