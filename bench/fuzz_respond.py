"""Bad input on the respondent page: random, hostile form posts against a running server.

Loads the public page of --survey for one store once (for the CSRF cookie and token), then
posts --requests forms whose fields hold random mixes of valid answers, out-of-range numbers,
wrong types, repeated fields, unknown question codes, very long text, NUL and other control
characters, lone surrogates as UTF-8 escapes and unicode. Prints the status codes seen, and
checks in the database (DATABASE_URL, as the server) that exactly the posts answered with the
redirect to the thank-you page stored a response, none of the others did, and that the server
never answered 500.

    .venv/bin/python bench/fuzz_respond.py --url http://127.0.0.1:8000 --requests 2000
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxsurvey.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from surveys.models import Response, Survey  # noqa: E402

NASTY = [
    "",
    " ",
    "-1",
    "11",
    "9.5",
    "1e309",
    "nan",
    "0x10",
    "９",
    "<script>alert(1)</script>",
    '=HYPERLINK("x")',
    "\x00",
    "a\x00b",
    "\x1b[2J",
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    "é" * 6000,
    "yes",
    "no",
    "\u202e",
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def random_form(rng: random.Random, fields: dict[str, list[str]]) -> list[tuple[str, str]]:
    pairs = []
    valid_share = rng.choice((0.3, 0.9, 1.0))  # from hostile to all valid
    for name, valid in fields.items():
        for _ in range(rng.choice((0, 1, 1, 1, 1, 1, 2))):  # missing, once, or repeated
            nasty = rng.random() >= valid_share
            pairs.append((name, rng.choice(NASTY) if nasty else rng.choice(valid)))
    if rng.random() < 0.2:
        pairs.append((f"q_{rng.choice(['unknown', 'nps_x', '__proto__'])}", "1"))
    if rng.random() < 0.1:
        pairs.append(("unit", rng.choice(["nw-store-02", "nope", "\x00"])))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--survey", default="northwind-customers")
    parser.add_argument("--unit", default="nw-store-01")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()

    survey = Survey.objects.get(slug=options.survey)
    fields = {}  # field name → valid values
    for question in survey.questions.prefetch_related("choices"):
        low, high = question.bounds()
        if question.is_choice:
            valid = [choice.value for choice in question.choices.all()]
        elif low is not None and high is not None:
            valid = [str(point) for point in range(int(low), int(high) + 1)]
        else:
            valid = ["Friendly staff", "Long queue at the till", "ok"]
        fields[f"q_{question.code}"] = valid
    page = f"{options.url.rstrip('/')}/s/{survey.slug}/?u={options.unit}"
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), NoRedirect)
    html = opener.open(page).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    watermark = Response.objects.order_by("-id").values_list("id", flat=True).first() or 0

    rng = random.Random(options.seed)
    statuses: Counter[int] = Counter()
    for _ in range(options.requests):
        pairs = [("csrfmiddlewaretoken", token), *random_form(rng, fields)]
        body = urllib.parse.urlencode(pairs).encode()
        request = urllib.request.Request(page, data=body, headers={"Referer": page})
        try:
            with opener.open(request) as reply:
                statuses[reply.status] += 1
        except urllib.error.HTTPError as error:
            statuses[error.code] += 1

    stored = Response.objects.filter(survey=survey, id__gt=watermark).count()
    print(f"{options.requests:,} hostile posts to {page}")
    print("status codes:", dict(sorted(statuses.items())), "(302 = thank-you page)")
    print(f"responses stored: {stored:,}; redirects to thanks: {statuses.get(302, 0):,}")
    healthy = stored == statuses.get(302, 0) and statuses.get(500, 0) == 0
    print("stored == thanked and no 500:", healthy)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
