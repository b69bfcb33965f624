"""The leaderboard: run records -> aggregated tables (and, later, plots and pages)."""
