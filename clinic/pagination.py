"""Page-number pagination with a client-chosen page size, capped so a huge page cannot load the database."""

from rest_framework.pagination import PageNumberPagination


class ClinicPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
