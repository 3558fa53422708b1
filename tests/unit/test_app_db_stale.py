"""db.py's stale-connection check on real sockets: an idle connection is stale when the server closed it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from app_server.db import _closed_by_server

pytestmark = pytest.mark.unit


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected TCP pair on loopback: (the app's end, the database's end)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        app_end = socket.create_connection(listener.getsockname())
        server_end, _ = listener.accept()
    try:
        yield app_end, server_end
    finally:
        app_end.close()
        server_end.close()


def test_a_quiet_idle_connection_is_kept(pair) -> None:
    app_end, _ = pair
    assert _closed_by_server(app_end) is False
    assert _closed_by_server(app_end.fileno()) is False  # psycopg hands over a file descriptor


def test_a_connection_the_server_closed_is_stale(pair) -> None:
    app_end, server_end = pair
    server_end.close()  # what a database restart does to every client connection
    assert _closed_by_server(app_end) is True


def test_a_goodbye_message_makes_it_stale_too(pair) -> None:
    app_end, server_end = pair
    server_end.sendall(b"FATAL: terminating connection due to administrator command")  # PostgreSQL's shutdown
    assert _closed_by_server(app_end) is True
    assert app_end.recv(5) == b"FATAL", "the check must not consume what the server sent"
