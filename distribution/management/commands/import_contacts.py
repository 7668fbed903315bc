"""Import contacts from a CSV file (all or nothing; bad lines listed by number)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ...exceptions import InvalidContactFile
from ...services.contacts import import_contacts, read_contact_file


class Command(BaseCommand):
    help = "Import or update contacts from a CSV file: unit_code,email,customer_id,language,…"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, path: Path, no_progress: bool, **options) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        lines = max(text.count("\n") - 1, 0)

        def progress(rows):
            return tqdm(rows, total=lines, unit=" rows", disable=no_progress, file=self.stderr)

        try:
            result = import_contacts(rows=read_contact_file(text), progress=progress)
        except InvalidContactFile as error:
            for line, message in error.errors:
                self.stderr.write(f"line {line}: {message}")
            raise CommandError(f"Nothing was imported: {error.total} bad line(s).") from error
        self.stdout.write(f"{result.created} contacts added, {result.updated} updated.")
