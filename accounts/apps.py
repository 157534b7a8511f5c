from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(**_: Any) -> None:
    from accounts.services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        # permissions exist only after migrate (post_migrate creates them); keep role groups in step
        post_migrate.connect(_sync_roles_after_migrate, sender=self, dispatch_uid="accounts.roles_sync")
