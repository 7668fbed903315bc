"""`manage.py erase_customer --customer-id X | --respondent-key X | --contact X`: erase one
customer's personal data on request; aggregate scores stay identical."""

from django.core.management.base import BaseCommand, CommandError

from surveys.exceptions import SurveyError
from surveys.services.erasure import erase_customer


class Command(BaseCommand):
    help = (
        "Erase one customer's personal data: their invitations (contact, customer id) and, on "
        "their responses, the respondent key, external id and every free-text answer. Scores "
        "are unchanged; the erasure is recorded in the audit log (counts only)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customer-id", default="", help="Customer id of invitations.")
        parser.add_argument("--respondent-key", default="", help="Respondent key of responses.")
        parser.add_argument("--contact", default="", help="E-mail or phone of invitations.")
        parser.add_argument("--reason", default="", help="Why (e.g. the request's reference).")

    def handle(self, *args, **options) -> None:
        try:
            erased = erase_customer(
                customer_id=options["customer_id"],
                respondent_key=options["respondent_key"],
                contact=options["contact"],
                reason=options["reason"],
            )
        except SurveyError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Erased: {erased.responses} response(s) de-identified, {erased.comments} comment(s) "
            f"blanked, {erased.invitations} invitation(s) deleted."
        )
