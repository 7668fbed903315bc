"""The move of the metric store to `surveys` and of the audit log and stored API results to
`common` keeps every row: migrated backwards to before the move, rows written with the
historical models come back after migrating forward with the same ids and values, their
content types relabelled and every permission granted on them still held."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from common.models import AuditEvent, IdempotencyRecord
from linkage.models import ChainLink, LinkageResult
from surveys.models import Metric, MetricValue, OrgUnit

BEFORE_THE_MOVE = [
    ("surveys", "0001_initial_survey_model"),
    ("linkage", "0005_barometer_vote_updated_at"),
    ("common", None),
]
MOVED = {  # model → (app before, app after)
    "metric": ("linkage", "surveys"),
    "metricvalue": ("linkage", "surveys"),
    "auditevent": ("linkage", "common"),
    "idempotencyrecord": ("surveys", "common"),
}
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _permission(apps, model: str, codename: str):
    content_type = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label=MOVED[model][0], model=model
    )[0]
    return apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": codename}
    )[0]


def _write_metric_store(apps) -> dict:
    """A unit, two metrics, a value and a suppressed value, a run result and a chain link."""
    unit = apps.get_model("surveys", "OrgUnit").objects.create(
        code="store-1", name="Store 1", level="store", path="00000001/", depth=1
    )
    metric_model = apps.get_model("linkage", "Metric")
    enps = metric_model.objects.create(key="employee.enps", name="eNPS", aggregation="nps")
    nps = metric_model.objects.create(key="customer.nps", name="NPS", aggregation="nps")
    values = apps.get_model("linkage", "MetricValue").objects
    shown = values.create(
        metric=nps, unit=unit, period="2026-01", value=42.5, n=31, ci_low=20.25, ci_high=64.75
    )
    hidden = values.create(metric=enps, unit=unit, period="2026-01", n=0, suppressed=True)
    run = apps.get_model("linkage", "LinkageRun").objects.create(
        first_period="2026-01", last_period="2026-06", metric_keys=[enps.key, nps.key]
    )
    result = apps.get_model("linkage", "LinkageResult").objects.create(
        run=run, x_metric=enps, y_metric=nps, lag=1, n_pairs=60, n_units=12, r=0.5,
        snapshot_at=MOMENT,
    )  # fmt: skip
    link = apps.get_model("linkage", "ChainLink").objects.create(
        from_metric=enps, to_metric=nps, latest_result=result
    )
    return {"unit": unit.pk, "enps": enps.pk, "nps": nps.pk, "shown": shown.pk,
            "hidden": hidden.pk, "result": result.pk, "link": link.pk}  # fmt: skip


def _write_audit_log_records_and_grants(apps) -> dict:
    """An audit event and a stored API result of a leader, who holds view permissions on
    moved models through the Leadership group and directly."""
    user = apps.get_model("auth", "User").objects.create(username="moved-leader")
    audit = apps.get_model("linkage", "AuditEvent").objects.create(
        actor=user, action="barometer.agreed", subject="customer.nps", details={"votes": 3}
    )
    record = apps.get_model("surveys", "IdempotencyRecord").objects.create(
        user=user, key="batch-1", method="POST", path="/api/v1/surveys/s/responses/bulk/",
        request_hash="a" * 64, response_status=201, response_body={"responses": 2},
        expires_at=MOMENT,
    )  # fmt: skip
    group = apps.get_model("auth", "Group").objects.get_or_create(name="Leadership")[0]
    group.permissions.add(_permission(apps, "metricvalue", "view_metricvalue"))
    group.user_set.add(user)
    user.user_permissions.add(_permission(apps, "auditevent", "view_auditevent"))
    content_types = apps.get_model("contenttypes", "ContentType").objects
    moved_types = {
        model: content_types.get(app_label=before, model=model).pk
        for model, (before, _) in MOVED.items()
    }
    return {"user": user.pk, "audit": audit.pk, "record": record.pk, "content_types": moved_types}


def _migrate(targets=None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def _assert_rows_kept(ids: dict) -> None:
    shown = MetricValue.objects.get(pk=ids["shown"])
    assert (shown.metric_id, shown.unit_id, shown.period) == (ids["nps"], ids["unit"], "2026-01")
    assert (shown.value, shown.n, shown.ci_low, shown.ci_high) == (42.5, 31, 20.25, 64.75)
    hidden = MetricValue.objects.get(pk=ids["hidden"])
    assert (hidden.metric_id, hidden.suppressed, hidden.value) == (ids["enps"], True, None)
    assert Metric.objects.get(pk=ids["nps"]).key == "customer.nps"
    assert OrgUnit.objects.get(pk=ids["unit"]).code == "store-1"
    audit = AuditEvent.objects.get(pk=ids["audit"])
    assert (audit.actor_id, audit.action) == (ids["user"], "barometer.agreed")
    assert audit.details == {"votes": 3}
    record = IdempotencyRecord.objects.get(pk=ids["record"])
    assert (record.user_id, record.key) == (ids["user"], "batch-1")
    assert record.response_body == {"responses": 2}
    result = LinkageResult.objects.get(pk=ids["result"])
    assert (result.x_metric.key, result.y_metric.key, result.r) == (
        "employee.enps",
        "customer.nps",
        0.5,
    )
    link = ChainLink.objects.get(pk=ids["link"])
    assert (link.from_metric_id, link.to_metric_id) == (ids["enps"], ids["nps"])
    assert link.latest_result_id == ids["result"]


def _assert_content_types_and_permissions_kept(ids: dict) -> None:
    ContentType.objects.clear_cache()
    for model, (_, after) in MOVED.items():
        content_type = ContentType.objects.get(pk=ids["content_types"][model])
        assert (content_type.app_label, content_type.model) == (after, model)
    assert ContentType.objects.get_for_model(MetricValue).pk == ids["content_types"]["metricvalue"]
    held = Group.objects.get(name="Leadership").permissions
    assert held.filter(content_type__app_label="surveys", codename="view_metricvalue").exists()
    leader = User.objects.get(pk=ids["user"])
    assert leader.has_perm("surveys.view_metricvalue")  # through the group
    assert leader.has_perm("common.view_auditevent")  # granted to the user directly


@pytest.mark.django_db(transaction=True)
def test_moved_models_keep_their_rows_ids_content_types_and_permissions():
    try:
        _migrate(BEFORE_THE_MOVE)
        applied = [target for target in BEFORE_THE_MOVE if target[1] is not None]
        historical = MigrationExecutor(connection).loader.project_state(applied).apps
        ids = {
            **_write_metric_store(historical),
            **_write_audit_log_records_and_grants(historical),
        }
    finally:
        _migrate()  # forward to the latest, whatever happened: later tests need the schema

    _assert_rows_kept(ids)
    _assert_content_types_and_permissions_kept(ids)
    # The id sequences moved with the tables: a new row gets a new id.
    new = MetricValue.objects.create(metric_id=ids["nps"], unit_id=ids["unit"], period="2026-02")
    assert new.pk > max(ids["shown"], ids["hidden"])
