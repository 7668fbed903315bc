"""Invitation tokens survive spreadsheet exports unchanged."""

from common.spreadsheet import neutralise
from surveys.models import new_token


def test_tokens_never_start_with_a_formula_prefix_so_exports_keep_them_verbatim():
    tokens = [new_token() for _ in range(5000)]

    assert all(neutralise(token) == token for token in tokens)
    assert len(set(tokens)) == len(tokens) and all(len(token) == 43 for token in tokens)
