"""`manage.py run_linkage --metrics KEY,KEY [--level L] [--lag K] [--from P --to P] [--format F]`.

Runs a linkage run synchronously through the same service and compute function the admin
and the worker use, then prints every pair and lag as JSON (default) or an aligned table.
Warnings go to stderr so the JSON on stdout stays machine-readable.
"""

import json
import math

from django.core.management.base import BaseCommand, CommandError

from linkage.exceptions import InvalidLinkageRun
from linkage.models import LinkageRun
from linkage.selectors import linkage_results
from linkage.services.runs import compute_linkage_run, start_linkage_run
from surveys.models import OrgUnit

FIELDS = [
    "x",
    "y",
    "lag",
    "n",
    "r",
    "r_low",
    "r_high",
    "p",
    "spearman",
    "spearman_p",
    "within_r",
    "between_r",
    "q",
    "within_q",
]


def result_rows(run: LinkageRun) -> list[dict]:
    """One plain dict per result: metric keys, lag, n = units, and the statistics."""
    rows = []
    for result in linkage_results(run):
        row = {"x": result.x_metric.key, "y": result.y_metric.key, "lag": result.lag}
        row["n"] = result.n_units
        row.update({name: getattr(result, name) for name in FIELDS[4:]})
        rows.append(row)
    return rows


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def table(rows: list[dict]) -> str:
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [FIELDS] + [[_cell(row[name]) for name in FIELDS] for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(FIELDS))]
    lines = []
    for line in cells:
        padded = [
            text.ljust(width) if index < 2 else text.rjust(width)
            for index, (text, width) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Correlate metrics along the service-profit chain across units and print the results."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--metrics", metavar="KEY,KEY", help="Metric keys (default: all with values)."
        )
        parser.add_argument("--level", default=OrgUnit.Level.STORE, help="Org unit level.")
        parser.add_argument("--lag", type=int, default=1, help="Maximum lag (0–6).")
        parser.add_argument("--from", dest="first_period", metavar="P", help="First period.")
        parser.add_argument("--to", dest="last_period", metavar="P", help="Last period.")
        parser.add_argument("--format", choices=["json", "table"], default="json")

    def handle(self, *args, **options) -> None:
        keys = None
        if options["metrics"]:
            keys = [key.strip() for key in options["metrics"].split(",") if key.strip()]
        try:
            run = start_linkage_run(
                created_by=None,
                level=options["level"],
                first_period=options["first_period"],
                last_period=options["last_period"],
                metric_keys=keys,
                max_lag=options["lag"],
                enqueue=False,
            )
        except InvalidLinkageRun as error:
            raise CommandError(error.message) from error
        compute_linkage_run(run.id)
        run.refresh_from_db()
        if run.status != LinkageRun.Status.DONE:
            raise CommandError(f"Linkage run {run.pk} failed: {run.error}")
        for warning in run.warnings:
            self.stderr.write(f"warning: {warning}")
        rows = result_rows(run)
        if options["format"] == "table":
            self.stdout.write(table(rows))
        else:
            self.stdout.write(json.dumps(rows, indent=2))
