"""Page-number pagination with a client-chosen page size, capped so a huge page cannot load the database."""

from __future__ import annotations

from django.core.paginator import Page
from django.db.models import Count, QuerySet, Window
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class ClinicPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


class CountedWithThePage(ClinicPagination):
    """The same pages and answers, with the count read by the page's own statement (``count(*) OVER ()``).

    DRF counts the matches, then reads the page: two passes over every match.
    For a search by part of a name the matches grow with the clinic network
    (a few hundred of 60,000 patients for "lee"), so the second pass is what
    grew. Here one statement reads the page and the total beside each row.
    The count is then missing only when the page is empty: page 1 of no
    matches (0), or a page past the end (404, as DRF answers it). Querysets
    whose rows are not one per match (DISTINCT, GROUP BY) or not instances
    (``values()``), and the ``last`` page, take DRF's way.
    """

    TOTAL = "page_total_rows"
    LARGEST_OFFSET = 2**62

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param) or 1
        if (not isinstance(queryset, QuerySet) or queryset.query.distinct or queryset.query.group_by is not None
                or queryset._fields is not None or raw in self.last_page_strings):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        try:
            number = int(raw)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="Not a page number."))
        offset = (number - 1) * page_size
        if offset > self.LARGEST_OFFSET:  # past the end of any table, and past what an OFFSET may hold
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="That page contains no results."))
        rows = list(queryset.annotate(**{self.TOTAL: Window(Count("*"))})[offset:offset + page_size])
        if not rows and number > 1:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="That page contains no results."))
        paginator = self.django_paginator_class([], page_size)
        paginator.count = getattr(rows[0], self.TOTAL) if rows else 0  # a cached property: set, not counted
        self.page = Page(rows, number, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return rows
