"""Factories of distribution rows."""

import factory

from distribution.models import Contact
from tests.factories import OrgUnitFactory


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    unit = factory.SubFactory(OrgUnitFactory)
    audience = Contact.Audience.CUSTOMER
