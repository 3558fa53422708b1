"""The app tier: the tutorial's app.js ("실습: 웹 애플리케이션과 데이터베이스 연결") ported to Flask.

    GET /         200 {"message": "Connected to MySQL!", "time": "2026-11-28T10:00:00.000Z"}
                  (PostgreSQL: "Connected to PostgreSQL!"), or 500 {"error": "<the driver's message>"}
    GET /healthz  200 while the process is up (no database involved)
    GET /readyz   200 when `SELECT 1` succeeds, else 503 {"status": "not ready", "reason": "..."}

Settings come from the environment (config.py): DB_ENGINE (mysql | postgres, default mysql), DB_HOST (or
DATABASE_HOST; default mysql-db, or database for postgres), DB_PORT (3306 | 5432), DB_USER (appuser),
DB_PASSWORD or DB_PASSWORD_FILE (exactly one), DB_NAME (myapp). A bad value stops start-up with one line
naming the variable. The database may be down at start: / answers 500 and /readyz 503 until it is up.

Run it the way the image does:  gunicorn --config app_server/gunicorn.conf.py 'app_server:create_app()'
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask
from werkzeug.exceptions import HTTPException

from . import db, views
from .config import load_config


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """The application factory. `config` replaces the environment (tests pass a dict of DB_* values).

    Raises config.ConfigError (one line, naming the variable) on a missing or bad setting.
    """
    app = Flask(__name__)
    app.config["DB"] = load_config(os.environ if config is None else config)
    db.init_app(app)
    app.register_blueprint(views.bp)
    app.register_error_handler(HTTPException, views.http_error)
    return app
