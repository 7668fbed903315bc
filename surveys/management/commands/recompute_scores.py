"""`manage.py recompute_scores [--survey SLUG] [--period P]`: rebuild scores from raw answers."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from surveys import periods as period_labels
from surveys.models import Survey
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.scores import recompute_scores


class Command(BaseCommand):
    help = (
        "Sync metrics from question metric keys, then recompute MetricValues for every unit "
        "from raw answers (all surveys and periods unless narrowed)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--survey", metavar="SLUG", help="Only metrics this survey feeds.")
        parser.add_argument(
            "--period", metavar="P", action="append", help="Period label, e.g. 2026-03 (repeat)."
        )

    def handle(self, *args, survey: str | None = None, period: list[str] | None = None, **options):
        survey_ids = None
        if survey is not None:
            survey_ids = list(Survey.objects.filter(slug=survey).values_list("pk", flat=True))
            if not survey_ids:
                raise CommandError(f"No survey with slug '{survey}'.")
        for label in period or []:
            try:
                period_labels.granularity_of(label)
            except period_labels.PeriodError as error:
                raise CommandError(str(error)) from error
        created = ensure_metrics_for_questions()
        with tqdm(total=0, unit="metric", disable=options["verbosity"] == 0) as bar:
            written = recompute_scores(
                survey_ids=survey_ids, periods=period, progress=_progress(bar)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{written} score cell(s) written (unchanged cells are skipped); "
                f"{created} new metric(s) from questions."
            )
        )


def _progress(bar: tqdm):
    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update
