#!/usr/bin/env bash
# Test-harness stand-in for the official postgres image's docker-entrypoint.sh: the parts the
# project's compose file relies on (POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB and their
# _FILE variants, /docker-entrypoint-initdb.d on first start, listen on all interfaces with
# scram-sha-256, run as postgres, fast shutdown on SIGINT).
set -Eeuo pipefail

file_env() { # VAR [default]: VAR or VAR_FILE, not both
    local var="$1" fvar="${1}_FILE" def="${2:-}" val
    if [[ -n "${!var:-}" && -n "${!fvar:-}" ]]; then
        echo "error: both $var and $fvar are set (but are exclusive)" >&2
        exit 1
    fi
    val="$def"
    if [[ -n "${!var:-}" ]]; then
        val="${!var}"
    elif [[ -n "${!fvar:-}" ]]; then
        val="$(<"${!fvar}")"
    fi
    export "$var"="$val"
    unset "$fvar"
}

if [[ "${1:-}" != postgres ]]; then
    exec "$@"
fi

if [[ "$(id -u)" == 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    file_env POSTGRES_USER postgres
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_DB "$POSTGRES_USER"
    if [[ -z "$POSTGRES_PASSWORD" && "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]]; then
        echo "error: database is uninitialized and superuser password is not specified." >&2
        echo "       set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value" >&2
        exit 1
    fi
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" \
        >>"$PGDATA/pg_hba.conf"

    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    export PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD"
    psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
    if [[ "$POSTGRES_DB" != postgres ]]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    psql+=(--dbname "$POSTGRES_DB")
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
        *.sh)
            if [[ -x "$f" ]]; then
                echo "$0: running $f"
                "$f"
            else
                echo "$0: sourcing $f"
                # shellcheck disable=SC1090
                . "$f"
            fi
            ;;
        *.sql)
            echo "$0: running $f"
            "${psql[@]}" -f "$f"
            ;;
        *) [[ -e "$f" ]] && echo "$0: ignoring $f" ;;
        esac
    done
    unset PGPASSWORD
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
