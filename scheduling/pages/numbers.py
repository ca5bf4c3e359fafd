"""The manager's dashboard of the clinic's numbers (`/manage/numbers/`)."""

from __future__ import annotations

urlpatterns: list = []
