"""Pure generator of the "Northwind Retail" demo data (numpy and the stdlib, no database).

A service-profit chain is built in: each store has a stable employee-satisfaction level plus
an AR(1) month-to-month change; customer satisfaction in month t+1 rises with employee
satisfaction in month t, plus the store's own slow drift (an AR(1) with small innovations,
not independent monthly noise, so company scores move month to month by about their
sampling error); retention in month t rises with customer satisfaction in month t; revenue
rises with retention; every step adds noise. Each (store, month) draws from its own
seeded stream, so a month's data is the same whatever range of stores and months is asked
for, which is what makes re-seeding idempotent.
"""

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any

import numpy as np

from comments.analysis import comment_about
from surveys import periods

COMPANY = ("northwind", "Northwind Retail")
REGIONS = (("nw-north", "North"), ("nw-central", "Central"), ("nw-south", "South"))
TOWNS = (
    "Aberdeen", "Inverness", "Dundee", "Perth", "Stirling", "Newcastle", "Durham", "Carlisle",
    "York", "Leeds", "Harrogate", "Lancaster", "Preston", "Lincoln", "Chester", "Derby",
    "Nottingham", "Leicester", "Coventry", "Worcester", "Hereford", "Oxford", "Cambridge",
    "Norwich", "Ipswich", "Bedford", "Reading", "Guildford", "Brighton", "Canterbury",
    "Dover", "Exeter", "Plymouth", "Truro", "Bath", "Bristol", "Salisbury", "Winchester",
    "Southampton", "Bournemouth", "Taunton", "Gloucester", "Swindon", "Maidstone", "Hastings",
)  # fmt: skip
PRODUCTS = (("X", 0.5, 0.0), ("Y", 0.3, 0.1), ("Z", 0.2, -0.35))  # name, share, CX effect
CHANNELS = (("store", 0.6), ("online", 0.3), ("phone", 0.1))

# Latent paths start at EPOCH and run HORIZON months, whatever range is seeded.
EPOCH = "2020-01"
HORIZON = 240
# Chain parameters on a standardised latent scale (calibrated so that a 40-store, 12-month
# demo shows a store-level lag-1 EX(t)→CX(t+1) correlation of about 0.5 after sampling).
EMPLOYEE_LEVEL_SD = 0.55  # stable differences between stores
EMPLOYEE_AR = 0.6  # month-to-month persistence of a store's change
EMPLOYEE_CHANGE_SD = 0.45  # stationary SD of the AR(1) change
CUSTOMER_LEVEL_SD = 0.25
EMPLOYEE_TO_CUSTOMER = 0.5  # effect of EX in month t on CX in month t+1
CUSTOMER_AR = 0.8  # a store's own customer-experience drift: slow
CUSTOMER_CHANGE_SD = 0.12  # stationary SD of that drift
RETENTION_BASE, RETENTION_PER_CX, RETENTION_NOISE = 78.0, 4.0, 2.0  # percent
REVENUE_PER_RETENTION_POINT = 0.015  # relative revenue change per retention point
ACTIVE_CUSTOMER_SPEND = 60.0  # a store's monthly revenue per active customer (retention's base)
EMPLOYEE_RESPONSE_RATE = 0.85
# The demo's one initiative with a real effect: delivery tracking texts for Product X in the
# first region cut those customers' delivery complaints (log-odds) from the month it ships.
TRACKING_REGION, TRACKING_PRODUCT, TRACKING_EFFECT = 0, "X", -3.5
# −log-odds of a delivery complaint at an average store (one customer in four), so the
# tracking texts' effect (to about 1 %) stands out of a 12-store demo's sampling error: the
# difference in differences verifies in 96 % of its 6-month windows (was 57 % at 9 %).
COMPLAINT_LOG_ODDS = 1.1

# Stream ids keep the random draws of different purposes independent.
STORE_STREAM, LATENT_STREAM, CUSTOMER_STREAM, EMPLOYEE_STREAM = 1, 2, 3, 4
DEFAULT_SEED = 20240601

