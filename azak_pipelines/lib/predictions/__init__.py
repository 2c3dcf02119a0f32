"""Predictions and reports: output schemas, providers, the offline baseline, point-in-time context,
prompts, the response cache and the budget. No Dagster imports."""
