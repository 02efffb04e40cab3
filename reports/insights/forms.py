"""The area alert form."""

from __future__ import annotations

from typing import Any

from django import forms

from civic311.forms import CitizenForm
from civic311.geo import in_city_bounds
from departments.models import Boundary
from reports.insights.models import AreaAlert
from reports.models import Service

RADII = [(250, "250 m"), (500, "500 m"), (1000, "1 km"), (2000, "2 km")]


class AlertForm(CitizenForm):
    email = forms.EmailField(
        label="Your email",
        help_text="We ask you to confirm it first.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    where = forms.ChoiceField(
        choices=[("area", "A neighbourhood"), ("circle", "A circle on the map")],
        widget=forms.RadioSelect,
        initial="area",
        label="Where",
    )
    area = forms.ModelChoiceField(
        queryset=Boundary.objects.filter(kind=Boundary.Kind.NEIGHBOURHOOD),
        required=False,
        label="Neighbourhood",
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, label="Latitude")
    long = forms.FloatField(required=False, min_value=-180, max_value=180, label="Longitude")
    radius_m = forms.TypedChoiceField(
        choices=RADII, coerce=int, initial=500, required=False, label="Radius"
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(active=True),
        required=False,
        empty_label="Every category",
        label="Category",
    )
    frequency = forms.ChoiceField(
        choices=AreaAlert.Frequency.choices,
        initial=AreaAlert.Frequency.IMMEDIATE,
        widget=forms.RadioSelect,
        label="How often",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("where") == "area":
            if not data.get("area"):
                self.add_error("area", "Choose a neighbourhood.")
            data["lat"] = data["long"] = data["radius_m"] = None
        elif data.get("where") == "circle":
            lat, long = data.get("lat"), data.get("long")
            if lat is None or long is None:
                self.add_error("lat", "Click the map (or give a latitude and longitude).")
            elif not in_city_bounds(lat, long):
                self.add_error("lat", "Choose a point in the city.")
            if not data.get("radius_m"):
                self.add_error("radius_m", "Choose a radius.")
            data["area"] = None
        return data
