from django.apps import AppConfig


class FloorplansConfig(AppConfig):
    name = "floorplans"
