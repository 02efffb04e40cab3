from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import receivers, sections
        from accounts.views import profile_section_context

        receivers.connect()
        sections.register(
            key="profile",
            template_name="accounts/_section_profile.html",
            context=profile_section_context,
            order=90,
        )
