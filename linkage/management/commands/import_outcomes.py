"""manage.py import_outcomes FILE: load business outcomes (revenue, retention …) from CSV."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from linkage.models import OutcomeImport
from linkage.services.outcomes import DENOMINATOR, HEADER, import_outcome_file


class Command(BaseCommand):
    help = (
        f"Import outcome values from a CSV file with the header {','.join(HEADER)}, "
        f"optionally followed by {DENOMINATOR} (what a mean or rate is taken over, e.g. "
        "customers for retention: parents are then weighted by it; without it they are "
        "weighted by the number of units with a value). "
        "Any bad line refuses the whole file unless --skip-bad."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8).")
        parser.add_argument(
            "--skip-bad", action="store_true", help="Write the good lines and skip bad ones."
        )
        parser.add_argument(
            "--create-metrics",
            action="store_true",
            help="Create outcome metrics for metric keys that do not exist yet.",
        )

    def handle(self, *args, file: Path, skip_bad: bool, create_metrics: bool, **options) -> None:
        try:
            with file.open("rb") as handle:
                total = sum(1 for _ in handle)
            with (
                file.open("rb") as handle,
                tqdm(total=total, unit="line", disable=options["verbosity"] == 0 or None) as bar,
            ):
                record = import_outcome_file(
                    lines=handle,
                    skip_bad=skip_bad,
                    create_metrics=create_metrics,
                    file_name=file.name,
                    progress=bar.update,
                )
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        for problem in record.errors:
            line = f"line {problem['line']}: " if problem["line"] else ""
            self.stderr.write(f"{line}{problem['message']}")
        self.stdout.write(
            f"{file.name}: {record.get_status_display()}; "
            f"{record.lines_written} of {record.lines_total} lines written."
        )
        if record.status == OutcomeImport.Status.REFUSED:
            raise CommandError(
                f"{file.name} was refused: {len(record.errors)} problem(s); nothing was written."
            )
