"""The clinic's numbers: chair use, attendance, REMS timeliness, outcomes, courses and texts, computed in SQL."""
