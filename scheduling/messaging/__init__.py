"""Messaging: texts sent exactly once (``jobs``), reminders, due-visit outreach, replies, delivery reports.

Services here claim and send; the tasks in ``scheduling.tasks`` publish what they claimed.
"""
