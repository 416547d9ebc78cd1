#!/usr/bin/env bash
# Entry point of the segwise image. In the compose stack the secrets volume is mounted at
# $SEGWISE_SECRETS_DIR: turn its files into the settings Airflow and segwise read (database URLs,
# AIRFLOW_CONN_WAREHOUSE, Fernet key, JWT secret, the admin's password file), refusing a missing
# or empty secret, then run the command. Without the volume (plain `docker run`), settings come
# from the environment as usual.
set -euo pipefail

secrets_dir="${SEGWISE_SECRETS_DIR:-/run/segwise/secrets}"
if [[ -d "$secrets_dir" ]] && [[ -n "$(ls -A "$secrets_dir" 2>/dev/null)" ]]; then
    exports="$(python /opt/segwise/app/docker/segwise_secrets.py export)"
    eval "$exports"
fi

exec "$@"
