#!/usr/bin/env bash
# Entrypoint of the PostgreSQL stand-in. On an empty PGDATA: initdb with POSTGRES_USER's password, allow
# remote hosts with scram-sha-256 (or POSTGRES_HOST_AUTH_METHOD), start a temporary socket-only server,
# create POSTGRES_DB, run /docker-entrypoint-initdb.d once, stop it. Then exec postgres (listening on *)
# as the postgres user (uid 999).
# The initialisation counts as done only when it wrote $INIT_DONE at its very end: a PGDATA without it (an init
# killed midway) stops the container with a message. SIGINT (the image's stop signal) and SIGTERM during the init
# stop it (and its temporary server) at once; the password leaves the environment before exec.
set -Eeuo pipefail
# shellcheck source=../common/entrypoint-lib.sh
. /usr/local/lib/entrypoint-lib.sh

INIT_DONE=$PGDATA/.lab-init-complete

read_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  export POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
}

require_password() {
  if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
    cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
MSG
    exit 1
  fi
}

# SQL on stdin, as POSTGRES_USER over the socket, stopping at the first error.
psql_initdb() { psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password --dbname "$POSTGRES_DB"; }

init_cluster() {
  entry_log "initdb in $PGDATA"
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words by contract
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

create_db() {
  [[ $POSTGRES_DB == postgres ]] && return 0
  entry_log "CREATE DATABASE $POSTGRES_DB"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password --dbname postgres \
    --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
}

# init_stopped CODE: a signal arrived during the initialisation: stop the temporary server, say what is left.
init_stopped() {
  entry_log "stopped during initialisation: $PGDATA is incomplete and will not be used (remove the volume)"
  pg_ctl -D "$PGDATA" status >/dev/null 2>&1 && pg_ctl -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1
  exit "$1"
}

initialise() {
  require_password
  trap 'init_stopped 143' TERM
  trap 'init_stopped 130' INT
  init_cluster
  # The temporary server listens on the socket only, so a TCP healthcheck stays red until the real start.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  create_db
  run_initdb_dir psql_initdb
  pg_ctl -D "$PGDATA" -m fast -w stop
  : >"$INIT_DONE"
  trap - TERM INT
  entry_log "PostgreSQL init process complete; ready for start up."
}

main() {
  [[ ${1:0:1} == - ]] && set -- postgres "$@"
  if [[ $1 == postgres && $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec gosu postgres "$0" "$@"
  fi
  if [[ $1 == postgres && ! -s $PGDATA/PG_VERSION ]]; then
    read_env
    initialise
  elif [[ $1 == postgres && ! -e $INIT_DONE ]]; then
    entry_die "$PGDATA holds a database whose initialisation never finished (it was stopped midway, or another image made it): its roles may be missing. Remove this data volume and start again (in the lab: --down --volumes)."
  fi
  unset POSTGRES_PASSWORD
  exec "$@"
}

main "$@"
