"""app_server/config.py: the environment contract, and the one-line message for every bad value."""

from __future__ import annotations

import pytest

from app_server.config import ConfigError, DBConfig, load_config

pytestmark = pytest.mark.unit

PASSWORD = {"DB_PASSWORD": "apppass"}


def test_defaults_are_the_web_app_sections_mysql_values() -> None:
    config = load_config(PASSWORD)
    assert config == DBConfig("mysql", "mysql-db", 3306, "appuser", "apppass", "myapp")
    assert config.engine_name == "MySQL"


def test_postgres_defaults_to_its_port_and_the_3_tier_sections_host() -> None:
    config = load_config({"DB_ENGINE": "postgres", **PASSWORD})
    assert (config.engine, config.host, config.port, config.engine_name) == (
        "postgres",
        "database",
        5432,
        "PostgreSQL",
    )


def test_every_variable_is_read() -> None:
    env = {
        "DB_ENGINE": "postgres",
        "DB_HOST": "db.internal",
        "DB_PORT": "6543",
        "DB_USER": "reader",
        "DB_PASSWORD": "s3cret",
        "DB_NAME": "shop",
    }
    assert load_config(env) == DBConfig("postgres", "db.internal", 6543, "reader", "s3cret", "shop")


def test_the_3_tier_sections_database_host_is_accepted() -> None:
    assert load_config({"DATABASE_HOST": "database", **PASSWORD}).host == "database"


def test_both_host_spellings_may_agree() -> None:
    assert load_config({"DB_HOST": "database", "DATABASE_HOST": "database", **PASSWORD}).host == "database"


def test_password_file_is_read_without_its_trailing_newline(tmp_path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("s3cret pass\n")
    assert load_config({"DB_PASSWORD_FILE": str(secret)}).password == "s3cret pass"


# (environment, the variable the message must name, the example it must show)
BAD = {
    "unknown engine": ({"DB_ENGINE": "oracle", **PASSWORD}, "DB_ENGINE", "-e DB_ENGINE=postgres"),
    "empty engine": ({"DB_ENGINE": "", **PASSWORD}, "DB_ENGINE", "-e DB_ENGINE=postgres"),
    "port not a number": ({"DB_PORT": "abc", **PASSWORD}, "DB_PORT", "-e DB_PORT=3306"),
    "port zero": ({"DB_PORT": "0", **PASSWORD}, "DB_PORT", "-e DB_PORT=3306"),
    "port negative": ({"DB_PORT": "-1", **PASSWORD}, "DB_PORT", "-e DB_PORT=3306"),
    "port too big": (
        {"DB_ENGINE": "postgres", "DB_PORT": "70000", **PASSWORD},
        "DB_PORT",
        "-e DB_PORT=5432",
    ),
    "no password": ({}, "DB_PASSWORD", "-e DB_PASSWORD=apppass"),
    "empty password": ({"DB_PASSWORD": ""}, "DB_PASSWORD", "-e DB_PASSWORD=apppass"),
    "both passwords": (
        {"DB_PASSWORD": "a", "DB_PASSWORD_FILE": "/run/secrets/db_password"},
        "DB_PASSWORD_FILE",
        "-e DB_PASSWORD_FILE=/run/secrets/db_password",
    ),
    "missing password file": (
        {"DB_PASSWORD_FILE": "/nonexistent/db_password"},
        "DB_PASSWORD_FILE",
        "-v ./db/secrets/db_password:/run/secrets/db_password:ro",
    ),
    "hosts disagree": (
        {"DB_HOST": "mysql-db", "DATABASE_HOST": "database", **PASSWORD},
        "DATABASE_HOST",
        "-e DB_HOST=mysql-db",
    ),
    "empty host": ({"DB_HOST": "", **PASSWORD}, "DB_HOST", "-e DB_HOST=mysql-db"),
    "blank user": ({"DB_USER": " ", **PASSWORD}, "DB_USER", "-e DB_USER=appuser"),
    "empty database name": ({"DB_NAME": "", **PASSWORD}, "DB_NAME", "-e DB_NAME=myapp"),
}


@pytest.mark.parametrize(("env", "variable", "example"), BAD.values(), ids=BAD.keys())
def test_a_bad_value_is_one_line_naming_the_variable_with_an_example(env, variable, example) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env)
    message = str(info.value)
    assert variable in message
    assert example in message
    assert "\n" not in message


