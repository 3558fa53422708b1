"""app_server.db's query deadline, with no engine: the watchdog cuts a socket whose deadline passed (a read
blocked on it returns at once), leaves one alone whose block finished in time, and `deadline` turns the
driver's error into QueryTimeout only when the watchdog cut the connection. Against a real frozen database
(docker pause): tests/integration/test_app_db.py."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pymysql
import pytest

from app_server.db import QUERY_TIMEOUT, WATCHDOG, QueryTimeout, Watchdog, close_quietly, deadline

pytestmark = pytest.mark.unit

BACKSTOP = 3  # seconds a read may block at most


class Conn:
    """What `deadline` needs of a pymysql connection: its socket (the peer never answers)."""

    def __init__(self) -> None:
        self._sock, self.peer = socket.socketpair()
        # A backstop far past every deadline here: a watchdog that never fires fails the test, not hangs it.
        self._sock.settimeout(BACKSTOP)
        self.closed = False

    def read_answer(self) -> bytes:
        """Block for the server's answer, as pymysql does; an end-of-file is its 'Lost connection'."""
        data = self._sock.recv(1)
        if not data:
            raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
        return data

    def close(self) -> None:
        self.closed = True
        self._sock.close()
        self.peer.close()


def test_a_read_blocked_past_its_deadline_returns_and_becomes_query_timeout() -> None:
    conn = Conn()
    started = time.monotonic()
    message = f"no answer from the database within {QUERY_TIMEOUT} s"
    with pytest.raises(QueryTimeout, match=message), deadline(conn, 0.3):
        conn.read_answer()
    took = time.monotonic() - started
    assert 0.3 <= took < 1.5, took
    conn.close()


def test_an_answer_in_time_disarms_and_leaves_the_connection_usable() -> None:
    conn = Conn()
    conn.peer.send(b"x")
    with deadline(conn, 0.3):
        assert conn.read_answer() == b"x"
    time.sleep(0.5)  # past the deadline it had: nothing may fire now
    conn.peer.send(b"y")
    assert conn.read_answer() == b"y"
    assert not conn.closed
    conn.close()


def test_a_driver_error_of_its_own_passes_through_unchanged() -> None:
    conn = Conn()
    with pytest.raises(pymysql.err.OperationalError) as raised, deadline(conn, 5):
        raise pymysql.err.OperationalError(1045, "Access denied")
    assert type(raised.value) is pymysql.err.OperationalError
    conn.close()


def test_no_budget_left_raises_before_the_query() -> None:
    conn = Conn()
    with pytest.raises(QueryTimeout), deadline(conn, 0):
        pytest.fail("the block must not run")
    conn.close()


def test_many_deadlines_at_once_each_fire_on_its_own_socket() -> None:
    conns = [Conn() for _ in range(8)]
    errors: list[BaseException] = []

    def wait(conn: Conn, seconds: float) -> None:
        try:
            with deadline(conn, seconds):
                conn.read_answer()
        except QueryTimeout as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wait, args=(c, 0.2 + i * 0.05)) for i, c in enumerate(conns)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert len(errors) == 8 and time.monotonic() - started < 3
    assert WATCHDOG.disarm(-1) is False  # an unknown token: nothing fired for it
    for c in conns:
        c.close()


def test_a_block_that_ends_after_its_deadline_fired_loses_its_connection() -> None:
    conn = Conn()
    with deadline(conn, 0.1):
        time.sleep(0.4)  # no read, so no error: but the watchdog cut the socket meanwhile
    assert conn.closed  # a cut connection is never handed to the next request


def test_a_watchdog_keeps_its_thread_through_idle_spells(monkeypatch) -> None:
    """A new Watchdog fires one deadline, sits idle with nothing armed, then fires the next: its thread
    never dies in between (a thread that died would leave the next deadline to a new one, or to nobody)."""
    crashes: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    watchdog = Watchdog()
    for _ in range(2):
        conn = Conn()
        token = watchdog.arm(conn._sock.fileno(), 0.1)
        assert conn._sock.recv(1) == b""  # shut down by the watchdog, well before BACKSTOP
        assert watchdog.disarm(token) is True
        assert watchdog.disarm(token) is False  # told once
        conn.close()
        time.sleep(0.2)  # idle: nothing armed
    # A socket already disconnected (shutdown() fails with ENOTCONN) is skipped, not the watchdog's end.
    with socket.socket() as unconnected:
        token = watchdog.arm(unconnected.fileno(), 0.05)
        time.sleep(0.2)
        assert watchdog.disarm(token) is True
    assert crashes == []


class ClosesBadly:
    """A connection whose close() fails the way a cut connection's may."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def close(self) -> None:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        OSError(9, "Bad file descriptor"),
        pymysql.err.InterfaceError(0, ""),
        psycopg.OperationalError("the connection is lost"),
    ],
    ids=["OSError", "pymysql", "psycopg"],
)
def test_closing_a_cut_connection_never_raises(error) -> None:
    close_quietly(ClosesBadly(error))


def test_the_watchdog_is_one_daemon_thread_named_in_a_stack_dump() -> None:
    """A daemon thread never keeps a stopping gunicorn worker alive; its name says what it is in a dump."""
    watchdog = Watchdog()
    conn = Conn()
    try:
        token = watchdog.arm(conn._sock.fileno(), 5)
        thread = watchdog._thread
        assert thread is not None and thread.is_alive()
        assert (thread.name, thread.daemon) == ("db-deadlines", True)
        assert watchdog.disarm(token) is False  # disarmed in time: it did not fire
        again = watchdog.arm(conn._sock.fileno(), 5)
        assert watchdog._thread is thread  # one thread for every deadline
        assert watchdog.disarm(again) is False
    finally:
        conn.close()
