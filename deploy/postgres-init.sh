#!/bin/sh
# Creates one database per service (ingest, translation_status, rendering, notification), each
# owned by POSTGRES_USER, the role the services connect as.
#
# docker-compose.yml mounts this file into /docker-entrypoint-initdb.d/ of the postgres image,
# whose entrypoint runs it once, when the data volume is initialised (first start). It is
# idempotent anyway, so running it by hand against an existing server is harmless:
#   docker-compose exec postgres sh /docker-entrypoint-initdb.d/10-create-databases.sh
# Tables come from the migrations (the one-shot `migrate` container: python -m shared.migrate upgrade).
set -e

for db in ingest translation_status rendering notification; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" <<SQL
SELECT 'CREATE DATABASE "$db" OWNER "$POSTGRES_USER"'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
done
