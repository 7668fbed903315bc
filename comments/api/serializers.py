"""Shapes of the comments API (validation of shape only; scope is the selectors' job)."""

from rest_framework import serializers

from surveys.periods import LABEL_PATTERN


class ThemeQuerySerializer(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1, help_text="Survey id.")
    unit = serializers.SlugField(max_length=40, help_text="Unit code; its subtree is read.")
    run = serializers.IntegerField(
        min_value=1, required=False, help_text="Theme run id; default: the latest finished."
    )
    first_period = serializers.RegexField(
        LABEL_PATTERN, required=False, help_text="Only comments from this period on."
    )
    last_period = serializers.RegexField(
        LABEL_PATTERN, required=False, help_text="Only comments up to this period."
    )


class CommentQuerySerializer(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1, help_text="Survey id.")
    unit = serializers.SlugField(max_length=40, help_text="Unit code; its subtree is read.")
    theme = serializers.IntegerField(min_value=1, required=False, help_text="Theme id.")
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=100000, default=0)


class TrendPointSerializer(serializers.Serializer):
    period = serializers.CharField()
    share = serializers.FloatField(allow_null=True, help_text="Percent; null when suppressed.")


class ThemeStatisticsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    auto_label = serializers.CharField(help_text="Label from the top terms (name: as renamed).")
    terms = serializers.ListField(child=serializers.CharField())
    comments = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="Percent of the unit's comments.")
    low_share = serializers.FloatField(allow_null=True, help_text="Percent of the low group's.")
    high_share = serializers.FloatField(allow_null=True, help_text="Percent of the high group's.")
    difference = serializers.FloatField(allow_null=True, help_text="Percentage points.")
    p_value = serializers.FloatField(allow_null=True)
    q_value = serializers.FloatField(allow_null=True, help_text="Benjamini-Hochberg.")
    sentence = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())
    trend = TrendPointSerializer(many=True)
    representatives = serializers.ListField(
        child=serializers.CharField(), help_text="Masked example comments."
    )


class UnitThemesSerializer(serializers.Serializer):
    survey = serializers.IntegerField()
    unit = serializers.CharField()
    run = serializers.IntegerField(allow_null=True)
    first_period = serializers.CharField(allow_null=True)
    last_period = serializers.CharField(allow_null=True)
    low_group = serializers.CharField()
    high_group = serializers.CharField()
    comments = serializers.IntegerField(help_text="Readable comments in the run.")
    themes = ThemeStatisticsSerializer(many=True)
    separating = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of up to three themes the low group raises significantly more (q < 0.05).",
    )


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="Personal data masked.")
    theme = serializers.CharField()
    sentiment = serializers.ChoiceField(choices=["positive", "neutral", "negative", "not_scored"])


class CommentPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = CommentSerializer(many=True)
