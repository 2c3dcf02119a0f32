"""`azak demo`'s plan (what it materializes) and its steps (how)."""
