"""Controlled-substance stock through the API (`/api/stock/...`): lots, the ledger, receipts, waste, counts.

Clinicians and managers read; managers receive, adjust and explain; clinicians
waste (dispensing is the chart's dose step); both count. Front desk sees none
of it. Refusals by a stock rule are 409 with the rule's code (docs/STOCK.md).
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from clinic.errors import Invalid
from clinic.roles import CLINICIAN, MANAGER, has_role, roles_may
from scheduling.api.stock_serializers import (
    AdjustmentSerializer,
    CountResultSerializer,
    CountSerializer,
    DiscrepancyQuerySerializer,
    DiscrepancySerializer,
    ExplainSerializer,
    LedgerEntrySerializer,
    LedgerRowSerializer,
    LogQuerySerializer,
    LotQuerySerializer,
    LotSerializer,
    ProductSerializer,
    ReceiptSerializer,
    WasteSerializer,
)
from scheduling.models import Discrepancy, LedgerEntry, Lot, Product
from scheduling.stock import selectors, services

READERS = (CLINICIAN, MANAGER)
STOCK_READ = roles_may(read=READERS, write=())


class AppendOnly:
    """A method the ledger never takes (PUT, PATCH, DELETE: nothing is edited or deleted) is a 405 for its staff.

    DRF checks the role before the method, so without this a manager's PUT on
    a read-only endpoint was a 403, as if another role might edit the ledger.
    The front desk, who sees none of the stock, keeps its 403.
    """

    def check_permissions(self, request):
        if request.method.upper() not in self._allowed_methods() and has_role(request.user, *READERS):
            raise exceptions.MethodNotAllowed(request.method)
        super().check_permissions(request)


def _query(serializer_class, request) -> dict:
    # A plain dict, not the QueryDict: a boolean left out is "not filtered", not an unticked box (False).
    query = serializer_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data


def _payload(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def confirmed_witness(request, *, witness, password: str):
    """The witness, once the stock's witness rules pass and their own password is right (400 when it is not).

    The rules come first so a colleague who could never witness is not asked
    for a password; a wrong password counts towards that account's lockout
    like a failed sign-in, so this cannot be used to guess one.
    """
    services.check_witness(by=request.user, witness=witness)
    confirmed = authenticate(getattr(request, "_request", request), username=witness.get_username(),
                             password=password)
    if confirmed is None or confirmed.pk != witness.pk:
        raise Invalid("The witness's password is not right.", code="witness_not_confirmed",
                      fields={"witness_password": ["Not right: the witness types their own password."]})
    return confirmed


def _entry_reply(entry: LedgerEntry) -> Response:
    entry = LedgerEntry.objects.select_related("lot__product", "patient", "by", "witness").get(pk=entry.pk)
    return Response(LedgerEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class ProductViewSet(AppendOnly, viewsets.ReadOnlyModelViewSet):
    """What is stocked: the esketamine 28 mg device and ketamine vials by strength."""

    serializer_class = ProductSerializer
    permission_classes = [STOCK_READ]
    queryset = Product.objects.order_by("kind", "strength_mg", "id")
    filterset_fields = ["kind", "active"]


class LotViewSet(AppendOnly, viewsets.ReadOnlyModelViewSet):
    """Lots per location with their balance (the sum of the ledger); ``ledger/`` is a lot's running balance."""

    serializer_class = LotSerializer
    permission_classes = [STOCK_READ]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lot.objects.none()
        if self.action != "list":
            return selectors.balances()
        data = _query(LotQuerySerializer, self.request)
        return selectors.lots(location_id=data.get("location"), product_id=data.get("product"),
                              expired=data.get("expired"), in_stock=data.get("in_stock"))

    @extend_schema(parameters=[
        OpenApiParameter("location", int), OpenApiParameter("product", int),
        OpenApiParameter("expired", bool, description="Past expiry at the lot's location today (or not)."),
        OpenApiParameter("in_stock", bool, description="A balance above 0 (or not)."),
    ])
    def list(self, request, *args, **kwargs):
        """Lots, soonest expiry first, each with its balance."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=LedgerRowSerializer(many=True), parameters=[])
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        """The lot's entries oldest first, each with the balance after it (a running sum in SQL)."""
        lot = self.get_object()
        entries = selectors.ledger_with_balance(lot).select_related("lot__product")
        page = self.paginate_queryset(entries)
        rows = LedgerRowSerializer(page if page is not None else entries, many=True).data
        return self.get_paginated_response(rows) if page is not None else Response(rows)


class ReceiptView(AppendOnly, APIView):
    """A manager records stock received: a lot at a location (new, or adding to the same lot number)."""

    permission_classes = [roles_may(read=(), write=(MANAGER,))]

    @extend_schema(request=ReceiptSerializer, responses={201: LedgerEntrySerializer})
    def post(self, request):
        data = _payload(ReceiptSerializer, request)
        location, product = data["location"], data["product"]
        if data.get("vials"):
            quantity = data["vials"] * product.strength_mg
        else:
            quantity = data.get("quantity") or services.devices_in_kits(data["kits"], data["kit_size"])
        entry = services.receive(by=request.user, location=location, product=product,
                                 lot_number=data["lot_number"], expiry=data["expiry"], quantity=quantity,
                                 supplier=data["supplier"], invoice_number=data["invoice_number"],
                                 received_on=data.get("received_on") or location.local_date(timezone.now()))
        return _entry_reply(entry)


