"""Read paths of linkage runs and the results chain (metric values: `surveys.selectors`)."""

from collections.abc import Iterable

from django.db.models import QuerySet

from surveys.visibility import Reader, scoped

from .models import ChainLink, LinkageResult, LinkageRun, PerformanceExpectation


def linkage_results(run: LinkageRun) -> QuerySet[LinkageResult]:
    """A run's result rows with both metrics loaded, in chain order then lag."""
    return (
        LinkageResult.objects.filter(run=run)
        .select_related("x_metric", "y_metric")
        .order_by(
            "x_metric__chain_stage",
            "x_metric__key",
            "y_metric__chain_stage",
            "y_metric__key",
            "lag",
        )
    )


def chain_links(*, metric_keys: Iterable[str] | None = None) -> QuerySet[ChainLink]:
    """Chain links with metrics and latest evidence loaded (optionally among `metric_keys`)."""
    links = ChainLink.objects.select_related("from_metric", "to_metric", "latest_result")
    if metric_keys is not None:
        keys = list(metric_keys)
        links = links.filter(from_metric__key__in=keys, to_metric__key__in=keys)
    return links


def linkage_runs() -> QuerySet[LinkageRun]:
    """Every linkage run with its creator, newest first (runs are organisation-wide)."""
    return LinkageRun.objects.select_related("created_by").order_by("-created_at", "-pk")


def readable_expectations(reader: Reader) -> QuerySet[PerformanceExpectation]:
    """Performance expectations about units the reader may read, by end date."""
    expectations = PerformanceExpectation.objects.select_related("metric", "unit", "owner")
    return scoped(expectations.order_by("end_date", "title", "pk"), reader)
