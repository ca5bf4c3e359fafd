"""Controlled-substance stock pages: lots, counts, discrepancies and the registers."""

from __future__ import annotations

urlpatterns: list = []
