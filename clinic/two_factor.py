"""Two-factor sign-in for staff: a six-digit code from an authenticator app (TOTP, django-otp).

Optional for everyone, required for the roles in ``TOTP_REQUIRED_ROLES``.
A user with a confirmed device signs in in two steps: the password (the
ordinary login form, so django-axes counts failures), then the code. The
session is only signed in after the code; until then it holds the pending
user's id for ``PENDING_MINUTES``. A wrong code counts as a failed sign-in
for the lockout, and django-otp makes each wrong code wait longer for the
next (1 s, 2 s, 4 s ...) and refuses a code used before.

The token API (``clinic.api.ObtainTokenView``) asks for the same code in an
``otp`` field, through ``check_code`` here.
"""

from __future__ import annotations

import time
from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model, logout, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.errors import lockout_response
from clinic.idle_sessions import is_background_poll
from clinic.roles import role_required, roles_of

PENDING_KEY = "clinic_2fa_pending"
# When this session last found its user without an authenticator (a Unix time).
NO_DEVICE_SEEN_KEY = "clinic_2fa_none_at"
# How often a session without one looks again, so a device added in another browser signs it out.
RECHECK_SECONDS = 60
PENDING_MINUTES = 5
DEVICE_NAME = "Authenticator app"


def confirmed_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def required_for(user) -> bool:
    """Whether the user's role must use two-factor sign-in (``TOTP_REQUIRED_ROLES``)."""
    return bool(roles_of(user) & set(settings.TOTP_REQUIRED_ROLES))


def check_code(request, user, device: TOTPDevice, code: str) -> bool:
    """Verify ``code`` against ``device``; a wrong code counts as a failed sign-in for the lockout.

    django-otp refuses a code already used (no replay) and, after a wrong
    one, any code until the throttle delay has passed.
    """
    code = (code or "").strip().replace(" ", "")
    if code.isdigit() and device.verify_token(code):
        return True
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    return False


def _locked_out(request, user) -> bool:
    return AxesProxyHandler.is_locked(request, credentials={"username": user.get_username()})


# --- sign-in -------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The password step; users with an authenticator go on to the code step before they are signed in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        device = confirmed_device(user)
        if device is None:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": int(time.time()),
                                             "next": self.get_success_url()}
        return redirect("login-otp")


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_MINUTES * 60:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_code(request):
    """The second step: the six-digit code from the authenticator app."""
    user, pending = _pending_user(request)
    if user is None:
        messages.error(request, "Sign in again: the code step waits only a few minutes.")
        return redirect("login")
    device = confirmed_device(user)
    if device is None:  # removed meanwhile by a manager: the password step alone decides
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    error = ""
    if request.method == "POST":
        if _locked_out(request, user):
            return lockout_response(request)
        if check_code(request, user, device, request.POST.get("code", "")):
            del request.session[PENDING_KEY]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            # The password step already checked ``next``; checked again, as it came back from the session.
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
                target = reverse(settings.LOGIN_REDIRECT_URL)
            return HttpResponseRedirect(target)
        error = "That code is not right, or it was already used. Wait for the next one and try again."
    return render(request, "registration/login_code.html", {"error": error}, status=400 if error else 200)


def admin_login(request, extra_context=None):
    """The admin signs in through the clinic's own login (password, then the code), never its own form.

    A signed-in user the admin turned away (not a manager) gets a 403, not a
    trip back to the login page, which would send them on to the admin again.
    """
    if request.user.is_authenticated:
        raise PermissionDenied("The configuration pages are for managers.")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


# --- setting it up ------------------------------------------------------------------------------------


def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4, title="Scan with your authenticator app")


def _setup_context(request, device: TOTPDevice | None, *, error: str = "") -> dict:
    context = {"confirmed": device is not None and device.confirmed, "required": required_for(request.user),
               "error": error}
    if device is not None and not device.confirmed:
        # The secret is shown while the device is unconfirmed, never after.
        context.update(qr_svg=_qr_svg(device), secret=b32encode(device.bin_key).decode(),
                       issuer=settings.OTP_TOTP_ISSUER, account=request.user.get_username())
    return context


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
@role_required()
def setup(request):
    """Turn two-factor sign-in on (scan, then confirm with a code) or off (with a code, unless required)."""
    user = request.user
    device = confirmed_device(user)
    if request.method == "GET":
        if device is None:
            # A fresh secret each time the page opens: one shown earlier and not confirmed is gone.
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        return render(request, "registration/two_factor.html", _setup_context(request, device))
    code = request.POST.get("code", "")
    if device is None:
        pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if pending is None:
            return redirect("two-factor")
        if not (code.strip().isdigit() and pending.verify_token(code.strip())):
            return render(request, "registration/two_factor.html",
                          _setup_context(request, pending, error="That code is not right: check the time on "
                                                                  "your phone and enter the current code."),
                          status=400)
        pending.confirmed = True
        pending.save(update_fields=["confirmed"])
        otp_login(request, pending)
        messages.success(request, "Two-factor sign-in is on: you will be asked for a code after your password.")
        return redirect("home")
    if required_for(user):
        return render(request, "registration/two_factor.html",
                      _setup_context(request, device, error="Your role must use two-factor sign-in."), status=403)
    if not check_code(request, user, device, code):
        return render(request, "registration/two_factor.html",
                      _setup_context(request, device, error="That code is not right."), status=400)
    TOTPDevice.objects.filter(user=user).delete()
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("two-factor")


def note_sign_in(sender, request, user, **kwargs) -> None:
    """On every sign-in (``user_logged_in``): note that a user without an authenticator has none.

    Connected in ``ClinicConfig.ready``; it spares each request the question
    until ``RECHECK_SECONDS`` have passed.
    """
    if request is not None and hasattr(request, "session") and confirmed_device(user) is None:
        request.session[NO_DEVICE_SEEN_KEY] = int(time.time())


# --- every request --------------------------------------------------------------------------------------


class TwoFactorMiddleware:
    """Web sessions of users with an authenticator must have passed the code step.

    A session that did not (signed in before the device was set up, from
    another browser) is signed out within ``RECHECK_SECONDS``. A user whose
    role requires two-factor and who has no device yet may only reach the
    set-up page until they add one. Placed after django-otp's OTPMiddleware,
    which knows whether the session passed the code step.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or BACKEND_SESSION_KEY not in request.session:
            return None  # anonymous, or an API token (checked when the token was issued)
        if user.is_verified():
            return None
        seen = request.session.get(NO_DEVICE_SEEN_KEY)
        now = int(time.time())
        # Look again now and then (not on the boards' polling, which must leave the session untouched).
        if (seen is None or now - seen > RECHECK_SECONDS) and not is_background_poll(request):
            if confirmed_device(user) is not None:
                logout(request)
                if request.path.startswith("/api/"):
                    return None  # now anonymous: the API answers 401
                return redirect("login")
            request.session[NO_DEVICE_SEEN_KEY] = now
        if not required_for(user) or getattr(view_func, "two_factor_exempt", False):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "two_factor_setup_required", "detail": _SETUP_REQUIRED, "fields": {}},
                                status=403)
        return redirect("two-factor")


_SETUP_REQUIRED = "Your role must use two-factor sign-in: set up your authenticator app first."


def exempt(view):
    """Mark a view reachable before a required authenticator is set up (sign-in, sign-out, the set-up page)."""
    view.two_factor_exempt = True
    return view


exempt(setup)
exempt(login_code)
