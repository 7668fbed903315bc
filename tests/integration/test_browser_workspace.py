"""The workspace in a real browser: each role's home after login, the leader's four clicks
from the headline to one customer's pathway, a styled refusal, a hidden employee group, the
linkage review at phone width, and an axe-core audit (no serious or critical violations) of
every page, and the leader dashboard's and scorecard's trend charts (canvas, table fallback,
tooltip) at phone and desktop width. Screenshots are kept under test-artifacts/browser/."""

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from linkage.models import Barometer, BarometerProposal
from linkage.services.runs import compute_linkage_run, start_linkage_run
from surveys.models import Answer, Metric, OrgUnit, Question, Response
from surveys.services.scores import recompute_all
from tests.conftest import skip_or_fail
from tests.factories import (
    LeaderFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
    UserFactory,
    add_answers,
)
from tests.linkage.test_admin_linkage_review import panel  # noqa: F401 (fixture)

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright
except ImportError:  # a minimal install runs without browser tests
    sync_playwright = None

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "a-long-test-password"
WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        skip_or_fail("playwright or axe-playwright-python is not installed")
    if not CHROMIUM.exists():
        skip_or_fail(f"chromium not found at {CHROMIUM}")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see test_browser_respond.py
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser):
    contexts = []

    def opened(width: int = 1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield opened
    for context in contexts:
        context.close()


def _user(username: str, factory=UserFactory, **fields):
    user = factory(username=username, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def company(db):
    """Acme → North (N1, N2), South (S1, S2); customer NPS with comments and customer ids;
    an employee pulse where N1 has too few answers; a barometer; the demo-like roles."""
    acme = OrgUnitFactory(code="acme", name="Acme", level=OrgUnit.Level.COMPANY)
    regions = {
        name: OrgUnitFactory(code=name.lower(), name=name, level=OrgUnit.Level.REGION, parent=acme)
        for name in ("North", "South")
    }
    stores = {
        code: OrgUnitFactory(code=code, name=code.upper(), parent=regions[region])
        for code, region in (("n1", "North"), ("n2", "North"), ("s1", "South"), ("s2", "South"))
    }
    survey = SurveyFactory(title="Store visit")
    nps = QuestionFactory(survey=survey, order=1, metric_key="customer.nps")
    why = QuestionFactory(survey=survey, order=2, type=Question.Type.TEXT, text="Why?")
    for index, (code, store) in enumerate(stores.items()):
        for month in ("2026-01", "2026-02", "2026-03"):
            for person in range(12):
                response = Response.objects.create(
                    survey=survey, unit=store, period=month,
                    respondent_key=f"C-{index}-{person}",
                    submitted_at=timezone.now().replace(month=int(month[-1])),
                )  # fmt: skip
                Answer.objects.create(response=response, question=nps, number=(person + index) % 11)
                if person % 3 == 0:
                    Answer.objects.create(
                        response=response, question=why, text=f"Visit {month} at {code}"
                    )
    pulse = SurveyFactory(employee=True, title="Pulse")
    enps = QuestionFactory(survey=pulse, metric_key="employee.enps", type=Question.Type.NPS)
    for code, numbers in (("n1", [9, 9, 2]), ("n2", [9, 8, 7, 6, 10, 10]), ("s1", [9] * 6)):
        add_answers(enps, stores[code], numbers, period="2026-03")
    add_answers(enps, stores["s2"], [5, 6, 7, 8, 9, 10], period="2026-03")
    recompute_all()
    leader = _user("leader", LeaderFactory, first_name="Lena", last_name="Leader")
    manager = _user("manager")
    manager.managed_units.add(stores["n1"])
    _user("admin", is_staff=True, is_superuser=True)
    proposal = BarometerProposal.objects.create(
        metric=Metric.objects.get(key="customer.nps"), rationale="Loyalty", proposed_by=leader,
        status="agreed",
    )  # fmt: skip
    Barometer.objects.create(metric=proposal.metric, proposal=proposal, started_at=timezone.now())
    return {"acme": acme, "stores": stores}


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/workspace/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _check(page, name: str) -> None:
    """Screenshot, no horizontal page overflow and no serious/critical axe violations."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} scrolls sideways at {width}px ({overflow}px)"
    results = Axe().run(page)
    bad = [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name} at {width}px: {bad}"


@pytest.mark.parametrize("width", WIDTHS)
def test_browser_each_role_lands_on_its_home(open_page, live_server, company, width):
    homes = {
        "leader": "/workspace/units/acme/",
        "manager": "/workspace/units/n1/",
        "admin": "/workspace/choose/",
    }
    for username, home in homes.items():
        page = open_page(width)
        _login(page, live_server.url, username)
        assert page.url == f"{live_server.url}{home}", username
        assert page.locator("[data-role=user]").inner_text() in (username, "Lena Leader")
        assert page.locator(".shell-logout button").is_visible()
        _check(page, f"home-{username}")


@pytest.mark.parametrize("width", WIDTHS)
def test_browser_leader_reaches_one_customer_in_four_clicks(open_page, live_server, company, width):
    page = open_page(width)
    _login(page, live_server.url, "leader")
    assert "the barometer" in page.locator("[data-role=barometer]").inner_text().lower()
    page.wait_for_function("document.querySelector('canvas[data-chart]').width > 0")
    _check(page, "company")
    page.click("[data-role=child-link] >> text=North")  # 1
    _check(page, "region")
    page.click("[data-role=child-link] >> text=N1")  # 2
    page.click("[data-role=responses-link]")  # 3
    _check(page, "responses")
    page.locator("[data-role=response-link]").first.click()  # 4
    pathway = page.locator("[data-role=pathway]")
    assert "This customer's pathway" in pathway.inner_text()
    assert re.search(r"/workspace/responses/\d+/$", page.url)
    _check(page, "pathway")


def test_browser_manager_refused_another_store_with_styled_page(open_page, live_server, company):
    page = open_page(390)
    _login(page, live_server.url, "manager")
    answer = page.goto(f"{live_server.url}/workspace/units/s1/")
    assert answer is not None and answer.status == 403
    assert "You cannot open this page" in page.locator("[data-role=refusal]").inner_text()
    _check(page, "refused")
    page.click("[data-role=refusal] >> text=Go to your home page")
    assert page.url.endswith("/workspace/units/n1/")


def test_browser_hidden_employee_group_reads_not_enough_responses(open_page, live_server, company):
    page = open_page(1280)
    _login(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/workspace/units/north/")
    row = page.locator("table.league tr", has=page.locator("text=N1"))
    assert "not enough responses" in row.inner_text()
    assert "n = 3" not in page.content()
    _check(page, "hidden-group")


@pytest.fixture
def linkage_run(panel, company):  # noqa: F811
    run = start_linkage_run(created_by=None, max_lag=1)
    compute_linkage_run(run.pk)  # in this process: the test needs no worker for the page
    run.refresh_from_db()
    return run


def test_browser_linkage_review_fits_a_phone(open_page, live_server, linkage_run):
    for width in WIDTHS:
        page = open_page(width)
        _login(page, live_server.url, "leader")
        page.goto(f"{live_server.url}/workspace/linkage/")
        assert "Linkage review" in page.locator("h1").inner_text()
        html = page.content()
        assert len(html.encode()) < 150_000
        page.locator("table.pairs a").first.click()
        page.wait_for_function("document.querySelector('canvas[data-scatter]').width > 0")
        _check(page, "linkage")


def _charts_drawn(page) -> int:
    """Every trend chart drawn by Chart.js, each with its table fallback; returns how many."""
    page.wait_for_function(
        "[...document.querySelectorAll('canvas[data-chart]')].every(c => c.width > 0)"
    )
    charts = page.locator("figure.trend")
    count = charts.count()
    assert count > 0
    for index in range(count):
        figure = charts.nth(index)
        assert figure.locator("canvas[data-chart]").count() == 1
        fallback = figure.locator("details.table-fallback table")
        assert fallback.locator("thead th").all_text_contents() == [
            "Month", "Value", "95 % interval", "n"
        ]  # fmt: skip
        assert 1 <= fallback.locator("tbody tr").count() <= 12
    return count


def _tooltip(page, canvas_selector: str) -> list[str]:
    """Hover the last drawn month of a chart; the tooltip's lines (value, n, interval)."""
    canvas = page.locator(canvas_selector).first
    canvas.scroll_into_view_if_needed()
    point = canvas.evaluate(
        """canvas => {
            const chart = Chart.getChart(canvas);
            const points = chart.getDatasetMeta(2).data.filter(p => !p.skip);
            const last = points[points.length - 1];
            return {x: last.x, y: last.y};
        }"""
    )
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_function(
        "canvas => Chart.getChart(canvas).tooltip.opacity > 0", arg=canvas.element_handle()
    )
    return canvas.evaluate(
        """canvas => Chart.getChart(canvas).tooltip.body.flatMap(
            item => [...item.lines, ...item.after])"""
    )


def _no_overlap(page, selector: str) -> None:
    """No two of the blocks matched inside each card overlap, and none leaves the viewport."""
    clashes = page.evaluate(
        """([selector, width]) => {
            const found = [];
            for (const card of document.querySelectorAll(selector)) {
                const boxes = [...card.children].map(el => el.getBoundingClientRect())
                    .filter(b => b.width && b.height);
                boxes.forEach((a, i) => {
                    if (a.right > width + 0.5) found.push(card.dataset.metric + ' leaves the page');
                    boxes.slice(i + 1).forEach(b => {
                        const apart = a.right <= b.left + 0.5 || b.right <= a.left + 0.5
                            || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5;
                        if (!apart) found.push(card.dataset.metric + ' overlaps');
                    });
                });
            }
            return found;
        }""",
        [selector, page.viewport_size["width"]],
    )
    assert clashes == []


@pytest.mark.parametrize("width", WIDTHS)
def test_browser_dashboard_trends_are_charts_with_tables(open_page, live_server, company, width):
    page = open_page(width)
    _login(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/dashboard/")
    assert "Customer NPS" in page.locator("[data-role=barometer]").inner_text()
    assert page.locator("svg.spark, polyline").count() == 0
    assert _charts_drawn(page) >= 2
    lines = _tooltip(page, "[data-role=barometer] canvas[data-chart]")
    assert any(re.match(r"Customer NPS: [+−-]?\d+ \(n = \d+\)$", line) for line in lines), lines
    assert any(line.startswith("95 % interval ") for line in lines), lines
    _no_overlap(page, "[data-role=diagnostics] article, [data-role=barometer]")
    _check(page, "dashboard")


@pytest.mark.parametrize("width", WIDTHS)
def test_browser_scorecard_trends_fit_beside_every_column(open_page, live_server, company, width):
    page = open_page(width)
    _login(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/dashboard/units/north/scorecard/")
    assert _charts_drawn(page) >= 1
    _no_overlap(page, "table.cards > tbody > tr")
    # Every column, "Driven by" included, is on screen (a card per measure on a phone).
    cut = page.evaluate(
        """width => [...document.querySelectorAll('table.cards > tbody > tr > *')]
            .filter(cell => cell.getBoundingClientRect().right > width + 0.5).length""",
        width,
    )
    assert cut == 0
    _check(page, "scorecard")
