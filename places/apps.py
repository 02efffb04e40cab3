from django.apps import AppConfig


class PlacesConfig(AppConfig):
    """The city's gazetteer: address points and street names, searched and reverse
    geocoded in the database, with an optional external geocoder."""

    name = "places"
    verbose_name = "Places (gazetteer)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Reports locate an Open311 address_id or address_string through these; the
        # registry lives in reports, which may import places, not the other way round.
        from places.locate import locate_address_id, locate_address_text
        from reports.locators import register_address_resolver, register_address_string_resolver

        register_address_resolver(locate_address_id)
        register_address_string_resolver(locate_address_text)
