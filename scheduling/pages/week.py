"""The week at a glance: days by chairs for a site, days by sites for all of them."""

urlpatterns: list = []
