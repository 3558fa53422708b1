"""app_server's HTTP answers with no engine: the JSON shapes, and the 500/503 path on a real refusal."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pymysql
import pytest

from app_server import create_app
from app_server.config import ConfigError
from app_server.db import CONNECT_TIMEOUT, error_message
from app_server.views import iso_utc

pytestmark = pytest.mark.unit

KST = timezone(timedelta(hours=9))


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nothing else takes it) but never listening."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture(scope="module", params=["mysql", "postgres"])
def app_without_db(request, closed_port):
    """The app, started against a database that is not there (a closed port on 127.0.0.1)."""
    app = create_app(
        {"DB_ENGINE": request.param, "DB_HOST": "127.0.0.1", "DB_PORT": str(closed_port), "DB_PASSWORD": "x"}
    )
    try:
        yield app
    finally:
        app.extensions["db"].close()


def test_get_root_without_a_database_is_500_with_the_drivers_message(app_without_db) -> None:
    started = time.monotonic()
    response = app_without_db.test_client().get("/")
    assert time.monotonic() - started < CONNECT_TIMEOUT + 2, "a refused connection must not hang the request"
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert "Connection refused" in body["error"], body  # the driver's reason, not a pool's "timed out"


def test_readyz_is_503_with_the_reason_while_the_database_is_down(app_without_db) -> None:
    response = app_without_db.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert "Connection refused" in body["reason"]


def test_healthz_is_200_without_touching_the_database(app_without_db) -> None:
    response = app_without_db.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_an_unknown_path_is_a_json_404(app_without_db) -> None:
    response = app_without_db.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Not Found"}


def test_a_wrong_method_is_a_json_405_that_says_what_is_allowed(app_without_db) -> None:
    response = app_without_db.test_client().post("/")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Method Not Allowed"}
    assert "GET" in response.headers["Allow"]


class FixedClock:
    """A connection source whose database always answers SELECT NOW() with one value (no engine needed)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        # a socket of its own, as pymysql's connection has one: the query's deadline is armed on it
        self._sock, self._peer = socket.socketpair()

    def borrow(self) -> FixedClock:
        return self

    def give_back(self, conn: FixedClock) -> None:
        pass

    def close(self) -> None:
        self._sock.close()
        self._peer.close()

    def cursor(self) -> FixedClock:
        return self

    def __enter__(self) -> FixedClock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def execute(self, sql: str) -> None:
        assert sql == "SELECT NOW()"

    def fetchone(self) -> tuple[datetime]:
        return (self.now,)


@pytest.mark.parametrize(
    ("engine", "db_now", "expected"),
    [
        # pymysql: a naive DATETIME in the session time zone, which the app sets to UTC
        (
            "mysql",
            datetime(2026, 11, 28, 10, 0, 0),
            b'{"message": "Connected to MySQL!", "time": "2026-11-28T10:00:00.000Z"}',
        ),
        # psycopg: a timestamptz, here in Seoul's zone and with microseconds
        (
            "postgres",
            datetime(2026, 11, 28, 19, 0, 0, 123456, KST),
            b'{"message": "Connected to PostgreSQL!", "time": "2026-11-28T10:00:00.123Z"}',
        ),
    ],
    ids=["mysql", "postgres"],
)
def test_get_root_answers_exactly_message_then_time(engine, db_now, expected) -> None:
    app = create_app({"DB_ENGINE": engine, "DB_PASSWORD": "x"})
    app.extensions["db"] = FixedClock(db_now)
    response = app.test_client().get("/")
    app.extensions["db"].close()
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.data == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 28, 10, 0, 0), "2026-11-28T10:00:00.000Z"),
        (datetime(2026, 11, 28, 10, 0, 0, 999999, UTC), "2026-11-28T10:00:00.999Z"),
        (datetime(2026, 11, 29, 0, 30, 0, 5000, KST), "2026-11-28T15:30:00.005Z"),
    ],
)
def test_iso_utc_is_what_express_prints_for_a_date(moment, expected) -> None:
    assert iso_utc(moment) == expected


def test_create_app_refuses_a_bad_setting() -> None:
    with pytest.raises(ConfigError, match="DB_ENGINE"):
        create_app({"DB_ENGINE": "sqlite", "DB_PASSWORD": "x"})


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/no-such-page"])
def test_every_response_names_the_replica_that_served_it(app_without_db, path: str) -> None:
    response = app_without_db.test_client().get(path)
    assert response.headers["X-Served-By"] == socket.gethostname()


@pytest.mark.parametrize("engine", ["mysql", "postgres"])
def test_the_app_connects_to_nothing_until_the_first_request(engine) -> None:
    """A database that listens, and the app created for it: not one connection attempt before a request
    (so the app starts the same whether the database is up or not)."""
    with socket.create_server(("127.0.0.1", 0)) as database:
        database.settimeout(0.5)
        port = database.getsockname()[1]
        app = create_app(
            {"DB_ENGINE": engine, "DB_HOST": "127.0.0.1", "DB_PORT": str(port), "DB_PASSWORD": "x"}
        )
        try:
            with pytest.raises(TimeoutError):
                database.accept()  # nobody came
        finally:
            app.extensions["db"].close()


@pytest.fixture
def seoul_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local time zone is Asia/Seoul, as on a learner's machine in Korea."""
    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.usefixtures("seoul_machine")
@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # a driver's naive time is the session's time zone (UTC), never the machine's
        (datetime(2026, 11, 28, 10, 0, 0), "2026-11-28T10:00:00.000Z"),
        (datetime(2026, 11, 29, 0, 30, 0, 5000, KST), "2026-11-28T15:30:00.005Z"),
    ],
)
def test_iso_utc_does_not_depend_on_the_machines_time_zone(moment, expected) -> None:
    assert time.strftime("%z") == "+0900"  # the fixture took effect
    assert iso_utc(moment) == expected


def test_create_app_reads_the_environment_when_given_no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DB_HOST", "DATABASE_HOST", "DB_PORT", "DB_USER", "DB_NAME", "DB_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DB_ENGINE", "mysql")
    monkeypatch.setenv("DB_HOST", "mysql-db")
    monkeypatch.setenv("DB_PASSWORD", "x")
    app = create_app()
    try:
        assert (app.config["DB"].engine, app.config["DB"].host) == ("mysql", "mysql-db")
        # its own app, so that its error handlers are the ones under test: an HTTP error is JSON
        response = app.test_client().get("/no/such/page")
        assert (response.status_code, response.mimetype) == (404, "application/json")
    finally:
        app.extensions["db"].close()


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        # pymysql's (code, message): the message alone, as app.js's err.message
        (
            pymysql.err.OperationalError(2003, "Can't connect to MySQL server on 'x'"),
            "Can't connect to MySQL server on 'x'",
        ),
        (pymysql.err.OperationalError(2013), "2013"),  # not a (code, message) pair: said as it is
        (OSError(111, "Connection refused"), "[Errno 111] Connection refused"),  # not pymysql's: as it is
        (psycopg.OperationalError("  refused \n"), "refused"),
        (psycopg.OperationalError(), "OperationalError"),  # no message at all: its kind
    ],
)
def test_error_message_is_the_drivers_reason(exc: BaseException, expected: str) -> None:
    assert error_message(exc) == expected
