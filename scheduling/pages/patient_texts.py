"""Texting a patient from their page, under every rule a text obeys."""

urlpatterns: list = []
