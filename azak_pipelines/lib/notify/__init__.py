"""Telegram notifications: message templates, the outbox, the sender and the bot (no Dagster)."""
