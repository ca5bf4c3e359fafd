"""The day sheet: one site's or one clinician's day on paper, for the floor and the phone."""

urlpatterns: list = []
