from django.apps import AppConfig


class InfusionConfig(AppConfig):
    name = "infusion"
