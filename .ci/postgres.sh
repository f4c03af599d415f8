#!/usr/bin/env bash
# Start this machine's PostgreSQL (when installed) and create a role and database.
# Usage: .ci/postgres.sh DBNAME  — prints the SQLAlchemy URL on success.
set -euo pipefail
DB="${1:-partnerbot_test}"
ROLE=partnerbot
PASSWORD=partnerbot
[ "$(id -u)" = "0" ] || { echo "needs root to start PostgreSQL" >&2; exit 1; }
command -v pg_ctlcluster >/dev/null 2>&1 || { echo "PostgreSQL is not installed" >&2; exit 1; }
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
[ -n "$version" ] || { echo "no PostgreSQL cluster" >&2; exit 1; }
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1==v && $2=="main" && $4=="online"' | grep -q .; then
    pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 30); do
    su postgres -c "psql -qAtc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 1
done
su postgres -c "psql -qAtc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'\"" >&2
su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 \
    || su postgres -c "psql -qc \"CREATE DATABASE $DB OWNER $ROLE\"" >&2
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:5432/$DB"
