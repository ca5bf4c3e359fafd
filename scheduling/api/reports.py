"""The clinic's numbers as JSON (`/api/reports/...`): the whole dashboard, or one figure; managers only."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.errors import NotFound
from clinic.roles import MANAGER, roles_may
from scheduling.reports.asking import asked
from scheduling.reports.dashboard import FIGURE_KEYS, clinic_numbers, figure_numbers
from scheduling.reports.period import KINDS

PARAMETERS = [
    OpenApiParameter("period", str, enum=list(KINDS), description="Default month."),
    OpenApiParameter("anchor", OpenApiTypes.DATE, description="A day inside the week, month or quarter (default "
                                                               "today at the site)."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="Custom period: the first day."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Custom period: the last day (at most 366 days)."),
    OpenApiParameter("location", int, description="One site's id; all sites when left out."),
]


class DashboardView(APIView):
    """Every figure of the clinic's numbers for a period and a site, each beside the previous period's."""

    permission_classes = [roles_may(read=(MANAGER,))]

    @extend_schema(parameters=PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        question = asked(request.query_params)
        return Response(clinic_numbers(period=question.period, location_id=question.location_id))


class FigureView(APIView):
    """One figure of the clinic's numbers (``figure``: one of the dashboard's keys)."""

    permission_classes = [roles_may(read=(MANAGER,))]

    @extend_schema(parameters=[OpenApiParameter("figure", str, OpenApiParameter.PATH, enum=list(FIGURE_KEYS)),
                               *PARAMETERS], responses=OpenApiTypes.OBJECT)
    def get(self, request, figure: str):
        if figure not in FIGURE_KEYS:
            raise NotFound(f"There is no figure “{figure}”; the figures are {', '.join(FIGURE_KEYS)}.")
        question = asked(request.query_params)
        return Response({
            "period": question.period.as_dict(),
            "previous_period": question.period.previous().as_dict(),
            "location": {"id": question.location.pk, "name": question.location.name} if question.location else None,
            "figure": figure_numbers(figure, period=question.period, location_id=question.location_id),
        })


urlpatterns = [
    path("reports/dashboard/", DashboardView.as_view(), name="reports-dashboard"),
    path("reports/<str:figure>/", FigureView.as_view(), name="reports-figure"),
]
