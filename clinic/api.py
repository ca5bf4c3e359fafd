"""API endpoints that belong to no one app: the token login."""

from __future__ import annotations

import logging

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic import two_factor
from clinic.errors import ClinicError
from clinic.roles import roles_of

logger = logging.getLogger(__name__)


class LoginThrottle(ScopedRateThrottle):
    """The per-address login throttle, which lets sign-ins through while its cache (Redis) is down.

    The throttle only slows guessing from one address; the account lockout
    (django-axes) counts failures in PostgreSQL and still applies. Failing
    closed would turn a Redis outage into nobody being able to sign in.
    """

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # redis.exceptions.ConnectionError and socket errors alike
            logger.warning("login throttle skipped, its cache is unavailable (%s)", type(exc).__name__)
            return True


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(max_length=10, required=False, allow_blank=True,
                                help_text="The six-digit code from the authenticator app; required for accounts "
                                          "with two-factor sign-in.")


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token.

    Throttled per client, and the account is locked out after repeated
    failures (the same counter as the web login), so a password cannot be
    guessed through the API. An account with two-factor sign-in must also
    send the authenticator's code as ``otp`` (a wrong one counts as a failure).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField(),
                                                            "roles": serializers.ListField()})},
        # 429: throttled per address, or the username is locked out (django-axes); see clinic/schema.py.
        extensions={"x-error-codes": [403, 429]},
    )
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            user = authenticate(request._request, **payload.validated_data)
        except AxesBackendPermissionDenied:
            user = None
        if getattr(request._request, "axes_locked_out", False):
            raise _LockedOut()
        if user is None:
            raise _BadCredentials()
        if not roles_of(user):
            raise _NoRole()
        device = two_factor.confirmed_device(user)
        if device is not None:
            code = payload.validated_data.get("otp", "")
            if not code:
                raise _OtpRequired()
            if not two_factor.check_code(request._request, user, device, code):
                if getattr(request._request, "axes_locked_out", False):
                    raise _LockedOut()
                raise _BadOtp()
        elif two_factor.required_for(user):
            raise _TwoFactorSetupRequired()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "roles": sorted(roles_of(user))})


class _LockedOut(ClinicError):
    status = 429
    code = "locked_out"

    def __init__(self):
        super().__init__("Too many failed sign-ins: this account is locked for a while. A manager can unlock it.")


class _BadCredentials(ClinicError):
    status = 400
    code = "invalid_credentials"

    def __init__(self):
        super().__init__("The username or password is not correct.")


class _OtpRequired(ClinicError):
    status = 400
    code = "otp_required"

    def __init__(self):
        super().__init__("This account uses two-factor sign-in: send the code from the authenticator app as otp.",
                         fields={"otp": ["Enter the six-digit code from your authenticator app."]})


class _BadOtp(ClinicError):
    status = 400
    code = "invalid_otp"

    def __init__(self):
        super().__init__("The authenticator code is not correct, or it was already used.",
                         fields={"otp": ["Wait for the next code and try again."]})


class _TwoFactorSetupRequired(ClinicError):
    status = 403
    code = "two_factor_setup_required"

    def __init__(self):
        super().__init__("Your role must use two-factor sign-in: set up your authenticator app on the web first.")


class _NoRole(ClinicError):
    status = 403
    code = "no_role"

    def __init__(self):
        super().__init__("This account has no clinic role; ask a manager to assign one.")
