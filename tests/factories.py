"""factory_boy factories for the whole project (split by app when it grows)."""

import importlib

import factory
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from linkage.models import Initiative
from surveys.models import (
    Answer,
    Choice,
    Invitation,
    Metric,
    MetricValue,
    OrgUnit,
    Question,
    Response,
    Survey,
    WebhookSubscription,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw-for-tests-only")


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"Unit {n}")
    level = OrgUnit.Level.STORE
    parent = None


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    title = factory.Sequence(lambda n: f"Survey {n}")
    slug = factory.Sequence(lambda n: f"survey-{n}")
    audience = Survey.Audience.CUSTOMER
    kind = Survey.Kind.RELATIONSHIP
    status = Survey.Status.OPEN

    class Params:
        employee = factory.Trait(
            audience=Survey.Audience.EMPLOYEE,
            kind=Survey.Kind.PULSE,
            anonymous=True,
            anonymity_threshold=5,
        )


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    code = factory.Sequence(lambda n: f"q{n}")
    order = factory.Sequence(lambda n: n)
    type = Question.Type.NPS
    text = "How likely are you to recommend us to a friend or colleague?"
    metric_key = ""


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, type=Question.Type.SINGLE)
    value = factory.Sequence(lambda n: f"option-{n}")
    label = factory.LazyAttribute(lambda choice: choice.value.title())
    order = factory.Sequence(lambda n: n)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    unit = factory.SubFactory(OrgUnitFactory)


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    survey = factory.SubFactory(SurveyFactory)
    unit = factory.SubFactory(OrgUnitFactory)
    period = "2026-01"


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"metric.m{n}")
    name = factory.LazyAttribute(lambda metric: metric.key)
    aggregation = Metric.Aggregation.MEAN


class MetricValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricValue

    metric = factory.SubFactory(MetricFactory)
    unit = factory.SubFactory(OrgUnitFactory)
    period = "2026-01"
    value = 50.0
    n = 30


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = "Leadership"


ROLE_GROUPS = importlib.import_module("linkage.migrations.0002_leadership_and_analyst_groups")
LEADERS_START_RUNS = importlib.import_module(
    "linkage.migrations.0003_leadership_starts_linkage_runs"
)
MOVED_MODELS = importlib.import_module(
    "common.migrations.0002_content_types_follow_moved_models"
).MOVED


def _current_app_label(app_label: str, codename: str) -> str:
    """The app a model lives in now, for a permission the migrations named by its old app."""
    model = codename.split("_", 1)[1]
    for old_app, new_app, moved in MOVED_MODELS:
        if (old_app, moved) == (app_label, model):
            return new_app
    return app_label


def role_group(name: str) -> Group:
    """The Leadership or Analysts group with the permissions its data migrations give it.

    A transactional test flushes every table, data migrations' rows included, and with
    --reuse-db the next run starts from that flushed database; so an empty group is rebuilt
    here from the migrations' own definitions rather than trusted to be there.
    """
    group, _ = Group.objects.get_or_create(name=name)
    if group.permissions.exists():
        return group
    writes = {"Leadership": ROLE_GROUPS.LEADERSHIP_WRITES, "Analysts": ROLE_GROUPS.ANALYSTS_WRITES}
    for app_label, codename in ROLE_GROUPS._codenames(writes[name]):
        current = _current_app_label(app_label, codename)
        group.permissions.add(
            Permission.objects.get(content_type__app_label=current, codename=codename)
        )
    LEADERS_START_RUNS.grant(django_apps, None)
    return group


class LeaderFactory(UserFactory):
    """A staff member of the Leadership group."""

    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"leader{n}")
    # Tests log leaders in with force_login; skipping password hashing keeps them fast.
    password = "!unusable"
    is_staff = True

    @factory.post_generation
    def leadership(self, create, extracted, **kwargs):
        if create:
            self.groups.add(role_group("Leadership"))


class AnalystFactory(UserFactory):
    """A member of the Analysts group (reads every unit, not staff)."""

    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"analyst{n}")
    password = "!unusable"

    @factory.post_generation
    def analysts(self, create, extracted, **kwargs):
        if create:
            self.groups.add(role_group("Analysts"))


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    survey = factory.SubFactory(SurveyFactory)
    url = "http://127.0.0.1:9/hook"


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    title = factory.Sequence(lambda n: f"Initiative {n}")


def add_answers(question, unit, numbers, *, period="2026-01", segment=None, released=True) -> None:
    """One response per number to `question` from `unit`; bulk inserts, no services.
    Answers to employee and anonymous surveys come released unless `released` is False."""
    responses = Response.objects.bulk_create(
        Response(survey_id=question.survey_id, unit=unit, period=period, segment=segment or {})
        for _ in numbers
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=number)
        for response, number in zip(responses, numbers, strict=True)
    )
    if released:
        release_answers()


def release_answers() -> None:
    """Mark every waiting answer released, as the first release of a closed wave does: for
    tests of scoring and suppression that build answers directly (the release rule itself is
    tested through `surveys.services.releases`)."""
    from surveys.models import Answer, ResultRelease

    waiting = Answer.objects.filter(release__isnull=True)
    cells = waiting.values_list("response__survey_id", "response__period").distinct()
    for survey_id, period in list(cells):
        release = ResultRelease.objects.create(survey_id=survey_id, period=period, kind="wave")
        waiting.filter(response__survey_id=survey_id, response__period=period).update(
            release=release
        )
