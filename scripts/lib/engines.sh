# shellcheck shell=bash
# engines.sh — sourced: what differs between the two database engines (image, port, name), and the check that
# the passwords in db/secrets/ are the ones a reused data volume was initialised with.
[[ -z ${_LAB_LIB_ENGINES:-} ]] || return 0
_LAB_LIB_ENGINES=1
# shellcheck source=objects.sh
. "$(dirname "${BASH_SOURCE[0]}")/objects.sh"

APP_DB_USER=appuser
APP_DB_NAME=myapp

db_image() { if [[ $1 == mysql ]]; then echo "$MYSQL_IMAGE"; else echo "$POSTGRES_IMAGE"; fi; }
db_port() { if [[ $1 == mysql ]]; then echo 3306; else echo 5432; fi; }
engine_title() { if [[ $1 == mysql ]]; then echo MySQL; else echo PostgreSQL; fi; }

# app_login_works CONTAINER ENGINE: the app's account logs in over TCP inside the database container with the
# password in /run/secrets/db_app_password (read there from the file: no password on a command line). PostgreSQL
# by the container's own name, not 127.0.0.1: the images trust every login from loopback without a password.
app_login_works() {
  if [[ $2 == mysql ]]; then
    docker exec "$1" sh -c 'printf "[client]\npassword=%s\n" "$(cat /run/secrets/db_app_password)" |
      mysql --defaults-extra-file=/dev/stdin -h 127.0.0.1 -u "$0" "$1" -e "SELECT 1"' \
      "$APP_DB_USER" "$APP_DB_NAME" >/dev/null 2>&1
  else
    docker exec "$1" sh -c 'PGPASSWORD=$(cat /run/secrets/db_app_password) psql -h "$2" -U "$0" -d "$1" \
      -tAc "SELECT 1"' "$APP_DB_USER" "$APP_DB_NAME" "$1" >/dev/null 2>&1
  fi
}

# require_same_passwords CONTAINER ENGINE VOLUME DOWN_CMD: a data volume keeps the passwords it was initialised
# with; the database ignores new ones. When db/secrets/ no longer matches the volume (a new clone, or deleted
# secrets), stop before the app starts, and say why and both ways out. The database container goes (its
# volume stays): it mounted the files of this run, and the next run must mount the ones put back.
require_same_passwords() {
  app_login_works "$1" "$2" && return 0
  remove_ours container "$1"
  die "the database in volume '$3' was initialised with other passwords than the ones in db/secrets/ (a new clone, or db/secrets/ was deleted): $(engine_title "$2") keeps a volume's passwords and ignores new ones, so the app cannot log in. Either put back the old db/secrets/ files, or start afresh with '$4' (this deletes the volume's data) and run again."
}
