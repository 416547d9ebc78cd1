#!/usr/bin/env bash
# The `superset` service of the `bi` profile: on every start, bring Superset's metadata database
# up to date, make sure the admin user exists with the stack's admin password, import the segwise
# dashboard bundle (docker/superset/dashboard) connected to the warehouse as segwise_bi, then
# serve on 8088. Secrets come from the read-only secrets volume and are never printed.
set -euo pipefail
log() { echo "superset-start: $*"; }
secrets="${SEGWISE_SECRETS_DIR:-/run/segwise/secrets}"
home="${SUPERSET_HOME:-/app/superset_home}"

read_secret() { # file name in the secrets volume; refuses a missing or empty one
    local value
    value="$(cat "$secrets/$1" 2>/dev/null || true)"
    [[ -n "$value" ]] || { echo "superset-start: secret $1 missing in $secrets" >&2; exit 2; }
    printf '%s' "$value"
}

if [[ ! -s "$home/secret_key" ]]; then
    log "first start: generating Superset's secret key into the superset-home volume"
    (umask 077 && python -c "import secrets; print(secrets.token_urlsafe(48))" >"$home/secret_key")
fi

log "superset db upgrade"
superset db upgrade >/tmp/superset-upgrade.log 2>&1 || { tail -30 /tmp/superset-upgrade.log; exit 1; }
log "superset init (roles and permissions)"
superset init >/tmp/superset-init.log 2>&1 || { tail -30 /tmp/superset-init.log; exit 1; }

log "admin user (password: the stack's AIRFLOW_ADMIN_PASSWORD) and the segwise dashboard"
SEGWISE_ADMIN_PASSWORD="$(read_secret airflow_admin_password)" \
SEGWISE_BI_PASSWORD="$(read_secret bi_password)" \
    python /app/segwise/provision.py

log "serving on :8088"
exec gunicorn --bind 0.0.0.0:8088 --workers "${SUPERSET_WORKERS:-2}" --threads 4 \
    --timeout 120 --access-logfile - "superset.app:create_app()"
