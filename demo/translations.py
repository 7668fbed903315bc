"""German texts of the demo's customer survey, so a German browser (or an invitation in
German) sees the survey in German, and its English intro and thank-you. Applied on every
seed, so an older demo gains them.
The per-language columns (`text_de` …) are added by django-modeltranslation at start-up,
hence getattr/setattr."""

from surveys.models import Choice, Question, Survey

# English intro and thank-you: without them an English page falls back to the German ones.
SURVEY_EN = {
    "intro_en": "Thank you for taking two minutes. Your answers help our store get better.",
    "thank_you_en": "Thank you for your answers! Your store sees what went well and what did not.",
}
SURVEY_DE = {
    "title_de": "Northwind Kundenumfrage",
    "intro_de": "Vielen Dank, dass Sie sich zwei Minuten Zeit nehmen. Ihre Antworten helfen "
    "unserer Filiale, besser zu werden.",
    "thank_you_de": "Vielen Dank für Ihre Antworten! Ihre Filiale sieht, was gut lief und was "
    "nicht.",
}
QUESTIONS_DE = {
    "nps": "Wie wahrscheinlich ist es, dass Sie {company} einem Freund oder Kollegen empfehlen?",
    "nps_reason": "Was ist der wichtigste Grund für Ihre Bewertung?",
    "csat_overall": "Wie zufrieden sind Sie insgesamt mit {company}?",
    "ces": "Northwind hat es mir leicht gemacht, zu bekommen, was ich brauchte.",
    "goal_reached": "Haben wir Ihnen geholfen, das zu erreichen, weswegen Sie gekommen sind?",
    "delivery_complaint": "Gab es ein Problem mit Ihrer Lieferung?",
}
CHOICES_DE = {"yes": "Ja", "no": "Nein"}
TEXT_DE, LABEL_DE = "text_de", "label_de"


def add_german_texts(survey: Survey, company: str) -> None:
    """German title, intro, thank-you, question texts and yes/no labels; German offered.
    Writes only what differs, so a second seed changes nothing."""
    wanted = {**SURVEY_EN, **SURVEY_DE, "languages": ["en", "de"]}
    changed = [field for field, value in wanted.items() if getattr(survey, field) != value]
    if changed:
        for field in changed:
            setattr(survey, field, wanted[field])
        survey.save(update_fields=[*changed, "updated_at"])
    questions = [
        question
        for question in survey.questions.filter(code__in=QUESTIONS_DE)
        if getattr(question, TEXT_DE, "") != QUESTIONS_DE[question.code].format(company=company)
    ]
    for question in questions:
        setattr(question, TEXT_DE, QUESTIONS_DE[question.code].format(company=company))
    Question.objects.bulk_update(questions, [TEXT_DE])
    choices = [
        choice
        for choice in Choice.objects.filter(question__survey=survey, value__in=CHOICES_DE)
        if getattr(choice, LABEL_DE, "") != CHOICES_DE[choice.value]
    ]
    for choice in choices:
        setattr(choice, LABEL_DE, CHOICES_DE[choice.value])
    Choice.objects.bulk_update(choices, [LABEL_DE])
