"""A soak under chaos (issue 25 item 5): many reminders due at once, workers, beats, a broker and a provider
that fail on a seeded schedule, and a report from the provider stand-in's own log.

    python -m tests.soak                      # 10,000 reminders due within 2 minutes (make soak)
    SOAK_REMINDERS=500 python -m tests.soak   # the small one CI runs as a test (tests/soak/test_small_soak.py)

docs/RELIABILITY.md "Soak" has what it does, what it reports and the last run's figures.
"""
