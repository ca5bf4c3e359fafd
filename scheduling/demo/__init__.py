"""The demo clinic that ``make run`` loads: users, patients, courses, sessions, charting, measures, texts."""
