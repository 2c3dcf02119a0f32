"""Scoring predictions against what happened: per prediction, per model, and paired A/B (pure)."""
