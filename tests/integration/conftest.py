"""Integration fixtures: one real database per engine for the whole session, on a labelled network.

`database` is parametrized ["mysql", "postgres"], so every test that takes it runs on both engines. The
database answers under the tutorial's DNS name on its network (mysql-db for MySQL, database for PostgreSQL)
and on a loopback port pinned at creation, so `docker stop`/`start`/`restart` keep the address the app uses.

LAB_TEST_DATABASES="mysql=NAME postgres=NAME ...": opt-in for tools/mutation.sh, which starts the databases
once, while mutmut runs pytest once per mutant (a session each). `database` then uses one of the running
containers listed (started with the account below and a fixed 127.0.0.1 port) instead of starting its own. It
holds an exclusive lock on that container for the session, so two pytest processes never stop, restart or
pause one database under each other, and first makes it running and accepting the app user again (a session
killed mid-test may have left it stopped or paused). It has no network, so only tests that reach the database
from the host (test_app_db.py) can use it. Unset (the default): every session starts its own.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import docker
import psycopg
import pymysql
import pytest
from labenv import TEST_LABELS, image, wait_until
from testcontainers.community.mysql import MySqlContainer
from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

# The web-app section's account (MYSQL_USER / MYSQL_PASSWORD / MYSQL_DATABASE): also the app's defaults.
USER, PASSWORD, NAME = "appuser", "apppass", "myapp"
# The database's own clock runs in Seoul (the tutorial's readers' zone), so an app that forgot to convert
# to UTC answers nine hours off and the time check fails.
DB_TZ = "Asia/Seoul"

ENGINES = {
    # engine: (tutorial's DNS name, server port)
    "mysql": ("mysql-db", 3306),
    "postgres": ("database", 5432),
}


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 right now (the engine binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="wait_until", scope="session")
def wait_until_fixture() -> Callable[[Callable[[], object], float], object]:
    """wait_until(check, timeout) for tests: bounded polling instead of sleeps."""
    return wait_until


@dataclass
class Database:
    """A running database container and how to reach it from the host and from its network."""

    engine: str
    alias: str  # the tutorial's DNS name on `network`
    network: Network | None  # None for a LAB_TEST_DATABASES container
    container: DockerContainer | StartedElsewhere
    port: int  # published on 127.0.0.1

    def app_env(self) -> dict[str, str]:
        """The app's settings for talking to this database from the host (the in-process app)."""
        return {
            "DB_ENGINE": self.engine,
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.port),
            "DB_USER": USER,
            "DB_PASSWORD": PASSWORD,
            "DB_NAME": NAME,
        }

    def accepts_the_app_user(self) -> bool:
        """True when the app's account can log in and run a query (checked with the driver, not the app)."""
        try:
            if self.engine == "mysql":
                conn = pymysql.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=USER,
                    password=PASSWORD,
                    database=NAME,
                    connect_timeout=2,
                )
                conn.close()
            else:
                psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=USER,
                    password=PASSWORD,
                    dbname=NAME,
                    connect_timeout=2,
                ).close()
        # Refused, reset, still initialising, or not accepting logins yet: all mean "not ready".
        except (pymysql.err.Error, psycopg.Error):
            return False
        return True

    def wait_ready(self, timeout: float = 90) -> None:
        if not wait_until(self.accepts_the_app_user, timeout):
            logs = self.container.get_wrapped_container().logs(tail=30).decode(errors="replace")
            pytest.fail(
                f"{self.engine} did not accept {USER} within {timeout:.0f} s; last log lines:\n{logs}"
            )

    def clock(self) -> float:
        """The container's clock, in seconds since the epoch."""
        result = self.container.exec(["date", "+%s"])
        assert result.exit_code == 0, result.output
        return float(result.output.decode())

    # docker stop/start/restart keep the container (testcontainers' stop() would remove it).
    def stop(self) -> None:
        self.container.get_wrapped_container().stop(timeout=10)

    def start(self) -> None:
        self.container.get_wrapped_container().start()

    def restart(self) -> None:
        self.container.get_wrapped_container().restart(timeout=10)

    def ensure_running(self) -> None:
        """After a test that stopped it: running and accepting the app again, for the tests that follow."""
        wrapped = self.container.get_wrapped_container()
        wrapped.reload()
        if wrapped.status != "running":
            wrapped.start()
        self.wait_ready()


