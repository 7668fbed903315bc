import pytest
from django.core.management import CommandError, call_command

from distribution.exceptions import InvalidContactFile
from distribution.models import Contact
from distribution.services.contacts import import_contacts, read_contact_file

pytestmark = pytest.mark.django_db

HEADER = "unit_code,email,customer_id,language,product\n"


def _import(text: str):
    return import_contacts(rows=read_contact_file(text))


def test_import_contacts_creates_contacts_with_segment_from_extra_columns(org_tree):
    result = _import(HEADER + "n1,Ann@Example.com,C1,de,loan\nn2,bob@example.com,,,\n")
    assert (result.created, result.updated) == (2, 0)
    ann = Contact.objects.get(email="ann@example.com")
    assert (ann.unit.code, ann.customer_id, ann.language) == ("n1", "C1", "de")
    assert ann.segment == {"product": "loan"}


def test_import_contacts_again_updates_instead_of_duplicating(org_tree):
    _import(HEADER + "n1,ann@example.com,C1,de,loan\n")
    Contact.objects.filter(email="ann@example.com").update(unsubscribed=True)
    result = _import(HEADER + "s1,ann@example.com,C1,fr,card\n")
    assert (result.created, result.updated) == (0, 1)
    ann = Contact.objects.get()
    assert (ann.unit.code, ann.language, ann.segment) == ("s1", "fr", {"product": "card"})
    assert ann.unsubscribed  # an opt-out survives a re-import


def test_import_contacts_reports_every_bad_line_and_writes_nothing(org_tree):
    text = HEADER + (
        "n1,good@example.com,,,\n"
        "zz,bad-unit@example.com,,,\n"
        "n1,not-an-address,,,\n"
        "n1,x@example.com,,xx,\n"
        "n1,good@example.com,,,\n"
    )
    with pytest.raises(InvalidContactFile) as raised:
        _import(text)
    lines = [line for line, _ in raised.value.errors]
    assert lines == [3, 4, 5, 6]
    assert "unknown unit code 'zz'" in raised.value.message
    assert Contact.objects.count() == 0


def test_import_contacts_refuses_a_header_without_email(org_tree):
    with pytest.raises(InvalidContactFile, match="line 1: the header lacks the column"):
        _import("unit_code,mail\nn1,a@example.com\n")


def test_import_contacts_command_imports_and_fails_on_bad_file(org_tree, tmp_path, capsys):
    good = tmp_path / "contacts.csv"
    good.write_text(HEADER + "n1,ann@example.com,C1,de,loan\n", encoding="utf-8")
    call_command("import_contacts", str(good), "--no-progress")
    assert "1 contacts added, 0 updated." in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "nope,ann@example.com,,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_contacts", str(bad), "--no-progress")


def test_admin_upload_lists_bad_lines_by_number(client, owner, org_tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    upload = SimpleUploadedFile("c.csv", (HEADER + "n1,bad,,,\n").encode(), "text/csv")
    page = client.post("/admin/distribution/contact/upload/", {"file": upload})
    assert page.status_code == 200
    assert "Line 2: &#x27;bad&#x27; is not a valid e-mail address." in page.content.decode()
    upload = SimpleUploadedFile("c.csv", (HEADER + "n1,a@example.com,,,\n").encode(), "text/csv")
    page = client.post("/admin/distribution/contact/upload/", {"file": upload})
    assert page.status_code == 302 and Contact.objects.count() == 1


def test_manager_imports_only_into_their_units(org_tree, unit_member):
    north_store, south_store = org_tree["stores"][0], org_tree["stores"][2]
    Contact.objects.create(email="taken@example.com", unit=south_store)
    text = HEADER + f"{north_store.code},a@example.com,,,\n{south_store.code},b@example.com,,,\n"
    with pytest.raises(InvalidContactFile, match="line 3: unknown unit code"):
        import_contacts(rows=read_contact_file(text), imported_by=unit_member)
    text = HEADER + f"{north_store.code},taken@example.com,,,\n"
    with pytest.raises(InvalidContactFile, match="belongs to a unit you do not manage"):
        import_contacts(rows=read_contact_file(text), imported_by=unit_member)
    assert Contact.objects.get(email="taken@example.com").unit == south_store
