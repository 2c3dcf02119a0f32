"""Telegram subscribers and the outbox, for admins."""