def _container(engine: str) -> DockerContainer:
    if engine == "mysql":
        db = MySqlContainer(
            image("MYSQL_IMAGE"), username=USER, password=PASSWORD, dbname=NAME, root_password="rootpass"
        )
    else:
        db = PostgresContainer(image("POSTGRES_IMAGE"), username=USER, password=PASSWORD, dbname=NAME)
    return db.with_env("TZ", DB_TZ).with_kwargs(labels=TEST_LABELS)


class StartedElsewhere:
    """A container named in LAB_TEST_DATABASES: what Database uses of testcontainers' DockerContainer."""

    def __init__(self, wrapped) -> None:
        self._wrapped = wrapped

    def get_wrapped_container(self):
        return self._wrapped

    def exec(self, command: list[str]):
        return self._wrapped.exec_run(command)


def _lock_one_of(names: list[str], timeout: float = 600) -> tuple[str, IO[str]]:
    """An exclusive lock on one of NAMES (a file per name in the temp folder), held until the file is closed;
    waits (bounded) while every one is held by another pytest process."""
    deadline = time.monotonic() + timeout
    while True:
        for name in names:
            lock = open(Path(tempfile.gettempdir()) / f"{name}.lock", "w")  # noqa: SIM115 (held for the session)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Held by another process: try the next one.
            except BlockingIOError:
                lock.close()
                continue
            return name, lock
        if time.monotonic() >= deadline:
            pytest.fail(f"none of {names} was free within {timeout:.0f} s (LAB_TEST_DATABASES)")
        time.sleep(0.2)


def _started_elsewhere(engine: str, listed: str) -> Iterator[Database]:
    names = [name for e, _, name in (entry.partition("=") for entry in listed.split()) if e == engine]
    if not names:
        pytest.fail(f"LAB_TEST_DATABASES names no {engine} container: {listed!r}")
    name, lock = _lock_one_of(names)
    try:
        wrapped = docker.from_env().containers.get(name)
        alias, server_port = ENGINES[engine]
        port = int(wrapped.attrs["HostConfig"]["PortBindings"][f"{server_port}/tcp"][0]["HostPort"])
        db = Database(
            engine=engine, alias=alias, network=None, container=StartedElsewhere(wrapped), port=port
        )
        if wrapped.status == "paused":
            wrapped.unpause()
        db.ensure_running()
        yield db
    finally:
        lock.close()


@pytest.fixture(scope="session", params=list(ENGINES))
def database(request) -> Iterator[Database]:
    """A running MySQL or PostgreSQL with the app's account, on its own labelled network (or, with
    LAB_TEST_DATABASES set, one of the containers it names)."""
    engine = request.param
    listed = os.environ.get("LAB_TEST_DATABASES")
    if listed:
        yield from _started_elsewhere(engine, listed)
        return
    alias, server_port = ENGINES[engine]
    port = free_loopback_port()
    with Network(docker_network_kw={"labels": TEST_LABELS}) as network:
        container = (
            _container(engine)
            .with_name(f"lab-test-{engine}-{uuid.uuid4().hex[:8]}")
            .with_network(network)
            .with_network_aliases(alias)
        )
        # Published on loopback only, on a fixed port: a restarted container keeps its address.
        container.ports[str(server_port)] = ("127.0.0.1", port)
        with container:
            db = Database(engine=engine, alias=alias, network=network, container=container, port=port)
            db.wait_ready()
            yield db
