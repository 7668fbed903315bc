"""Open comments: themes, sentiment, themes × scores statistics and masking of personal data."""
