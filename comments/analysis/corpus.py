"""Seeded generator of plausible open comments with known topics, for tests, benchmarks and demos.

Each comment answers "What is the most important reason for your score?" and carries its true
topic, a 0-10 score drawn from that topic's polarity (delivery delays come mostly from
detractors, friendly staff from promoters), and its language. Phrasing varies through templates
with slot fillers, openers and closers, doubled sentences, negations, lower-casing and typos;
a few comments mention a second topic in passing, give an e-mail address or a phone number, say
nothing specific ("ok"), or are written in German, French, Spanish or Dutch.

The generator is synthetic: the figures measured on it (theme purity, speed) say that the
methods recover topics that are lexically distinct, not how well they do on real comments.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NO_TOPIC = "none"
_DRAWS_PER_COMMENT = 48

# Topic → (weight in the corpus, share of negative comments, negative templates, positive ones).
_CUSTOMER_TOPICS: dict[str, tuple[float, float, tuple[str, ...], tuple[str, ...]]] = {
    "delivery delays": (
        0.22,
        0.95,
        (
            "my {order} arrived {delay} late",
            "delivery took {days} instead of {promised}",
            "the {courier} kept postponing the delivery",
            "my {order} was supposed to come on {weekday} but only showed up {later}",
            "still waiting for my {order}, tracking has not updated in {days}",
            "shipping is way too slow",
            "late delivery again, {days} for a small {order}",
            "the {order} was delayed {times} and nobody told me why",
            "delivery was late and the {courier} never called",
        ),
        (
            "delivery was quick for once, the {order} came on time",
            "fast shipping, the {order} arrived {fast}",
        ),
    ),
    "friendly staff": (
        0.18,
        0.1,
        (
            "the staff were not friendly at all, nobody greeted me",
            "staff at the {place} were rude and unhelpful",
        ),
        (
            "the staff were {friendly} and {helpful}",
            "{name} at the {place} was so {friendly}, {praise}",
            "really {friendly} staff, they {helped}",
            "the cashier was {friendly} and smiled",
            "great service from the staff at the {place}",
            "staff could not have been {friendlier}",
            "{friendly} and {helpful} staff, {praise}",
        ),
    ),
    "prices": (
        0.15,
        0.8,
        (
            "prices are {too_high}",
            "the {item} costs {price} more than at {competitor}",
            "too expensive for what you get",
            "prices went up again and the {item} is now {price}",
            "the {item} was {price}, which is a rip off",
            "{competitor} is much cheaper, your prices are {too_high}",
        ),
        (
            "good value for money, prices are fair",
            "cheaper than {competitor} and the {item} was on offer",
        ),
    ),
    "product quality": (
        0.17,
        0.55,
        (
            "the {product} broke after {period}",
            "poor quality {product}, {defect}",
            "the {product} stopped working after {period}",
            "material feels cheap and {defect}",
            "quality has gone down, my {product} {defect}",
        ),
        (
            "excellent quality, the {product} feels solid",
            "the {product} is well made and still works perfectly after {period}",
            "great quality {product}, worth every penny",
            "quality is top notch, no complaints about the {product}",
        ),
    ),
    "checkout queues": (
        0.13,
        0.95,
        (
            "the queue at the checkout was {long}",
            "only {count} tills open and a {long} line",
            "waited {minutes} at the till to pay",
            "self checkout machines kept failing so the queues were huge",
            "long queues at the checkout, {minutes} just to pay",
            "not enough cashiers, the queue went round the {place}",
        ),
        ("no queue at the checkout for once, paid in a minute",),
    ),
    "app problems": (
        0.15,
        0.95,
        (
            "the app {crashes} when I {action}",
            "could not log in to the app, {symptom}",
            "the app keeps freezing at {step}",
            "app shows an error at {step}",
            "since the last update the app {crashes}",
            "your app is useless, {symptom}",
        ),
        ("the new app is easy to use and {action} works fine",),
    ),
}

_EMPLOYEE_TOPICS: dict[str, tuple[float, float, tuple[str, ...], tuple[str, ...]]] = {
    "workload": (
        0.3,
        0.95,
        (
            "too much work and not enough people",
            "constant overtime, {workload_detail}",
            "the workload is unmanageable since {event}",
            "we are understaffed and {workload_detail}",
            "deadlines are unrealistic and the workload keeps growing",
            "workload is far too high, {workload_detail}",
        ),
        ("workload is manageable and the team shares it fairly",),
    ),
    "manager support": (
        0.25,
        0.3,
        (
            "my manager never gives feedback or support",
            "no support from my team lead when things go wrong",
            "my manager does not listen to the team",
        ),
        (
            "my manager {supports}",
            "my team lead always {supports}",
            "I feel supported by my manager, {praise}",
            "great manager who {supports}",
        ),
    ),
    "pay": (
        0.25,
        0.85,
        (
            "salary is below market for this role",
            "no pay rise in {years}",
            "the bonus scheme is unfair and pay does not reflect the work",
            "pay is too low given the cost of living",
            "underpaid compared with {competitor}, no salary increase in {years}",
        ),
        ("pay is fair and the bonus was generous this year",),
    ),
    "tools": (
        0.2,
        0.9,
        (
            "my laptop is {slow} and the {system} keeps crashing",
            "the {system} is outdated and {slow}",
            "we lack proper tools, the {system} is a nightmare",
            "the VPN drops every hour and the {system} is {slow}",
            "old equipment, {slow} computers and a broken {system}",
        ),
        ("the new {system} works well and saves time",),
    ),
}

_FILLERS: dict[str, tuple[str, ...]] = {
    "order": ("order", "parcel", "package", "delivery"),
    "delay": ("two days", "a week", "three days", "ten days", "five days"),
    "days": ("5 days", "two weeks", "ten days", "a whole week", "8 days"),
    "promised": ("the promised 2 days", "next day delivery", "the 48 hours you advertise"),
    "courier": ("courier", "driver", "delivery company", "delivery service"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "later": ("a week later", "on Friday", "four days later", "the week after"),
    "times": ("twice", "three times", "again and again"),
    "fast": ("the next morning", "a day early", "within 24 hours"),
    "place": ("store", "shop", "counter", "branch", "front desk"),
    "name": ("Anna", "Tom", "the young man", "the lady", "Sam", "Maria"),
    "friendly": ("friendly", "kind", "welcoming", "nice", "lovely", "polite"),
    "friendlier": ("friendlier", "nicer", "more welcoming", "kinder"),
    "helpful": ("helpful", "attentive", "patient", "knowledgeable"),
    "praise": ("made my day", "went out of their way", "really appreciated it", "thank you"),
    "helped": ("helped me find everything", "answered all my questions", "carried my bags"),
    "too_high": ("too high", "ridiculous", "way too expensive", "higher than everywhere else"),
    "item": ("coffee", "milk", "jacket", "subscription", "shampoo", "bread"),
    "price": ("2 euros", "$5", "30%", "almost double", "£3"),
    "competitor": ("the shop next door", "the competition", "Lidl", "Amazon", "other stores"),
    "product": ("kettle", "blender", "jacket", "shoes", "vacuum cleaner", "headphones"),
    "period": ("two weeks", "a month", "three uses", "one week", "a few days"),
    "defect": (
        "the handle came off",
        "the seams came apart",
        "it leaks",
        "the zip broke",
        "it scratches easily",
    ),
    "long": ("very long", "ridiculously long", "huge", "endless", "way too long"),
    "count": ("two", "three", "2", "only one of the"),
    "minutes": ("20 minutes", "half an hour", "25 min", "15 minutes", "forever"),
    "crashes": ("crashes", "keeps crashing", "freezes", "closes itself", "logs me out"),
    "action": ("pay", "open my basket", "scan my card", "check my points", "log in"),
    "symptom": (
        "password reset never arrives",
        "it just spins",
        "error 500",
        "the screen stays blank",
    ),
    "step": ("payment", "the login screen", "checkout", "the basket", "the loyalty card page"),
    "workload_detail": (
        "I work most weekends",
        "nobody replaced the colleagues who left",
        "we cover two roles each",
        "no time for breaks",
    ),
    "event": ("the reorganisation", "the merger", "the new system", "last spring"),
    "supports": (
        "supports me and gives clear feedback",
        "listens and helps when things get hard",
        "backs the team and gives useful feedback",
        "coaches me and trusts me",
    ),
    "years": ("three years", "two years", "4 years", "ages"),
    "slow": ("slow", "very slow", "painfully slow", "unreliable"),
    "system": ("ticketing system", "CRM", "scheduling tool", "intranet", "HR system"),
}

_OPENERS = ("", "", "", "Honestly, ", "Well, ", "To be honest ", "I have to say ", "Overall ")
_NEGATIVE_CLOSERS = ("", "", ".", "!", ". Please fix this.", "!!", " :(", ". Very disappointed.")
_POSITIVE_CLOSERS = ("", "", ".", "!", ". Thanks!", " :)", ". Keep it up.")
_NOTHING_SPECIFIC = (
    "ok",
    "no comment",
    "all good",
    "nothing to add",
    "n/a",
    "fine",
    "everything ok",
    "-",
)
_EMAILS = ("anna.berg@example.com", "tom_k@mail.example.org", "j.doe+shop@example.net")
_PHONES = (
    "+44 20 7946 0958",
    "(555) 123-4567",
    "0176 1234 5678",
    "+1-202-555-0147",
    "06 12 34 56 78",
)

# Language → topic → comments (customer topics, then employee topics).
_OTHER_LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "delivery delays": ("Die Lieferung kam viel zu spät", "Paket kam eine Woche zu spät an"),
        "friendly staff": ("Das Personal war sehr freundlich und hilfsbereit",),
        "prices": ("Die Preise sind viel zu hoch",),
        "workload": ("Zu viel Arbeit, zu wenig Personal",),
        "pay": ("Das Gehalt ist zu niedrig",),
    },
    "fr": {
        "delivery delays": ("La livraison est arrivée avec une semaine de retard",),
        "friendly staff": ("Le personnel était très aimable",),
        "checkout queues": ("Trop d'attente à la caisse",),
        "manager support": ("Mon responsable m'aide beaucoup",),
    },
    "es": {
        "delivery delays": ("El pedido llegó muy tarde",),
        "app problems": ("La aplicación se cierra cuando intento pagar",),
        "tools": ("Los ordenadores son muy lentos",),
    },
    "nl": {
        "friendly staff": ("Het personeel was erg vriendelijk",),
        "product quality": ("De kwaliteit is slecht, na een week kapot",),
        "workload": ("Veel te veel werk en te weinig collega's",),
    },
}


@dataclass(frozen=True)
class GeneratedComments:
    """Generated comments with their true topic, a 0-10 score and a language code."""

    texts: tuple[str, ...]
    topics: tuple[str, ...]
    scores: npt.NDArray[np.int64]
    languages: tuple[str, ...]


class _Draws:
    """Hands out a comment's pre-drawn uniform numbers one at a time (cycles if exhausted)."""

    def __init__(self, values: npt.NDArray[np.float64]) -> None:
        self._values = values
        self._next = 0

    def uniform(self) -> float:
        """The next pre-drawn uniform number in [0, 1)."""
        value = float(self._values[self._next % self._values.size])
        self._next += 1
        return value

    def pick(self, options: Sequence[str]) -> str:
        """One of ``options``, chosen by the next uniform number."""
        return options[min(int(self.uniform() * len(options)), len(options) - 1)]