# Open comments per score group: topics (of `comments.analysis.topic_names("customer")`),
# their weights, and the share of negative comments.
EMPLOYEE_COMMENT_TOPICS: dict[str, tuple[tuple[str, ...], tuple[float, ...], float]] = {
    "low": (("workload", "pay", "tools", "manager support"), (0.4, 0.3, 0.2, 0.1), 0.9),
    "middle": (("workload", "pay", "tools", "manager support"), (0.3, 0.3, 0.2, 0.2), 0.5),
    "high": (("manager support", "tools", "workload", "pay"), (0.6, 0.2, 0.1, 0.1), 0.1),
}
CUSTOMER_COMMENT_TOPICS: dict[str, tuple[tuple[str, ...], tuple[float, ...], float]] = {
    "low": (
        ("checkout queues", "product quality", "prices", "app problems", "friendly staff"),
        (0.35, 0.25, 0.2, 0.15, 0.05),
        0.95,
    ),
    "middle": (
        ("prices", "checkout queues", "friendly staff", "product quality"),
        (0.35, 0.25, 0.25, 0.15),
        0.5,
    ),
    "high": (
        ("friendly staff", "product quality", "prices", "checkout queues"),
        (0.6, 0.2, 0.1, 0.1),
        0.05,
    ),
}
COMMENT_TOPICS = {"customer": CUSTOMER_COMMENT_TOPICS, "employee": EMPLOYEE_COMMENT_TOPICS}


@dataclass(frozen=True)
class Store:
    number: int
    code: str
    name: str
    region: int
    employees: int
    revenue_base: float


@dataclass(frozen=True)
class LatentPaths:
    """One store's latent monthly values, indexed by months since EPOCH."""

    employee: np.ndarray
    customer: np.ndarray
    retention: np.ndarray
    revenue: np.ndarray


@dataclass
class StoreMonth:
    """Everything generated for one store in one month (no database objects)."""

    store: Store
    period: str
    customers: list[dict[str, Any]] = field(default_factory=list)
    employees: list[dict[str, Any]] = field(default_factory=list)
    retention: float = 0.0
    revenue: float = 0.0


def plan_stores(count: int, seed: int = DEFAULT_SEED) -> list[Store]:
    """Stores 1..count spread over the regions; two of them with only 3–4 employees so
    that the anonymity threshold visibly hides their employee results."""
    small = {count // 3 + 1, 2 * count // 3 + 1}
    stores = []
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number, STORE_STREAM])
        staff = int(rng.integers(3, 5) if number in small else rng.integers(8, 16))
        town = TOWNS[(number - 1) % len(TOWNS)]
        suffix = f" {(number - 1) // len(TOWNS) + 1}" if number > len(TOWNS) else ""
        stores.append(
            Store(
                number=number,
                code=f"nw-store-{number:02d}",
                name=f"Northwind {town}{suffix}",
                region=(number - 1) * len(REGIONS) // count,
                employees=staff,
                revenue_base=float(rng.lognormal(math.log(180_000), 0.3)),
            )
        )
    return stores


def latent_paths(store: Store, seed: int = DEFAULT_SEED) -> LatentPaths:
    """The store's chain from EPOCH for HORIZON months: EX → next month's CX → retention →
    revenue. Drawn once per store, so a month's values never depend on the seeded range."""
    rng = np.random.default_rng([seed, store.number, LATENT_STREAM])
    change = _ar1(rng, EMPLOYEE_AR, EMPLOYEE_CHANGE_SD, HORIZON)
    employee = rng.normal(0.0, EMPLOYEE_LEVEL_SD) + change
    previous = np.concatenate(([employee[0]], employee[:-1]))  # EX one month earlier
    customer = (
        rng.normal(0.0, CUSTOMER_LEVEL_SD)
        + EMPLOYEE_TO_CUSTOMER * previous
        + _ar1(rng, CUSTOMER_AR, CUSTOMER_CHANGE_SD, HORIZON)
    )
    retention = np.clip(
        RETENTION_BASE + RETENTION_PER_CX * customer + rng.normal(0, RETENTION_NOISE, HORIZON),
        40.0,
        99.0,
    )
    season = 1 + 0.08 * np.cos(2 * np.pi * (np.arange(HORIZON) - 11) / 12)  # December peak
    growth = 1 + REVENUE_PER_RETENTION_POINT * (retention - RETENTION_BASE)
    noise = rng.normal(1.0, 0.03, HORIZON)
    return LatentPaths(employee, customer, retention, store.revenue_base * season * growth * noise)


