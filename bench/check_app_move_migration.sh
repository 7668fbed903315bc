#!/usr/bin/env bash
# Proves the migrations that moved models between apps keep every row: seeds the demo with
# the code from before the move (commit 2cea846), counts rows and reads a score, migrates
# forward with the current code, recomputes every score, and compares.
#
#   bash bench/check_app_move_migration.sh   (needs PostgreSQL on 127.0.0.1:5432 and psql)
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE_MOVE=2cea846
SERVER=postgres://postgres@127.0.0.1:5432
DB=cx_check_app_move
export DEBUG=1 DATABASE_URL="$SERVER/$DB"
python=$PWD/.venv/bin/python
old=$(mktemp -d)
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || true' EXIT
git worktree add --quiet --detach "$old" "$BEFORE_MOVE"
psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
(cd "$old" && "$python" manage.py migrate -v0 && "$python" manage.py seed_demo -v0 >/dev/null)

counts() {  # $1 $2 $3 $4: tables of metrics, metric values, audit events, idempotency records
  psql -tA "$DATABASE_URL" <<SQL
SELECT 'metrics', count(*) FROM $1
UNION ALL SELECT 'metric values', count(*) FROM $2
UNION ALL SELECT 'audit events', count(*) FROM $3
UNION ALL SELECT 'idempotency records', count(*) FROM $4
UNION ALL SELECT 'responses', count(*) FROM surveys_response
UNION ALL SELECT 'answers', count(*) FROM surveys_answer
UNION ALL SELECT 'linkage results', count(*) FROM linkage_linkageresult
UNION ALL SELECT 'chain links', count(*) FROM linkage_chainlink
UNION ALL SELECT 'initiative metrics', count(*) FROM linkage_initiative_metrics
UNION ALL SELECT 'group permissions', count(*) FROM auth_group_permissions
UNION ALL SELECT 'company NPS, last period', round(v.value::numeric, 6) FROM $2 v
  JOIN $1 m ON m.id = v.metric_id JOIN surveys_orgunit u ON u.id = v.unit_id
  WHERE m.key = 'customer.nps' AND u.level = 'company' AND v.period = (SELECT max(period) FROM $2)
UNION ALL SELECT 'sum of every value', round(sum(value)::numeric, 4) FROM $2;
SQL
}
counts linkage_metric linkage_metricvalue linkage_auditevent surveys_idempotencyrecord > /tmp/$DB.before
"$python" manage.py migrate -v0
"$python" manage.py recompute_scores -v0
counts surveys_metric surveys_metricvalue common_auditevent common_idempotencyrecord > /tmp/$DB.after
paste -d'|' /tmp/$DB.before /tmp/$DB.after | awk -F'|' '{printf "%-26s %16s %16s\n", $1, $2, $4}'
diff -q /tmp/$DB.before /tmp/$DB.after >/dev/null && echo "every row kept, scores identical"
