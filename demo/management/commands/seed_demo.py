"""`manage.py seed_demo`: create (or complete) the Northwind Retail demo and print logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from common.net import public_base_url
from demo.generator import DEFAULT_SEED
from demo.seed import DemoError, DemoOptions, SeedReport, seed_demo
from linkage.leadership_selectors import funnel_summary
from linkage.presentation import funnel_text


class Command(BaseCommand):
    help = (
        "Seed the Northwind Retail demo: 3 regions of stores, a customer survey and an "
        "anonymous employee pulse with months of answers, revenue and retention, and demo "
        "logins. Re-running with the same options changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stores", type=int, default=40, help="Number of stores (40).")
        parser.add_argument(
            "--months", type=int, default=12, help="Months of history up to this month (12)."
        )
        parser.add_argument(
            "--customers-per-store",
            type=int,
            default=30,
            help="Average customer responses per store and month (30).",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed although DEBUG is off (demo users then get random passwords).",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEVELOPMENT and not options["force"]:
            raise CommandError(
                "seed_demo adds demo users and made-up answers; with DEBUG=0 it refuses unless "
                "you pass --force (the demo users then get random passwords, printed once)."
            )
        demo = DemoOptions(
            stores=options["stores"],
            months=options["months"],
            customers_per_store=options["customers_per_store"],
            seed=options["seed"],
        )
        bars = _Bars(disable=options["verbosity"] == 0)
        try:
            report = seed_demo(options=demo, reset=options["reset"], progress=bars.update)
        except (DemoError, ValueError) as error:
            raise CommandError(str(error)) from error
        finally:
            bars.close()
        self._print(report)

    def _print(self, report: SeedReport) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(_summary(report)))
        write("\nLogins (all staff):")
        for login in report.logins:
            password = login.password or "(password changed since seeding)"
            write(f"  {login.username:<8} {password:<38} {login.role}")
        write(f"  manager manages {report.manager_store}")
        base_url = public_base_url()
        write("\nOpen:")
        paths = ("/", "/admin/", "/dashboard/", "/comments/", "/distribution/cases/", "/api/docs/")
        for path in paths:
            write(f"  {base_url}{path}")
        survey_link = f"{report.customer_survey.get_absolute_url()}?u={report.manager_store.code}"
        write(f"  {base_url}{survey_link}  (public customer survey link)")


def _summary(report: SeedReport) -> str:
    span = f"{report.periods[0]} to {report.periods[-1]}"
    if not (report.responses or report.outcome_lines or report.scores or report.initiatives):
        return f"Northwind Retail demo ({span}) is already seeded; nothing changed."
    summary = (
        f"Northwind Retail demo ({span}): {report.responses} responses with {report.answers} "
        f"answers, {report.outcome_lines} outcome values, {report.scores} scores written."
    )
    run = report.linkage_run
    if run is not None:
        summary += f"\n{run} {run.get_status_display().lower()}: the results chain has evidence."
    themes = report.theme_run
    if themes is not None:
        summary += (
            f"\nOpen comments: {themes.comment_count} themed into "
            f"{themes.themes.count()} themes ({themes.get_status_display().lower()})."
        )
    if report.initiatives:
        summary += f"\nInitiative funnel: {funnel_text(funnel_summary())}."
    return summary


class _Bars:
    """One tqdm bar per stage, fed by (stage, done, total) callbacks."""

    def __init__(self, *, disable: bool) -> None:
        self.disable = disable
        self.bars: dict[str, tqdm] = {}

    def update(self, stage: str, done: int, total: int) -> None:
        if stage not in self.bars:
            self.bars[stage] = tqdm(total=total, desc=stage, unit="step", disable=self.disable)
        bar = self.bars[stage]
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