def _ar1(rng: np.random.Generator, persistence: float, sd: float, length: int) -> np.ndarray:
    """A stationary AR(1) path: x_t = φ·x_{t−1} + ε_t, stationary SD `sd`."""
    shocks = rng.normal(0.0, sd * math.sqrt(1 - persistence**2), length)
    path = np.empty(length)
    path[0] = rng.normal(0.0, sd)  # start in the stationary distribution
    for month in range(1, length):
        path[month] = persistence * path[month - 1] + shocks[month]
    return path


def month_index(period: str) -> int:
    """Months since EPOCH; raises ValueError outside the generated horizon."""
    offset = periods.index_of(period) - periods.index_of(EPOCH)
    if not 0 <= offset < HORIZON:
        last = periods.shift(EPOCH, HORIZON - 1)
        raise ValueError(f"The demo covers {EPOCH} to {last}; {period} is outside it.")
    return offset


def demo_periods(months: int, last: str) -> list[str]:
    """`months` consecutive month labels ending with `last`."""
    return periods.period_range(periods.shift(last, 1 - months), last)


def simulate(
    *,
    stores: list[Store],
    period_labels: list[str],
    customers_per_store: int,
    seed: int = DEFAULT_SEED,
    tracking_from: str | None = None,
) -> Iterator[StoreMonth]:
    """Generated answers and outcomes for every store and month, store by store.

    From month `tracking_from` on, Product X customers of the first region's stores complain
    less about delivery (the demo initiative that verification should find)."""
    for store in stores:
        paths = latent_paths(store, seed)
        for period in period_labels:
            index = month_index(period)
            yield StoreMonth(
                store=store,
                period=period,
                customers=customer_answers(
                    store,
                    index,
                    paths.customer[index],
                    customers_per_store,
                    seed,
                    tracking=_tracking(store, period, tracking_from),
                ),
                employees=employee_answers(store, index, paths.employee[index], seed),
                retention=round(float(paths.retention[index]), 2),
                revenue=round(float(paths.revenue[index]), 2),
            )


def _tracking(store: Store, period: str, tracking_from: str | None) -> bool:
    if tracking_from is None or store.region != TRACKING_REGION:
        return False
    return periods.index_of(period) >= periods.index_of(tracking_from)