class WasteView(AppendOnly, APIView):
    """A clinician records stock destroyed or unused, confirmed by a witness's own password."""

    permission_classes = [roles_may(read=(), write=(CLINICIAN,))]

    @extend_schema(request=WasteSerializer, responses={201: LedgerEntrySerializer})
    def post(self, request):
        data = _payload(WasteSerializer, request)
        witness = confirmed_witness(request, witness=data["witness"], password=data["witness_password"])
        entry = services.waste(by=request.user, witness=witness, lot=data["lot"], quantity=data["quantity"],
                               reason=data["reason"], session=data.get("session"))
        return _entry_reply(entry)


class AdjustmentView(AppendOnly, APIView):
    """A manager's witnessed correction of a lot's balance, as a new entry (no entry is ever edited)."""

    permission_classes = [roles_may(read=(), write=(MANAGER,))]

    @extend_schema(request=AdjustmentSerializer, responses={201: LedgerEntrySerializer})
    def post(self, request):
        data = _payload(AdjustmentSerializer, request)
        witness = confirmed_witness(request, witness=data["witness"], password=data["witness_password"])
        entry = services.adjust(by=request.user, witness=witness, lot=data["lot"], quantity=data["quantity"],
                                reason=data["reason"], corrects=data.get("corrects"))
        return _entry_reply(entry)


class CountView(AppendOnly, APIView):
    """A physical count of a lot; a count that differs from the balance opens a discrepancy for a manager."""

    permission_classes = [roles_may(read=(), write=READERS)]

    @extend_schema(request=CountSerializer, responses={201: CountResultSerializer})
    def post(self, request):
        data = _payload(CountSerializer, request)
        entry, discrepancy = services.count(by=request.user, lot=data["lot"],
                                            counted_quantity=data["counted_quantity"])
        entry = LedgerEntry.objects.select_related("lot__product", "by").get(pk=entry.pk)
        body = {"entry": LedgerEntrySerializer(entry).data,
                "discrepancy": DiscrepancySerializer(discrepancy).data if discrepancy else None}
        return Response(body, status=status.HTTP_201_CREATED)


class DiscrepancyViewSet(AppendOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Counts that differed from the balance; a manager explains each one (a loss: the DEA Form 106 note)."""

    serializer_class = DiscrepancySerializer
    permission_classes = [roles_may(read=READERS, write=(MANAGER,))]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Discrepancy.objects.none()
        if self.action != "list":
            return selectors.discrepancies()
        data = _query(DiscrepancyQuerySerializer, self.request)
        return selectors.discrepancies(location_id=data.get("location"), lot_id=data.get("lot"),
                                       is_open=data.get("open"))

    @extend_schema(parameters=[
        OpenApiParameter("location", int), OpenApiParameter("lot", int),
        OpenApiParameter("open", bool, description="Not yet explained (or explained)."),
    ])
    def list(self, request, *args, **kwargs):
        """Discrepancies, newest first."""
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ExplainSerializer, responses=DiscrepancySerializer)
    @action(detail=True, methods=["post"])
    def explain(self, request, pk=None):
        """Explain the difference (a loss needs the DEA Form 106 note); closes its worklist item."""
        data = _payload(ExplainSerializer, request)
        explained = services.explain(by=request.user, discrepancy=self.get_object(),
                                     explanation=data["explanation"],
                                     loss_reported_dea106=data["loss_reported_dea106"],
                                     dea106_note=data["dea106_note"])
        return Response(DiscrepancySerializer(selectors.discrepancies().get(pk=explained.pk)).data)


class DispensingLogView(AppendOnly, generics.ListAPIView):
    """Stock dispensed at sessions and wasted: date, patient, session, lot, quantity, by whom, witness."""

    serializer_class = LedgerEntrySerializer
    permission_classes = [STOCK_READ]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.objects.none()
        data = _query(LogQuerySerializer, self.request)
        return selectors.dispensing_log(selectors.LogFilters(
            location_id=data.get("location"), product_id=data.get("product"), lot_id=data.get("lot"),
            date_from=data.get("date_from"), date_to=data.get("date_to"), kind=data.get("kind")))

    @extend_schema(parameters=[
        OpenApiParameter("location", int), OpenApiParameter("product", int), OpenApiParameter("lot", int),
        OpenApiParameter("date_from", str, description="A local date (YYYY-MM-DD), inclusive."),
        OpenApiParameter("date_to", str, description="A local date (YYYY-MM-DD), inclusive."),
        OpenApiParameter("kind", str, enum=["dispense", "waste"]),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


router = SimpleRouter()
router.register("stock/products", ProductViewSet, basename="stock-product")
router.register("stock/lots", LotViewSet, basename="stock-lot")
router.register("stock/discrepancies", DiscrepancyViewSet, basename="stock-discrepancy")

urlpatterns = [
    path("stock/receipts/", ReceiptView.as_view(), name="stock-receipts"),
    path("stock/waste/", WasteView.as_view(), name="stock-waste"),
    path("stock/adjustments/", AdjustmentView.as_view(), name="stock-adjustments"),
    path("stock/counts/", CountView.as_view(), name="stock-counts"),
    path("stock/dispensing-log/", DispensingLogView.as_view(), name="stock-dispensing-log"),
    *router.urls,
]
