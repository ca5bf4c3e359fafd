"""The course's page: its plan and history, and the actions on it (pause, resume, discontinue, ...)."""

urlpatterns: list = []
