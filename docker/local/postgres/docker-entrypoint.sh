#!/bin/bash
# A small version of the official image's entrypoint: as root, own PGDATA and re-exec as
# `postgres`; on an empty PGDATA run initdb with the password and create POSTGRES_DB; then exec
# the server in the foreground so it gets the container's stop signal.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$(id -u)" = '0' ] && [ "$1" = 'postgres' ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_USER:=postgres}"
    : "${POSTGRES_DB:=$POSTGRES_USER}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != 'trust' ]; then
        echo 'error: POSTGRES_PASSWORD is required (or POSTGRES_HOST_AUTH_METHOD=trust)' >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of arguments, as upstream
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" -D "$PGDATA" ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    printf 'local all all trust\nhost all all all %s\n' "$auth" >"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    if [ "$POSTGRES_DB" != 'postgres' ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\"" |
            postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
fi

exec "$@"
