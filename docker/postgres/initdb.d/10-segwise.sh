#!/usr/bin/env bash
# Runs once, on the postgres service's first start with an empty data volume (the official
# image's /docker-entrypoint-initdb.d convention): Airflow's metadata and the warehouse live in
# separate databases, each owned by its own role. Passwords come from the secrets volume through
# psql's backquote expansion, so they never appear on a command line. `segwise` may create
# roles: migration 0002 creates the read-only BI role segwise_bi.
set -euo pipefail
secrets="${SEGWISE_SECRETS_DIR:-/run/segwise/secrets}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --no-psqlrc <<SQL
\set airflow_pw \`cat "$secrets/airflow_db_password"\`
\set warehouse_pw \`cat "$secrets/warehouse_db_password"\`
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE segwise LOGIN CREATEROLE PASSWORD :'warehouse_pw';
CREATE DATABASE segwise OWNER segwise;
-- Only each database's owner (and the BI role, granted by the migration) may connect.
REVOKE CONNECT, TEMPORARY ON DATABASE airflow FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE segwise FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
SQL
echo "segwise initdb: databases airflow and segwise created"
