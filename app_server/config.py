"""The app's settings, read from environment variables (the table in README.md, "The app").

Every bad value raises ConfigError with one line that names the variable and shows an example, the way the
official postgres image says `You must specify POSTGRES_PASSWORD ... "-e POSTGRES_PASSWORD=password"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# engine -> (the name app.js prints, default port, default host). MySQL's defaults are the web-app section's
# (`host: 'mysql-db'`); PostgreSQL's host is the 3-tier section's database container, `database`.
ENGINES = {
    "mysql": ("MySQL", 3306, "mysql-db"),
    "postgres": ("PostgreSQL", 5432, "database"),
}
DEFAULT_ENGINE = "mysql"  # app.js talks to MySQL
DEFAULT_USER = "appuser"  # the web-app section's MYSQL_USER
DEFAULT_NAME = "myapp"  # the web-app section's MYSQL_DATABASE
PASSWORD_EXAMPLE = "-e DB_PASSWORD=apppass, or -e DB_PASSWORD_FILE=/run/secrets/db_password"


class ConfigError(ValueError):
    """A missing or invalid setting; str() is the one line to print before exiting."""


@dataclass(frozen=True)
class DBConfig:
    engine: str  # "mysql" | "postgres"
    host: str
    port: int
    user: str
    password: str = field(repr=False)  # never in a log line or a traceback
    name: str

    @property
    def engine_name(self) -> str:
        """The name app.js's message uses: "MySQL" or "PostgreSQL"."""
        return ENGINES[self.engine][0]


def load_config(env: Mapping[str, str]) -> DBConfig:
    """Build the database settings from `env` (os.environ, or a plain dict in tests)."""
    engine = _get(env, "DB_ENGINE", example="postgres") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ConfigError(
            f'DB_ENGINE must be "mysql" or "postgres", not "{engine}": e.g. -e DB_ENGINE=postgres'
        )
    _, default_port, default_host = ENGINES[engine]
    return DBConfig(
        engine=engine,
        host=_host(env) or default_host,
        port=_port(env, default_port),
        user=_get(env, "DB_USER", example=DEFAULT_USER) or DEFAULT_USER,
        password=_password(env),
        name=_get(env, "DB_NAME", example=DEFAULT_NAME) or DEFAULT_NAME,
    )


def _get(env: Mapping[str, str], name: str, example: str, has_default: bool = True) -> str | None:
    """The variable's value, or None when unset. Set but empty is a mistake (`-e DB_USER=`), not a default."""
    value = env.get(name)
    if value is not None and not value.strip():
        fallback = ", or leave it unset for the default" if has_default else ""
        raise ConfigError(f"{name} is set but empty: e.g. -e {name}={example}{fallback}")
    return value


def _host(env: Mapping[str, str]) -> str | None:
    """DB_HOST, or the 3-tier section's spelling DATABASE_HOST; two different answers is an error."""
    db_host = _get(env, "DB_HOST", example="mysql-db")
    database_host = _get(env, "DATABASE_HOST", example="database")
    if db_host and database_host and db_host != database_host:
        raise ConfigError(
            f'DB_HOST="{db_host}" and DATABASE_HOST="{database_host}" disagree: '
            "set only one, e.g. -e DB_HOST=mysql-db"
        )
    return db_host or database_host


def _port(env: Mapping[str, str], default: int) -> int:
    raw = _get(env, "DB_PORT", example=str(default))
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise ConfigError(
            f'DB_PORT must be a port number from 1 to 65535, not "{raw}": e.g. -e DB_PORT={default}'
        )
    return int(raw)


def _password(env: Mapping[str, str]) -> str:
    """DB_PASSWORD or the contents of DB_PASSWORD_FILE (exactly one), like the official images' file_env."""
    password = _get(env, "DB_PASSWORD", example="apppass", has_default=False)
    path = _get(env, "DB_PASSWORD_FILE", example="/run/secrets/db_password", has_default=False)
    if password and path:
        raise ConfigError(
            "DB_PASSWORD and DB_PASSWORD_FILE are both set: set only one, e.g. "
            "-e DB_PASSWORD_FILE=/run/secrets/db_password"
        )
    if path:
        return _read_password_file(path)
    if not password:
        raise ConfigError(f"You must specify DB_PASSWORD or DB_PASSWORD_FILE: e.g. {PASSWORD_EXAMPLE}")
    return password


def _read_password_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            # A trailing newline is the editor's, not the password's (the official images drop it too).
            password = file.read().rstrip("\r\n")
    # Missing, unreadable or a directory: all mean the secret was not mounted where the variable says.
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"DB_PASSWORD_FILE={path} cannot be read ({reason}): mount the secret there, "
            "e.g. -v ./db/secrets/db_password:/run/secrets/db_password:ro"
        ) from None
    if not password:
        raise ConfigError(
            f"DB_PASSWORD_FILE={path} is empty: put the password in it, e.g. echo apppass > {path}"
        )
    return password
