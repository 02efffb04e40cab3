from django.apps import AppConfig


class DepartmentsConfig(AppConfig):
    name = "departments"
    verbose_name = "Departments"

    def ready(self) -> None:
        """Tell the accounts app who is a department's staff (their account is not deleted
        from the citizens' page)."""
        from departments import hooks

        hooks.connect_accounts()
