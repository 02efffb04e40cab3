from django.apps import AppConfig


class PlacesConfig(AppConfig):
    """The city's gazetteer: address points and street names, searched and reverse
    geocoded in the database, with an optional external geocoder."""

    name = "places"
    verbose_name = "Places (gazetteer)"
    default_auto_field = "django.db.models.BigAutoField"
