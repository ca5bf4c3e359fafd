import os

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Apps whose configuration managers edit in the admin.
MANAGED_APPS = ("patients", "protocols", "scheduling", "auth", "authtoken", "axes")


def grant_manager_permissions(sender, **kwargs) -> None:
    """Give the manager role every admin permission of the clinic's apps.

    Permissions only exist after migrate has created them, so this runs on
    post_migrate rather than in the migration that creates the roles.
    """
    from django.contrib.auth.models import Group, Permission

    manager = Group.objects.filter(name="manager").first()
    if manager is not None:
        manager.permissions.add(*Permission.objects.filter(content_type__app_label__in=MANAGED_APPS))


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from django.conf import settings

        # No sender filter: this app has no models, so Django never sends
        # post_migrate with it as sender; the handler is idempotent.
        post_migrate.connect(grant_manager_permissions, dispatch_uid="clinic.grant_manager_permissions")
        # The filesystem broker (REDIS_URL unset) needs its folders before the first send.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "processed_folder"):
                os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)
