"""Leftover state: a data volume kept by `--down` (without --volumes) was initialised with the passwords that
were in db/secrets/ then. With other passwords there now (a new clone, deleted secrets), the layout script
must stop after the database is up and before the app starts, naming the volume, the cause and both ways out;
with the old passwords put back, the same command must bring the layout up again on the kept data.

One case per layout script and engine the tutorial starts with: the 3-tier on PostgreSQL, the web app on
MySQL (whose check logs in with `mysql --defaults-extra-file=/dev/stdin` inside the database container).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from labenv import REPO
from scriptrun import assert_ok, docker, script

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("no_layouts")]

SECRETS = REPO / "db" / "secrets"
PASSWORDS = ("root_password", "app_password")


@dataclass(frozen=True)
class Layout:
    script: str
    engine: str
    port: int
    volume: str
    app: str  # the container that must not start with the wrong passwords


LAYOUTS = [
    Layout("run-3tier.sh", "postgres", 18380, "3tier-postgres-data", "app-server"),
    Layout("run-webapp.sh", "mysql", 18381, "webapp-mysql-data", "webapp"),
]


@pytest.fixture
def secrets_aside(tmp_path: Path) -> Iterator[Path]:
    """Where the test moves db/secrets/*_password; whatever happens, the originals are back afterwards."""
    aside = tmp_path / "secrets"
    aside.mkdir()
    saved = {name: (SECRETS / name).read_bytes() for name in PASSWORDS if (SECRETS / name).is_file()}
    try:
        yield aside
    finally:
        for name in PASSWORDS:
            if (aside / name).is_file():  # moved aside by the test: the originals of this run
                shutil.move(aside / name, SECRETS / name)
            elif name in saved:
                (SECRETS / name).write_bytes(saved[name])


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.script}-{lay.engine}")
def test_other_passwords_on_a_kept_volume_stop_before_the_app(layout: Layout, secrets_aside: Path) -> None:
    up = [layout.script, "--db", layout.engine, "--port", str(layout.port)]
    assert_ok(script(*up))
    assert_ok(script(layout.script, "--down"))
    assert docker("volume", "inspect", layout.volume).returncode == 0, "--down alone removed the data volume"

    for name in PASSWORDS:  # as after a new clone: the old passwords are gone, the script makes new ones
        shutil.move(SECRETS / name, secrets_aside / name)
    refused = script(*up)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    message = refused.stderr
    assert f"'{layout.volume}'" in message, message
    assert "was initialised with other passwords" in message and "db/secrets" in message, message
    assert f"scripts/{layout.script} --down --volumes" in message, message
    assert "put back the old db/secrets/ files" in message, message
    started = docker("container", "inspect", layout.app).returncode == 0  # (webapp is an image name too)
    assert not started, f"{layout.app} was started with the wrong passwords"

    for name in PASSWORDS:  # the first way out: the old files back where they were
        shutil.move(secrets_aside / name, SECRETS / name)
    again = script(*up)
    assert_ok(again)
    assert "was initialised with other passwords" not in again.stderr
