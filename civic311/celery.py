"""The Celery app. With no CELERY_BROKER_URL set, settings make every task run in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civic311.settings")

app = Celery("civic311")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
