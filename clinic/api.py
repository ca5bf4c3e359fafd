"""API endpoints that belong to no one app: the token login."""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic.errors import ClinicError
from clinic.roles import roles_of


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token.

    Throttled per client, and the account is locked out after repeated
    failures (the same counter as the web login), so a password cannot be
    guessed through the API.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField(),
                                                            "roles": serializers.ListField()})},
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


class _NoRole(ClinicError):
    status = 403
    code = "no_role"

    def __init__(self):
        super().__init__("This account has no clinic role; ask a manager to assign one.")
