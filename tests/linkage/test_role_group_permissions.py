"""The Leadership and Analysts groups hold their permissions on the models that moved apps
(metrics, metric values, the audit log), also on a database created after the move."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from surveys.models import Metric
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db

REPAIR = importlib.import_module("linkage.migrations.0008_role_groups_keep_moved_model_permissions")


def _held(group: Group) -> set[tuple[str, str]]:
    return set(group.permissions.values_list("content_type__app_label", "codename"))


@pytest.mark.parametrize("name", ["Leadership", "Analysts"])
def test_role_group_migration_grants_moved_model_permissions_missing_on_a_fresh_database(name):
    # A fresh database: 0002 found no permission under the old labels, and the audit log's
    # permissions are only made by the post-migrate step after every migration.
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.clear()
    Permission.objects.filter(content_type__app_label="common").delete()

    REPAIR.grant(django_apps, None)

    expected = {(app, f"{action}_{model}") for app, model, action in REPAIR.GRANTS[name]}
    assert expected <= _held(group)
    assert ("surveys", "view_metricvalue") in _held(group)


def test_role_group_migration_is_harmless_on_an_upgraded_database():
    group, _ = Group.objects.get_or_create(name="Leadership")
    REPAIR.grant(django_apps, None)
    before = (Permission.objects.count(), _held(group))

    REPAIR.grant(django_apps, None)

    assert (Permission.objects.count(), _held(group)) == before


def test_role_group_leader_reads_the_metric_catalogue_in_the_admin(client, leader):
    MetricFactory(key="customer.nps", name="Customer NPS")
    client.force_login(leader)

    response = client.get(reverse("admin:surveys_metric_changelist"))

    assert response.status_code == 200
    assert b"Customer NPS" in response.content


def test_role_group_analyst_changes_the_metric_catalogue_in_the_admin(client, analyst):
    metric = MetricFactory(key="customer.nps", name="Customer NPS")
    client.force_login(analyst)

    response = client.post(
        reverse("admin:surveys_metric_change", args=[metric.pk]),
        {
            "key": "customer.nps",
            "name": "Net Promoter Score",
            "source": metric.source,
            "aggregation": metric.aggregation,
            "direction": metric.direction,
            "chain_stage": metric.chain_stage,
            "perspective": metric.perspective,
            "level": metric.level,
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert Metric.objects.get(pk=metric.pk).name == "Net Promoter Score"