def _ordinal(latent: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """1-based category of each latent value between ascending cut points."""
    return np.searchsorted(np.asarray(cuts), latent) + 1


def customer_answers(
    store: Store, index: int, level: float, per_store: int, seed: int, *, tracking: bool = False
) -> list[dict[str, Any]]:
    """This month's customer responses: answers, segment, customer id, moment in month.

    `tracking`: delivery tracking texts reach this store's Product X customers."""
    rng = np.random.default_rng([seed, store.number, index, CUSTOMER_STREAM])
    count = int(rng.poisson(per_store))
    products = rng.choice(len(PRODUCTS), count, p=[share for _, share, _ in PRODUCTS])
    channels = rng.choice(len(CHANNELS), count, p=[share for _, share in CHANNELS])
    tracked = tracking & (products == 0)  # PRODUCTS[0] is Product X
    shift = np.where(tracked, TRACKING_EFFECT, 0.0)
    complaint = rng.random(count) < 1 / (1 + np.exp(COMPLAINT_LOG_ODDS + 0.6 * level - shift))
    effect = np.array([PRODUCTS[product][2] for product in products])
    person = level + effect - 1.0 * complaint + rng.normal(0.0, 1.0, count)
    nps = np.clip(np.rint(8.3 + 1.7 * person), 0, 10)
    csat = _ordinal(0.8 * person + rng.normal(0, 0.6, count), (-2.3, -1.7, -0.95, 0.35))
    ces = np.clip(np.rint(5.3 + 1.2 * (0.7 * person + rng.normal(0, 0.7, count))), 1, 7)
    goal = rng.random(count) < 1 / (1 + np.exp(-(1.4 + 1.2 * person)))
    pool = max(4 * per_store, count)  # repeat customers give pathways across months
    customer_ids = rng.choice(pool, count, replace=False)
    moments = np.sort(rng.random(count))
    # Customers with a delivery problem explain their score more often (about 39 % comment).
    commented = rng.random(count) < np.where(complaint, 0.7, 0.29)
    return [
        {
            "answers": {
                "nps": int(nps[i]),
                "nps_reason": _reason(rng, nps[i], complaint[i]) if commented[i] else "",
                "csat_overall": int(csat[i]),
                "ces": int(ces[i]),
                "goal_reached": "yes" if goal[i] else "no",
                "delivery_complaint": "yes" if complaint[i] else "no",
            },
            "segment": {"product": PRODUCTS[products[i]][0], "channel": CHANNELS[channels[i]][0]},
            "respondent_key": f"{store.code}-c{customer_ids[i]:04d}",
            "moment": float(moments[i]),
        }
        for i in range(count)
    ]


def _reason(
    rng: np.random.Generator, score: float, complaint: bool, audience: str = "customer"
) -> str:
    """A comment tied to the same drivers as the score: a delivery complaint talks about the
    delivery; otherwise detractors mostly complain and promoters mostly praise, each with its
    own mix of topics (COMMENT_TOPICS), so the demo's themes separate the two groups."""
    if complaint:
        return comment_about("delivery delays", negative=True, rng=rng)
    group = "low" if score <= 6 else "high" if score >= 9 else "middle"
    topics, weights, negative_share = COMMENT_TOPICS[audience][group]
    topic = topics[int(rng.choice(len(topics), p=weights))]
    negative = bool(rng.random() < negative_share)
    return comment_about(topic, negative=negative, rng=rng, audience=audience)


def employee_answers(store: Store, index: int, level: float, seed: int) -> list[dict[str, Any]]:
    """This month's anonymous pulse answers from the store's employees who responded."""
    rng = np.random.default_rng([seed, store.number, index, EMPLOYEE_STREAM])
    count = int(rng.binomial(store.employees, EMPLOYEE_RESPONSE_RATE))
    person = level + rng.normal(0.0, 1.0, count)
    enps = np.clip(np.rint(7.4 + 1.9 * person), 0, 10)
    agreement = (-2.0, -1.2, -0.35, 0.9)
    satisfaction = _ordinal(0.85 * person + rng.normal(0, 0.5, count), agreement)
    stay = _ordinal(0.7 * person + rng.normal(0, 0.7, count) - 0.1, agreement)
    enablement = _ordinal(0.6 * person + rng.normal(0, 0.8, count), agreement)
    moments = np.sort(rng.random(count))
    said = rng.random(count) < 0.6
    return [
        {
            "answers": {
                "enps": int(enps[i]),
                "job_satisfaction": int(satisfaction[i]),
                "intent_to_stay": int(stay[i]),
                "enablement": int(enablement[i]),
                "enps_reason": _reason(rng, enps[i], False, "employee") if said[i] else "",
            },
            "moment": float(moments[i]),
        }
        for i in range(count)
    ]


def moment_in(period: str, fraction: float, now: datetime, zone: tzinfo) -> datetime:
    """The aware datetime `fraction` of the way through the month, never after `now`."""
    start = datetime.combine(periods.start_date(period), time.min, tzinfo=zone)
    end = min(datetime.combine(periods.end_date(period), time.min, tzinfo=zone), now)
    return start + (end - start) * fraction


def outcome_csv(store_months: list[StoreMonth]) -> str:
    """Revenue and retention of the given store-months as an outcome-import CSV.

    Retention is a rate over the store's active customers (its denominator, from revenue at
    ACTIVE_CUSTOMER_SPEND each), so a region's retention weighs big stores more; revenue is a
    sum and takes no denominator.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["unit_code", "period", "metric_key", "value", "denominator"])
    for item in store_months:
        code, period = item.store.code, item.period
        writer.writerow([code, period, "outcome.revenue", f"{item.revenue:.2f}", ""])
        customers = max(1, round(item.revenue / ACTIVE_CUSTOMER_SPEND))
        retention = f"{item.retention:.2f}"
        writer.writerow([code, period, "outcome.retention_rate", retention, customers])
    return buffer.getvalue()
