"""Booking: sites and chairs, booking, moving and cancelling sessions, free slots, series, recorded history.

``services`` writes (each one transaction, conflicts as 409 codes); ``selectors`` and ``fast_reads`` read;
``rules`` is the pure arithmetic both the slot search and booking apply.
"""
