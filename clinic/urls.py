from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clinic import views
from clinic.api import ObtainTokenView

handler404 = "clinic.errors.handler404"
handler500 = "clinic.errors.handler500"

api_patterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("patients.api.urls")),
    path("", include("protocols.api.urls")),
    path("", include("scheduling.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    # Before patients.urls: the patient page (courses, sessions) is scheduling's, at /patients/<id>/.
    path("", include("scheduling.pages.urls")),
    path("patients/", include("patients.urls")),
    path("", include("scheduling.urls")),
]
