"""The clinic's numbers as JSON (`/api/reports/...`)."""

from __future__ import annotations

urlpatterns: list = []
