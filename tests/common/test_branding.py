"""The company's face on respondent pages: name, logo and colour from the admin, served as
a stylesheet and an image of this site (CSP stays strict); "Powered by" only small print."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from common.colour import contrast_ratio, shades
from common.models import Branding
from common.selectors import email_branding
from common.services.branding import save_branding
from surveys.models import OrgUnit, Question, Survey
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BRANDING_ADD = "/admin/common/branding/add/"


def test_contrast_ratio_matches_published_wcag_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WebAIM: #767676 on white is the lightest grey passing AA, 4.54:1.
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5


def test_shades_darken_and_wash_the_brand_colour():
    assert shades("#2060C0") == {
        "brand": "#2060c0",
        "brand-dark": "#184890",
        "brand-wash": "#e9eff9",
    }


@pytest.fixture
def visit(db):
    survey = SurveyFactory(slug="visit", status=Survey.Status.OPEN)
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    OrgUnitFactory(code="store-1", level=OrgUnit.Level.STORE)
    return survey


def test_respondent_page_shows_company_name_logo_and_small_powered_by(visit):
    save_branding(branding=Branding(company_name="Northwind Retail"), logo=PNG)
    html = Client().get("/s/visit/?u=store-1").content.decode()
    assert '<span class="brand-name">Northwind Retail</span>' in html
    assert 'class="brand-logo" src="/brand/logo?v=' in html
    assert '<small class="powered-by">Powered by cxsurvey</small>' in html
    assert 'href="/brand.css"' in html and "style=" not in html and "<style" not in html


def test_powered_by_can_be_switched_off(visit):
    save_branding(branding=Branding(company_name="Northwind", show_powered_by=False))
    html = Client().get("/s/visit/?u=store-1").content.decode()
    assert "Powered by" not in html


def test_brand_stylesheet_sets_the_colour_as_custom_properties(db):
    default = Client().get("/brand.css")
    assert default["Content-Type"].startswith("text/css") and "--brand: #1f5fbf;" in default.text
    save_branding(branding=Branding(colour="#00543c"))
    css = Client().get("/brand.css").text
    assert "--brand: #00543c;" in css and "--brand-dark:" in css and "--brand-wash:" in css


def test_uploaded_logo_is_served_by_the_site(db):
    assert Client().get("/brand/logo").status_code == 404
    save_branding(branding=Branding(), logo=PNG)
    logo = Client().get("/brand/logo")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo.content == PNG


def test_logo_address_is_allowed_in_the_csp_of_pages_only_by_its_origin(visit):
    save_branding(branding=Branding(logo_url="https://cdn.example.com/img/logo.png"))
    # The second visitor gets the page kept in memory: its CSP must allow the logo too.
    for page in (Client().get("/s/visit/?u=store-1"), Client().get("/s/visit/?u=store-1")):
        assert 'src="https://cdn.example.com/img/logo.png"' in page.content.decode()
        policy = page["Content-Security-Policy"]
        img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
        assert "https://cdn.example.com" in img_src
        assert "script-src 'self'" in policy


def test_branding_saved_in_this_process_reaches_kept_respondent_pages_at_once(visit):
    Client().get("/s/visit/?u=store-1")
    save_branding(branding=Branding(company_name="Northwind Outfitters"))
    assert "Northwind Outfitters" in Client().get("/s/visit/?u=store-1").content.decode()


@pytest.mark.django_db
def test_admin_refuses_a_colour_too_light_for_white_text_and_an_svg_logo(client, owner):
    client.force_login(owner)
    data = {"company_name": "Acme", "colour": "#ffdd00", "logo_url": "", "show_powered_by": "on"}
    svg = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    page = client.post(BRANDING_ADD, {**data, "logo_file": svg})
    html = page.content.decode()
    assert page.status_code == 200 and "contrast" in html and "PNG, JPEG, GIF or WebP" in html
    assert not Branding.objects.exists()


@pytest.mark.django_db
def test_admin_saves_branding_with_an_uploaded_logo_and_pages_use_it_at_once(
    client, owner, django_capture_on_commit_callbacks
):
    assert Client().get("/brand.css").status_code == 200  # caches the default
    client.force_login(owner)
    assert client.get(reverse("admin:common_branding_changelist"))["Location"] == BRANDING_ADD
    data = {"company_name": "Acme", "colour": "#004d80", "logo_url": "", "show_powered_by": "on"}
    logo = SimpleUploadedFile("logo.png", PNG, "image/png")
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(BRANDING_ADD, {**data, "logo_file": logo})
    assert saved.status_code == 302
    branding = Branding.objects.get()
    assert branding.company_name == "Acme" and branding.logo_type == "image/png"
    assert "--brand: #004d80;" in Client().get("/brand.css").text


@pytest.mark.django_db
def test_email_branding_gives_an_absolute_logo_address():
    save_branding(branding=Branding(company_name="Acme", colour="#004d80"), logo=PNG)
    branding = email_branding("https://cx.example.com/")
    assert branding["company_name"] == "Acme" and branding["colour"] == "#004d80"
    assert branding["logo_url"].startswith("https://cx.example.com/brand/logo?v=")
