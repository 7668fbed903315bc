"""Backup and restore (README "Backup and restore"): pg_dump the database, pg_restore it into a
fresh one, recompute every score there; scores and linkage results come back identical."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from linkage.models import LinkageResult
from linkage.services.runs import compute_linkage_run, start_linkage_run
from surveys.models import Metric, MetricValue
from surveys.services import submit_response
from surveys.services.scores import recompute_all
from tests.conftest import skip_or_fail
from tests.factories import MetricFactory, MetricValueFactory, QuestionFactory, SurveyFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
SCORES = "SELECT m.key, u.code, v.period, v.value, v.n, v.ci_low, v.ci_high, v.suppressed"
SCORES += " FROM surveys_metricvalue v JOIN surveys_metric m ON m.id = v.metric_id"
SCORES += " JOIN surveys_orgunit u ON u.id = v.unit_id ORDER BY 1, 2, 3"
RESULTS = "SELECT x_metric_id, y_metric_id, lag, n_units, r, p, within_r, q"
RESULTS += " FROM linkage_linkageresult"
RESULTS += " ORDER BY 1, 2, 3"


def _url(name: str) -> str:
    settings = connection.settings_dict
    return (
        f"postgresql://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{name}"
    )


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def tools():
    if connection.vendor != "postgresql":
        skip_or_fail("backup and restore need PostgreSQL (set DATABASE_URL)")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed")


def _seed(org_tree) -> None:
    survey = SurveyFactory(root_unit=org_tree["company"])
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    for index, store in enumerate(org_tree["stores"]):
        for score in (index, 10 - index, 9):
            submit_response(survey=survey, unit=store, answers={"nps": score})
    recompute_all()
    # Imported (outcome) values: a recompute from answers must leave them as restored.
    enps = MetricFactory(key="outcome.staffing", source=Metric.Source.OUTCOME)
    sales = MetricFactory(key="outcome.sales", source=Metric.Source.OUTCOME)
    for unit_index in range(12):
        unit = MetricValueFactory(metric=enps, period="2026-01", value=unit_index).unit
        for month, period in enumerate(("2026-01", "2026-02", "2026-03")):
            if month:
                MetricValueFactory(metric=enps, unit=unit, period=period, value=unit_index + month)
            MetricValueFactory(metric=sales, unit=unit, period=period, value=3 * unit_index - month)
    run = start_linkage_run(
        created_by=None, metric_keys=["outcome.staffing", "outcome.sales"], enqueue=False
    )
    compute_linkage_run(run.pk)


def test_dump_restore_and_recompute_give_identical_scores_and_linkage(tools, org_tree, tmp_path):
    _seed(org_tree)
    assert MetricValue.objects.exists() and LinkageResult.objects.exists()
    source = _url(connection.settings_dict["NAME"])
    restored_name = f"cxsurvey_hard_restore_{os.getpid()}"
    restored = _url(restored_name)
    dump = tmp_path / "cxsurvey.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], check=True
    )
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
        admin.execute(f'CREATE DATABASE "{restored_name}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={restored}", str(dump)], check=True)
        environment = {**os.environ, "DATABASE_URL": restored, "DEBUG": "1"}
        environment.pop("CELERY_BROKER_URL", None)  # recompute in-process
        for command in (["migrate", "--check"], ["recompute_scores"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=environment,
                check=True,
                capture_output=True,
                timeout=120,
            )
        assert _rows(restored, SCORES) == _rows(source, SCORES)
        assert _rows(restored, RESULTS) == _rows(source, RESULTS)
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored_name}"')
