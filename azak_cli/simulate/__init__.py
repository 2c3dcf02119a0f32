"""`azak simulate`: the platform's own schedules, sensors and automation over a simulated clock."""
