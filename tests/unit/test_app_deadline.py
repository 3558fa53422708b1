"""app_server.db's query deadline, with no engine: the watchdog cuts a socket whose deadline passed (a read
blocked on it returns at once), leaves one alone whose block finished in time, and `deadline` turns the
driver's error into QueryTimeout only when the watchdog cut the connection. Against a real frozen database
(docker pause): tests/integration/test_app_db.py."""

from __future__ import annotations

import socket
import threading
import time

import pymysql
import pytest

from app_server.db import QUERY_TIMEOUT, WATCHDOG, QueryTimeout, deadline

pytestmark = pytest.mark.unit


class Conn:
    """What `deadline` needs of a pymysql connection: its socket (the peer never answers)."""

    def __init__(self) -> None:
        self._sock, self.peer = socket.socketpair()
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