def topic_names(audience: str) -> tuple[str, ...]:
    """The known topics of an audience ("customer" or "employee"), in generator order."""
    return tuple(_topics(audience))


def _topics(audience: str) -> dict[str, tuple[float, float, tuple[str, ...], tuple[str, ...]]]:
    if audience == "customer":
        return _CUSTOMER_TOPICS
    if audience == "employee":
        return _EMPLOYEE_TOPICS
    raise ValueError(f"audience must be 'customer' or 'employee', not {audience!r}")


@functools.cache
def _topic_cumulative(audience: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Topic names and their cumulative corpus weights (normalised to end at 1)."""
    topics = _topics(audience)
    weights = np.array([spec[0] for spec in topics.values()])
    return tuple(topics), tuple(float(value) for value in np.cumsum(weights / weights.sum()))


def _fill(template: str, draws: _Draws) -> str:
    """Fill every {slot} of a template with a drawn filler."""
    slots = {}
    for slot in _FILLERS:
        if "{" + slot + "}" in template:
            slots[slot] = draws.pick(_FILLERS[slot])
    return template.format(**slots)


def _score(negative: bool, draws: _Draws) -> int:
    """A 0-10 score: negative comments mostly from detractors, positive mostly from promoters."""
    band = draws.uniform()
    if negative:
        low, high = (0, 6) if band < 0.8 else (7, 8) if band < 0.95 else (9, 10)
    else:
        low, high = (9, 10) if band < 0.75 else (7, 8) if band < 0.95 else (0, 6)
    return low + min(int(draws.uniform() * (high - low + 1)), high - low)


def _typos(text: str, draws: _Draws, rate: float) -> str:
    """Swap two neighbouring letters or drop one in some words of four letters or more."""
    words = text.split(" ")
    for index, word in enumerate(words):
        if len(word) < 4 or not word.isalpha() or draws.uniform() >= rate:
            continue
        position = 1 + int(draws.uniform() * (len(word) - 2))
        if draws.uniform() < 0.5:
            swapped = word[position + 1] + word[position]
            words[index] = word[:position] + swapped + word[position + 2 :]
        else:
            words[index] = word[:position] + word[position + 1 :]
    return " ".join(words)


def _personal_detail(draws: _Draws) -> str:
    """A sentence giving an e-mail address or a phone number."""
    if draws.uniform() < 0.5:
        return f" You can reach me at {draws.pick(_EMAILS)}"
    return f" Call me on {draws.pick(_PHONES)}"


def _english_comment(
    topics: dict[str, tuple[float, float, tuple[str, ...], tuple[str, ...]]],
    topic: str,
    draws: _Draws,
    typo_rate: float,
) -> tuple[str, int]:
    """One English comment on ``topic`` and its score."""
    _, negative_share, negative, positive = topics[topic]
    is_negative = draws.uniform() < negative_share
    templates = negative if is_negative else positive
    first = draws.pick(templates)
    body = _fill(first, draws)
    if draws.uniform() < 0.3 and len(templates) > 1:
        body += ", " + _fill(draws.pick([item for item in templates if item != first]), draws)
    if draws.uniform() < 0.08:
        other = draws.pick([name for name in topics if name != topic])
        body += ", also " + _fill(draws.pick(topics[other][2]), draws)
    closer = draws.pick(_NEGATIVE_CLOSERS if is_negative else _POSITIVE_CLOSERS)
    text = draws.pick(_OPENERS) + body + closer
    text = text[0].upper() + text[1:] if draws.uniform() < 0.8 else text.lower()
    return _typos(text, draws, typo_rate), _score(is_negative, draws)


def _foreign_comment(audience: str, draws: _Draws) -> tuple[str, str, str, int]:
    """A comment in another language: (text, topic, language, score)."""
    own = set(_topics(audience))
    choices = [
        (language, topic, text)
        for language, by_topic in _OTHER_LANGUAGES.items()
        for topic, texts in by_topic.items()
        if topic in own
        for text in texts
    ]
    language, topic, text = choices[min(int(draws.uniform() * len(choices)), len(choices) - 1)]
    negative = topic not in {"friendly staff", "manager support"}
    return text, topic, language, _score(negative, draws)


def _one_comment(
    audience: str, topic_draw: float, draws: _Draws, shares: tuple[float, float, float]
) -> tuple[str, str, str, int]:
    """One comment: (text, topic, language, score). ``shares``: foreign, nothing, personal."""
    topics = _topics(audience)
    foreign_share, nothing_share, personal_share = shares
    if topic_draw < foreign_share:
        return _foreign_comment(audience, draws)
    if topic_draw < foreign_share + nothing_share:
        return draws.pick(_NOTHING_SPECIFIC), NO_TOPIC, "en", 7 + int(draws.uniform() * 3.999)
    names, cumulative = _topic_cumulative(audience)
    topic = names[min(bisect.bisect_right(cumulative, draws.uniform()), len(names) - 1)]
    text, score = _english_comment(topics, topic, draws, typo_rate=0.04)
    if draws.uniform() < personal_share:
        text += _personal_detail(draws)
    return text, topic, "en", score


def generate_comments(
    n: int,
    *,
    rng: np.random.Generator,
    audience: str = "customer",
    foreign_share: float = 0.02,
    nothing_share: float = 0.03,
    personal_share: float = 0.03,
) -> GeneratedComments:
    """Generate ``n`` comments with known topics, scores (0-10) and languages.

    ``audience`` "customer" draws from six topics (delivery delays, friendly staff, prices,
    product quality, checkout queues, app problems), "employee" from four (workload, manager
    support, pay, tools). ``foreign_share`` of comments are German/French/Spanish/Dutch,
    ``nothing_share`` say nothing specific (topic ``NO_TOPIC``), and ``personal_share`` of the
    English ones end with an e-mail address or phone number. Deterministic for a given ``rng``
    state: all draws are made up front, ``_DRAWS_PER_COMMENT`` per comment.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    _topics(audience)
    topic_draws = rng.random(n)
    uniforms = rng.random((n, _DRAWS_PER_COMMENT))
    shares = (foreign_share, nothing_share, personal_share)
    rows = [
        _one_comment(audience, float(topic_draws[index]), _Draws(uniforms[index]), shares)
        for index in range(n)
    ]
    return GeneratedComments(
        texts=tuple(row[0] for row in rows),
        topics=tuple(row[1] for row in rows),
        scores=np.array([row[3] for row in rows], dtype=np.int64),
        languages=tuple(row[2] for row in rows),
    )


def comment_about(
    topic: str, *, negative: bool, rng: np.random.Generator, audience: str = "customer"
) -> str:
    """One English comment on a known ``topic`` with the given polarity (no typos, no personal
    data), for generators that choose the topic themselves, such as the demo's drivers."""
    topics = _topics(audience)
    if topic not in topics:
        raise ValueError(f"unknown topic {topic!r}; choose from {', '.join(topics)}")
    weight, _, negative_templates, positive_templates = topics[topic]
    polarity = dict(topics)  # other topics stay: a comment may mention one in passing
    polarity[topic] = (weight, 1.0 if negative else 0.0, negative_templates, positive_templates)
    text, _ = _english_comment(polarity, topic, _Draws(rng.random(_DRAWS_PER_COMMENT)), 0.0)
    return text


def theme_purity(assignments: Sequence[int], topics: Sequence[str], other: int = -1) -> float:
    """Purity of found themes against known topics (Manning, Raghavan & Schütze 2008, §16.3).

    For each found theme, the count of its comments whose true topic is the theme's most common
    topic; summed over themes and divided by the comments in themes (so weighted by size).
    Comments in ``other`` are left out: report their share separately. NaN if no theme.
    """
    by_theme: dict[int, dict[str, int]] = {}
    for theme, topic in zip(assignments, topics, strict=True):
        if theme != other:
            counts = by_theme.setdefault(int(theme), {})
            counts[topic] = counts.get(topic, 0) + 1
    total = sum(sum(counts.values()) for counts in by_theme.values())
    if total == 0:
        return float("nan")
    return sum(max(counts.values()) for counts in by_theme.values()) / total