def test_an_empty_password_file_is_an_error(tmp_path) -> None:
    secret = tmp_path / "db_password"
    secret.write_text("\n")
    with pytest.raises(ConfigError, match=r"^DB_PASSWORD_FILE=.* is empty: .*e\.g\. echo apppass > "):
        load_config({"DB_PASSWORD_FILE": str(secret)})


def test_a_directory_as_password_file_says_why(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"^DB_PASSWORD_FILE=.* cannot be read \(Is a directory\)"):
        load_config({"DB_PASSWORD_FILE": str(tmp_path)})


def test_the_password_never_shows_in_the_settings_repr() -> None:
    assert "apppass" not in repr(load_config(PASSWORD))


def test_a_non_ascii_digit_is_not_a_port() -> None:
    with pytest.raises(ConfigError, match="DB_PORT"):
        load_config({"DB_PORT": "３３０６", **PASSWORD})


@pytest.mark.parametrize(
    ("contents", "password"),
    [("pass word \n", "pass word "), ("ENDS IN X\r\n", "ENDS IN X"), ("tab\t\n\n", "tab\t")],
    ids=["trailing space", "CRLF", "tab, two newlines"],
)
def test_only_the_line_ending_is_dropped_from_a_password_file(tmp_path, contents, password) -> None:
    secret = tmp_path / "db_password"
    secret.write_bytes(contents.encode())
    assert load_config({"DB_PASSWORD_FILE": str(secret)}).password == password


def test_a_password_file_that_is_not_utf8_says_why(tmp_path) -> None:
    secret = tmp_path / "db_password"
    secret.write_bytes(b"\xffpass\n")
    with pytest.raises(ConfigError) as info:
        load_config({"DB_PASSWORD_FILE": str(secret)})
    assert str(info.value) == (
        f"DB_PASSWORD_FILE={secret} cannot be read ('utf-8' codec can't decode byte 0xff in position 0: "
        "invalid start byte): mount the secret there, "
        "e.g. -v ./db/secrets/db_password:/run/secrets/db_password:ro"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_PASSWORD": " "}, "DB_PASSWORD is set but empty: e.g. -e DB_PASSWORD=apppass"),
        (
            {"DB_PASSWORD_FILE": ""},
            "DB_PASSWORD_FILE is set but empty: e.g. -e DB_PASSWORD_FILE=/run/secrets/db_password",
        ),
        (
            {"DB_USER": "", **PASSWORD},
            "DB_USER is set but empty: e.g. -e DB_USER=appuser, or leave it unset for the default",
        ),
    ],
    ids=["password", "password file", "user"],
)
def test_set_but_empty_offers_the_default_only_where_there_is_one(env, message) -> None:
    """A password has no default: its message must not tell the learner to leave it unset."""
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_HOST": "", **PASSWORD},
            "DATABASE_HOST is set but empty: e.g. -e DATABASE_HOST=database,"
            " or leave it unset for the default",
        ),
        (
            {"DB_PORT": "", **PASSWORD},
            "DB_PORT is set but empty: e.g. -e DB_PORT=3306, or leave it unset for the default",
        ),
        (
            {"DB_HOST": "mysql-db", "DATABASE_HOST": "database", **PASSWORD},
            'DB_HOST="mysql-db" and DATABASE_HOST="database" disagree:'
            " set only one, e.g. -e DB_HOST=mysql-db",
        ),
        (
            {"DB_PASSWORD": "a", "DB_PASSWORD_FILE": "/run/secrets/db_password"},
            "DB_PASSWORD and DB_PASSWORD_FILE are both set: set only one, e.g. "
            "-e DB_PASSWORD_FILE=/run/secrets/db_password",
        ),
    ],
    ids=["empty DATABASE_HOST", "empty DB_PORT", "hosts disagree", "both passwords"],
)
def test_the_whole_message_a_learner_reads(env, message) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert str(info.value) == message


@pytest.mark.parametrize("port", [1, 65535])
def test_the_first_and_last_ports_are_valid(port: int) -> None:
    assert load_config({"DB_PORT": str(port), **PASSWORD}).port == port
