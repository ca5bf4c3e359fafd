from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import two_factor, views
from clinic.api import ObtainTokenView

# The admin signs in through the clinic's login, so the authenticator code and the lockout apply there too.
admin.site.login = two_factor.admin_login

handler400 = "clinic.errors.handler400"
handler404 = "clinic.errors.handler404"
handler500 = "clinic.errors.handler500"

api_patterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("patients.api.urls")),
    path("", include("protocols.api.urls")),
    path("", include("scheduling.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", two_factor.LoginView.as_view(), name="login"),
    path("login/code/", two_factor.login_code, name="login-otp"),
    path("logout/", two_factor.exempt(auth_views.LogoutView.as_view()), name="logout"),
    path("account/two-factor/", two_factor.setup, name="two-factor"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    # The FHIR R4 face of the schedule: its own conventions (FHIR JSON, OperationOutcome), same tokens and roles.
    path("fhir/", include("scheduling.fhir.urls")),
    # Before patients.urls: the patient page (courses, sessions) is scheduling's, at /patients/<id>/.
    path("", include("scheduling.pages.urls")),
    path("patients/", include("patients.urls")),
    path("", include("scheduling.urls")),
]
