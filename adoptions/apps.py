from django.apps import AppConfig


class AdoptionsConfig(AppConfig):
    name = "adoptions"
    verbose_name = "Adoptions"

    def ready(self) -> None:
        """Tell the apps below about assets, through their registries: reports resolve an
        Open311 address_id to an asset's place, and the account pages list adoptions and
        end them when an account is deleted."""
        from adoptions import hooks
        from adoptions.demo import seed_adoptions
        from reports.demo import register_demo_step
        from reports.locators import register_address_page, register_address_resolver

        register_address_resolver(hooks.asset_location)
        register_address_page(hooks.asset_page)
        register_demo_step(seed_adoptions)
        hooks.connect_accounts()
