#!/usr/bin/env bash
# Entrypoint of the MySQL stand-in. On an empty datadir: initialise, start a temporary socket-only server,
# create the root password, MYSQL_DATABASE and MYSQL_USER, run /docker-entrypoint-initdb.d once, stop it.
# Then exec the real server as the mysql user (uid 999), listening on 0.0.0.0:3306.
# The initialisation counts as done only when it wrote $INIT_DONE at its very end: a datadir without it (an init
# killed midway) stops the container with a message instead of serving a half-made database. SIGTERM and SIGINT
# during the init stop it (and its temporary server) at once; the passwords leave the environment before exec.
set -Eeuo pipefail
# shellcheck source=../common/entrypoint-lib.sh
. /usr/local/lib/entrypoint-lib.sh

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
INIT_DONE=$DATADIR/.lab-init-complete
TEMP_PID=''

read_env() {
  file_env MYSQL_ROOT_PASSWORD
  file_env MYSQL_DATABASE
  file_env MYSQL_USER
  file_env MYSQL_PASSWORD
  file_env MYSQL_ROOT_HOST '%'
  export MYSQL_ALLOW_EMPTY_PASSWORD=${MYSQL_ALLOW_EMPTY_PASSWORD:-} MYSQL_RANDOM_ROOT_PASSWORD=${MYSQL_RANDOM_ROOT_PASSWORD:-}
}

require_password_option() {
  if [[ -z $MYSQL_ROOT_PASSWORD && -z $MYSQL_ALLOW_EMPTY_PASSWORD && -z $MYSQL_RANDOM_ROOT_PASSWORD ]]; then
    cat >&2 <<'MSG'
error: database is uninitialized and password option is not specified
    You need to specify one of the following as an environment variable:
    - MYSQL_ROOT_PASSWORD
    - MYSQL_ALLOW_EMPTY_PASSWORD
    - MYSQL_RANDOM_ROOT_PASSWORD
MSG
    exit 1
  fi
  if [[ $MYSQL_USER == root ]]; then
    entry_die "MYSQL_USER=root: the root account is configured with MYSQL_ROOT_PASSWORD; pick another user name"
  fi
}

# SQL on stdin, as root over the socket (no password yet during init).
mysql_root() { mysql --protocol=socket --socket="$SOCKET" -uroot --database=mysql "$@"; }
mysql_initdb() { mysql_root ${MYSQL_DATABASE:+--database="$MYSQL_DATABASE"}; }
sql_escape() { printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"; }

start_temp_server() {
  entry_log "starting a temporary server (socket only) for initialisation"
  "$@" --skip-networking --socket="$SOCKET" &
  TEMP_PID=$!
  for _ in $(seq 60); do
    mysqladmin --socket="$SOCKET" -uroot ping >/dev/null 2>&1 && return 0
    kill -0 "$TEMP_PID" 2>/dev/null || entry_die "the temporary server exited during initialisation (log above)"
    sleep 1
  done
  entry_die "the temporary server did not answer within 60 s"
}

stop_temp_server() {
  MYSQL_PWD=$MYSQL_ROOT_PASSWORD mysqladmin --socket="$SOCKET" -uroot shutdown
  wait "$TEMP_PID"
  TEMP_PID=''
  entry_log "temporary server stopped"
}

# init_stopped CODE: a signal arrived during the initialisation: stop the temporary server, say what is left.
init_stopped() {
  entry_log "stopped during initialisation: $DATADIR is incomplete and will not be used (remove the volume)"
  if [[ -n $TEMP_PID ]]; then kill "$TEMP_PID" 2>/dev/null || true; wait "$TEMP_PID" 2>/dev/null || true; fi
  exit "$1"
}

setup_accounts() {
  local root_pw db user pw
  if [[ -n $MYSQL_RANDOM_ROOT_PASSWORD ]]; then
    MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    entry_log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi
  root_pw=$(sql_escape "$MYSQL_ROOT_PASSWORD")
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';"
    if [[ $MYSQL_ROOT_HOST != localhost ]]; then
      echo "CREATE USER IF NOT EXISTS 'root'@'$MYSQL_ROOT_HOST' IDENTIFIED BY '$root_pw';"
      echo "GRANT ALL ON *.* TO 'root'@'$MYSQL_ROOT_HOST' WITH GRANT OPTION;"
    fi
    if [[ -n $MYSQL_DATABASE ]]; then
      db=${MYSQL_DATABASE//\`/\`\`}
      echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
    fi
    if [[ -n $MYSQL_USER && -n $MYSQL_PASSWORD ]]; then
      user=$(sql_escape "$MYSQL_USER"); pw=$(sql_escape "$MYSQL_PASSWORD")
      echo "CREATE USER '$user'@'%' IDENTIFIED BY '$pw';"
      [[ -n $MYSQL_DATABASE ]] && echo "GRANT ALL ON \`$db\`.* TO '$user'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mysql_root
}

initialise() {
  require_password_option
  trap 'init_stopped 143' TERM
  trap 'init_stopped 130' INT
  entry_log "initialising the database files in $DATADIR"
  "$@" --initialize-insecure
  start_temp_server "$@"
  setup_accounts
  # initdb scripts connect as root with the password just set, like the official image's.
  export MYSQL_PWD=$MYSQL_ROOT_PASSWORD
  run_initdb_dir mysql_initdb
  unset MYSQL_PWD
  stop_temp_server
  : >"$INIT_DONE"
  trap - TERM INT
  entry_log "MySQL init process done. Ready for start up."
}

main() {
  [[ ${1:0:1} == - ]] && set -- mysqld "$@"
  if [[ $1 == mysqld && $(id -u) == 0 ]]; then
    mkdir -p "$DATADIR" /run/mysqld
    chown mysql:mysql "$DATADIR" /run/mysqld
    exec gosu mysql "$0" "$@"
  fi
  if [[ $1 == mysqld && ! -d $DATADIR/mysql ]]; then
    read_env
    initialise "$@"
  elif [[ $1 == mysqld && ! -e $INIT_DONE ]]; then
    entry_die "$DATADIR holds a database whose initialisation never finished (it was stopped midway, or another image made it): its accounts may be missing. Remove this data volume and start again (in the lab: --down --volumes)."
  fi
  unset MYSQL_ROOT_PASSWORD MYSQL_PASSWORD MYSQL_PWD
  exec "$@"
}

main "$@"
