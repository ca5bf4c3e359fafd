from rest_framework.routers import SimpleRouter

from protocols.api.views import CourseViewSet, ProtocolViewSet

router = SimpleRouter()
router.register("protocols", ProtocolViewSet, basename="protocol")
router.register("courses", CourseViewSet, basename="course")
urlpatterns = router.urls
