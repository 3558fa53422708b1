#!/usr/bin/env bash
# The app's least-privilege PostgreSQL role, created once on an empty PGDATA (sourced by the postgres
# entrypoint, official or stand-in, while its temporary socket-only server runs).
#
# The app connects as this role, never as the superuser: it may connect to POSTGRES_DB only (CONNECT on the
# other databases is revoked from PUBLIC) and cannot create tables (PostgreSQL 15+ gives PUBLIC no CREATE
# on schema public; we revoke it explicitly for older servers too).
# Its password comes from the file APP_DB_PASSWORD_FILE names (a secret), never from the environment.
set -Eeuo pipefail

app_db_user=${APP_DB_USER:-appuser}
app_db_name=${POSTGRES_DB:-myapp}
[[ -r ${APP_DB_PASSWORD_FILE:-} ]] || { echo "10-app-account.sh: APP_DB_PASSWORD_FILE is not a readable file" >&2; exit 1; }

# The password never appears on a command line (ps would show it): psql reads it from the file itself, in
# the backquoted \set below (psql runs `cat FILE` and drops the trailing newline).
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --no-password --dbname "$app_db_name" \
  --set user="$app_db_user" --set db="$app_db_name" <<'SQL'
\set password `cat "$APP_DB_PASSWORD_FILE"`
CREATE ROLE :"user" LOGIN PASSWORD :'password';
REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"user";
GRANT USAGE ON SCHEMA public TO :"user";
SQL
echo "10-app-account.sh: created role $app_db_user (connect to $app_db_name only, no CREATE)"
