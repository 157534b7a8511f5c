"""manage.py demo_logins: where the demo runs and who can log in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser

from accounts.demo import DEMO_LOGINS, DEMO_MACHINE
from accounts.services import token_for


class Command(BaseCommand):
    help = "Print the demo URL, the demo logins and the machine API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"hospital_iot demo: open {url}"))
        self.stdout.write(f"  API docs {url}api/docs/   admin {url}admin/")
        self.stdout.write(f"  {'user':<14}{'role':<22}password")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login['username']:<14}{login['label']:<22}{login['password']}")
        machine = User.objects.filter(username=DEMO_MACHINE["username"]).first()
        if machine is not None:
            self.stdout.write(f"  machine '{machine.username}': Authorization: Token {token_for(user=machine)}")
        self.stdout.write("")
