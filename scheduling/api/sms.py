"""The SMS provider's webhooks: patients' replies and delivery reports.

No user signs in here: the provider proves who it is with ``X-Twilio-Signature``,
checked with the twilio package's own validator against ``TWILIO_AUTH_TOKEN``.
A request that fails the check is refused with 403 before anything is read or
recorded. Both endpoints answer 200 with empty TwiML, so the provider neither
retries nor sends a reply of its own.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from clinic import sms
from clinic.errors import NotAllowed
from scheduling.messaging import delivery, inbound

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

SIGNATURE_HEADER = OpenApiParameter(
    "X-Twilio-Signature", str, OpenApiParameter.HEADER, required=True,
    description="The provider's HMAC of the full URL and the form parameters, made with the account's auth token.",
)
TWIML_RESPONSES = {
    (200, "text/xml"): OpenApiResponse(OpenApiTypes.STR, description="Empty TwiML: no automatic reply."),
    403: OpenApiResponse(description="`bad_signature`: the signature is missing or does not match."),
    400: OpenApiResponse(description="A required parameter is missing."),
}


class InboundTextSerializer(serializers.Serializer):
    From = serializers.CharField(max_length=40)
    To = serializers.CharField(max_length=40)
    Body = serializers.CharField(max_length=1600, allow_blank=True, trim_whitespace=False)
    MessageSid = serializers.CharField(max_length=64)


class DeliveryStatusSerializer(serializers.Serializer):
    MessageSid = serializers.CharField(max_length=64)
    MessageStatus = serializers.CharField(max_length=20)
    ErrorCode = serializers.CharField(max_length=10, required=False, allow_blank=True)


class _ProviderWebhook(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    def verified_params(self, request, serializer_class):
        """The form parameters, once the signature over them and the URL checks out (403 otherwise)."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not sms.signature_is_valid(request.build_absolute_uri(), request.POST.dict(), signature):
            raise NotAllowed("The request's signature does not match.", code="bad_signature")
        payload = serializer_class(data=request.POST)
        payload.is_valid(raise_exception=True)
        return payload.validated_data


class InboundTextView(_ProviderWebhook):
    """A patient's text: C / YES confirm, R asks for a new time, STOP words opt out, START, HELP, anything else
    goes to the worklist. Idempotent on ``MessageSid``."""

    @extend_schema(request={"application/x-www-form-urlencoded": InboundTextSerializer},
                   parameters=[SIGNATURE_HEADER], responses=TWIML_RESPONSES, auth=[])
    def post(self, request):
        params = self.verified_params(request, InboundTextSerializer)
        inbound.handle_inbound(from_phone=params["From"], to_phone=params["To"], body=params["Body"],
                               provider_id=params["MessageSid"])
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


class DeliveryStatusView(_ProviderWebhook):
    """The provider's delivery report for a text we sent (queued, sent, delivered, undelivered, failed)."""

    @extend_schema(request={"application/x-www-form-urlencoded": DeliveryStatusSerializer},
                   parameters=[SIGNATURE_HEADER], responses=TWIML_RESPONSES, auth=[])
    def post(self, request):
        params = self.verified_params(request, DeliveryStatusSerializer)
        delivery.record_delivery_status(provider_id=params["MessageSid"], status=params["MessageStatus"],
                                       error_code=params.get("ErrorCode", ""))
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")
