"""Template filters for the leader pages: `{{ reading|value_text }}` and friends (see
`linkage.presentation`)."""

from django import template

from .. import presentation

register = template.Library()

for _name in (
    "value_text",
    "hidden_text",
    "ci_text",
    "change_text",
    "change_sentence",
    "expectation_sentence",
    "flag_texts",
    "baseline_text",
    "target_text",
    "latest_text",
    "segment_text",
    "funnel_text",
    "link_evidence",
):
    register.filter(_name, getattr(presentation, _name))
