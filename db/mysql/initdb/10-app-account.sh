#!/usr/bin/env bash
# The app's least-privilege MySQL account, created once on an empty datadir (sourced by the MySQL
# entrypoint, official or stand-in, while its temporary socket-only server runs).
#
# The tutorial's MYSQL_USER/MYSQL_PASSWORD would give the app ALL PRIVILEGES on myapp (it could create and
# drop tables). Our app only runs `SELECT NOW()`, so its account may connect to myapp and read, nothing more.
# Its password comes from the file APP_DB_PASSWORD_FILE names (a secret), never from the environment.
set -Eeuo pipefail

app_db_user=${APP_DB_USER:-appuser}
app_db_name=${MYSQL_DATABASE:-myapp}
[[ -r ${APP_DB_PASSWORD_FILE:-} ]] || { echo "10-app-account.sh: APP_DB_PASSWORD_FILE is not a readable file" >&2; exit 1; }
app_db_password=$(<"$APP_DB_PASSWORD_FILE")

# Quote for a SQL string literal: double every backslash and single quote.
sql_string() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\'\'}"; }

MYSQL_PWD=$MYSQL_ROOT_PASSWORD mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$app_db_name\`;
CREATE USER IF NOT EXISTS $(sql_string "$app_db_user")@'%' IDENTIFIED BY $(sql_string "$app_db_password");
GRANT SELECT ON \`$app_db_name\`.* TO $(sql_string "$app_db_user")@'%';
SQL
echo "10-app-account.sh: created $app_db_user@'%' with SELECT on $app_db_name only"
