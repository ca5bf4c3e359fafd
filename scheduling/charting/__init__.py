"""Charting: a session step by step (check-in, vitals, dose, observation, discharge), the REMS form, outcomes.

``services`` holds the workflow's writes; ``observation``, ``rems`` and ``outcomes`` what each step needs.
"""
