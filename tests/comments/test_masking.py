"""Masking of e-mail addresses, phone numbers and card/account numbers (comments.analysis)."""

import pytest

from comments.analysis import (
    CARD,
    EMAIL,
    PHONE,
    find_personal_data,
    iban_valid,
    luhn_valid,
    mask_personal_data,
)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Mail me at anna.berg@example.com please", f"Mail me at {EMAIL} please"),
        ("j.doe+shop@mail.example.org.", f"{EMAIL}."),
        ("Contact: ÉLODIE_92@exemple.fr", f"Contact: {EMAIL}"),
        ("two: a@b.io, c-d@e-f.co.uk", f"two: {EMAIL}, {EMAIL}"),
    ],
)
def test_mask_personal_data_masks_email_addresses(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+442079460958",
        "+1-202-555-0147",
        "+1 (202) 555-0147",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "1 800 555 0100",
        "0176 1234 5678",
        "01761234567",
        "020 7946 0958",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+49 (0)30 1234567",
        "0049 30 12345678",
        "030/1234567",
        "5551234567",
    ],
)
def test_mask_personal_data_masks_phone_numbers(phone: str) -> None:
    assert mask_personal_data(f"Call me back on {phone} tomorrow") == (
        f"Call me back on {PHONE} tomorrow"
    )
    assert mask_personal_data(f"{phone}, thanks") == f"{PHONE}, thanks"


@pytest.mark.parametrize(
    "text", ["call me on 555-1234", "my mobile: 12 34 56", "Phone 7654321 after six"]
)
def test_mask_personal_data_masks_short_numbers_after_a_phone_word(text: str) -> None:
    assert PHONE in mask_personal_data(text)
    assert not any(character.isdigit() for character in mask_personal_data(text))


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5500 0000 0000 0004",
        "3782 822463 10005",  # American Express, 15 digits
        "6011000990139424",
        "4222222222222",  # 13 digits
    ],
)
def test_mask_personal_data_masks_luhn_valid_card_numbers(card: str) -> None:
    assert luhn_valid(card.replace(" ", "").replace("-", ""))
    assert mask_personal_data(f"I paid with {card} twice") == f"I paid with {CARD} twice"


@pytest.mark.parametrize(
    "account",
    [
        "4111 1111 1111 1112",  # a card number with a typo: fails Luhn, still personal
        "12345678901234",
        "123456789012",
        "DE89 3704 0044 0532 0130 00",  # IBAN with a valid mod-97 check
        "GB82WEST12345698765432",
    ],
)
def test_mask_personal_data_masks_long_account_like_numbers(account: str) -> None:
    assert mask_personal_data(f"account {account} please refund") == (
        f"account {CARD} please refund"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Delivered on 12/03/2024 at 10:30",
        "2024-03-12 10:30",
        "from 12.03.2024-15.03.2024",
        "12.03.24",
        "It costs $1,299.99 now",
        "€ 45,00 for a shirt",
        "1 299 kr",
        "1.299.000 euro",
        "order #12345",
        "ticket #1234567890",
        "order 123456",
        "reference 12345-678",
        "in 2023 and 2024",
        "between 2019 and 2024 (5 years)",
        "from 14:45-15:30",
        "2-3 days",
        "3 out of 10",
        "I rated 10/10",
        "Open 24/7",
        "v2.3.1",
        "a 9-5 job",
        "2 x 500 g",
        "100-1000 people",
        "20 minutes",
        "my phone broke after 2 weeks",
        "called them 3 times",
        "SKU AB1234567890123",
    ],
)
def test_mask_personal_data_keeps_dates_prices_times_and_order_numbers(text: str) -> None:
    assert mask_personal_data(text) == text


def test_mask_personal_data_keeps_a_card_number_after_hash_masked() -> None:
    assert mask_personal_data("ticket #4111111111111111") == f"ticket {CARD}"


def test_mask_personal_data_masks_several_kinds_in_one_comment() -> None:
    text = "Late again! Email tom_k@example.org or call +44 20 7946 0958, card 4111111111111111."
    assert mask_personal_data(text) == f"Late again! Email {EMAIL} or call {PHONE}, card {CARD}."


def test_find_personal_data_returns_ordered_spans() -> None:
    text = "x a@b.io y 0176 1234 5678"
    spans = find_personal_data(text)
    assert [(text[span.start : span.end], span.placeholder) for span in spans] == [
        ("a@b.io", EMAIL),
        ("0176 1234 5678", PHONE),
    ]


def test_mask_personal_data_leaves_text_without_personal_data_unchanged() -> None:
    assert mask_personal_data("") == ""
    assert mask_personal_data("Friendly staff, slow checkout.") == "Friendly staff, slow checkout."


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("79927398713", True), ("79927398710", False), ("4111111111111111", True),
     ("1234567812345678", False), ("12a4", False)],
)  # fmt: skip
def test_luhn_valid_matches_the_published_example(digits: str, valid: bool) -> None:
    # 79927398713 is the common worked example of the Luhn check (check digit 3).
    assert luhn_valid(digits) is valid


def test_iban_valid_checks_mod_97() -> None:
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_valid("DE88 3704 0044 0532 0130 00")
    assert not iban_valid("DE89")
