"""The stock page in one call."""
