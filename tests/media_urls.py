"""The site's URLs plus the development media view, which urls.py adds only with DEBUG on."""

from civic311.media import media_urlpatterns
from civic311.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, *media_urlpatterns()]
