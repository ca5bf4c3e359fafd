"""Controlled-substance stock through the API (`/api/stock/...`)."""

from __future__ import annotations

urlpatterns: list = []
