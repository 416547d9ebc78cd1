#!/usr/bin/env bash
# One-shot `airflow-init` service: runs on every `docker compose up` before the Airflow
# components start, and every step is idempotent, so upgrading the image upgrades the schemas.
set -euo pipefail
log() { echo "airflow-init: $*"; }

log "role passwords follow the secrets volume"
python /opt/segwise/app/docker/stackctl.py sync-roles

log "Airflow metadata database: airflow db migrate"
airflow db migrate

log "warehouse: segwise db upgrade (schemas, mart views, segwise_bi role and its password)"
segwise db upgrade

log "Airflow users (SimpleAuthManager): ${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"
log "done"
