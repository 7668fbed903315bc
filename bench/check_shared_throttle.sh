#!/usr/bin/env bash
# The public submission limit holds across gunicorn worker processes: serves the demo with
# WEB_WORKERS processes sharing Redis as cache and broker, posts REQUESTS API submissions from
# one address as fast as it can, and counts what was accepted against PUBLIC_SUBMIT_RATE.
#
#   bash bench/check_shared_throttle.sh   (needs PostgreSQL on 127.0.0.1:5432, Redis on 6379)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=postgres://postgres@127.0.0.1:5432
DB=cx_check_throttle
PORT=${PORT:-8190}
REQUESTS=${REQUESTS:-200}
export DEBUG=0 SECRET_KEY=throttle-check-only ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0
export SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
export DATABASE_URL="$SERVER/$DB" CELERY_BROKER_URL=redis://127.0.0.1:6379/12
export CACHE_URL=redis://127.0.0.1:6379/13 PUBLIC_SUBMIT_RATE=${PUBLIC_SUBMIT_RATE:-60/minute}
python=$PWD/.venv/bin/python
psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
"$python" manage.py migrate -v0
"$python" manage.py seed_demo --force -v0 >/dev/null
"$python" manage.py collectstatic --noinput -v0
.venv/bin/gunicorn cxsurvey.wsgi --workers "${WEB_WORKERS:-2}" --bind 127.0.0.1:$PORT \
  --log-level warning &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/schema/" && break; sleep 1; done
"$python" - "$PORT" "$REQUESTS" <<'PY'
import collections, json, sys, time, urllib.error, urllib.request
port, count = sys.argv[1], int(sys.argv[2])
body = json.dumps(  # every required question of the demo survey
    {"survey": "northwind-customers", "unit": "nw-store-01", "answers": {"nps": 9, "csat_overall": 5, "ces": 6, "goal_reached": "yes", "delivery_complaint": "no"}}).encode()
statuses, pids = collections.Counter(), set()
started = time.monotonic()
for _ in range(count):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/submissions/", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            statuses[answer.status] += 1
    except urllib.error.HTTPError as refused:
        statuses[refused.code] += 1
elapsed = time.monotonic() - started
print(f"{count} posts from one address in {elapsed:.1f} s: {dict(sorted(statuses.items()))}")
PY
echo "worker processes: $(pgrep -P $server | wc -l)"
