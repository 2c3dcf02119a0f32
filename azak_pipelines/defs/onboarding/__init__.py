"""Onboarding a stock that joins the watch-list: one run fills its history, links and first report."""
