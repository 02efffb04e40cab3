"""Build a believable demo city: departments, areas, routing rules, categories with their
questions, staff logins and a few hundred reports over the last 120 days.

Why: `make run` must show a portal that looks lived in — clusters that tell the three
stories (stolen water meters in Oakwood, syringes downtown, trees down on the greenway) — and
staff logins to try the admin with. Idempotent: the catalogue is updated in place and
reports are only generated into a database that has none.
"""

from __future__ import annotations

import io
import random
import secrets
import tempfile
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import Profile
from accounts.services import profile_save
from civic311.geo import in_city_bounds
from departments.models import Boundary, Department, RoutingRule, StaffMembership
from departments.permissions import STAFF_GROUP_NAME
from places.demo import DEMO_FILE
from places.importer import import_addresses
from places.search import nearest_address
from reports import demo, rules
from reports.models import (
    AttributeValue,
    Photo,
    RequestUpdate,
    ResponseTemplate,
    Service,
    ServiceAttribute,
    ServiceRequest,
)
from reports.photos import photo_process
from reports.services.requests import report_create

DEMO_PASSWORD = "civic311-demo"
POINT_TRIES = 100  # draws of a report's point before deciding MAP_BOUNDS is another city's
# A resident with an account, to try "My account" and adopting a shelter: sign-up needs an
# emailed link, and the demo volunteers have no password.
CITIZEN_USERNAME = "citizen"
CITIZEN_EMAIL = "citizen@example.net"
CITIZEN_REPORT_EVERY = 40  # one demo report in this many is the citizen's


def demo_reporter_email(index: int, resident: int) -> str:
    """The nth demo report's reporter: now and then the demo citizen, else one of 400."""
    if index % CITIZEN_REPORT_EVERY == 7:
        return CITIZEN_EMAIL
    return f"resident{resident}@example.net"


class Command(BaseCommand):
    help = "Create (or update) the demo city: departments, areas, categories, staff and reports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reports",
            type=int,
            default=sum(demo.COUNTS.values()),
            help="Roughly how many reports to generate, 0 or more (default %(default)s).",
        )
        parser.add_argument(
            "--photos",
            type=float,
            default=0.2,
            help="Share of reports that get a photo, 0 to 1 (default %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be created, then roll everything back.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run although DJANGO_DEBUG is off. New logins then get random passwords, "
            "printed once, and a login still on the published demo password gets one too.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Checked first: --reports -5 made the fixed demo reports and nothing was said, and
        # --photos 2 or nan went through as "every report" and "none".
        if options["reports"] < 0:
            raise CommandError(f"--reports must be 0 or more, got {options['reports']}.")
        if not 0 <= options["photos"] <= 1:  # also refuses nan
            raise CommandError(f"--photos is a share from 0 to 1, got {options['photos']}.")
        if not options["dry_run"]:
            self._seed(options)
            return
        # A dry run stores what it would store (volunteers' care photos, …) in a folder
        # of its own, deleted afterwards: rolling the rows back leaves no file behind.
        with tempfile.TemporaryDirectory() as scratch, override_settings(MEDIA_ROOT=scratch):
            self._seed(options)

    def _seed(self, options: dict[str, Any]) -> None:
        self.verbosity = options["verbosity"]
        # The demo password is published (README, this output): with DEBUG off this is
        # presumably a real site, where a superuser with that password is a way in.
        self.production = not settings.DEBUG
        if self.production and not options["allow_production"]:
            raise CommandError(
                "seed_demo makes demo data and staff logins; DJANGO_DEBUG is off, so this "
                "looks like production. Pass --allow-production to run it anyway (logins "
                "then get random passwords, shown once)."
            )
        self.passwords: dict[str, str] = {}
        rng = random.Random(311)  # the same city every time
        with transaction.atomic():
            departments = self._departments()
            boundaries = self._boundaries()
            self._addresses()
            services = self._services(departments)
            self._rules(services, boundaries, departments)
            self._templates(departments)
            logins = self._users(departments)
            if ServiceRequest.objects.exists():
                self._say(1, "Reports already exist; not generating more.")
                created: list[ServiceRequest] = []
            else:
                created = self._reports(
                    services,
                    rng,
                    options["reports"],
                    0 if options["dry_run"] else options["photos"],
                )
            for step in demo.demo_steps():
                step(say=lambda line: self._say(1, line))
            if options["dry_run"]:
                self._say(1, f"Dry run: would create {len(created)} reports; rolled back.")
                transaction.set_rollback(True)
                return
        for photo in Photo.objects.filter(state=Photo.State.PENDING):
            photo_process(photo=photo)
        self._say(
            1,
            f"Demo city ready: {len(departments)} departments, {len(services)} "
            f"categories, {len(boundaries)} areas, {len(created)} new reports.",
        )
        if not self.production:
            self._say(1, f"Logins (password for all: {DEMO_PASSWORD}):")
            for username, what in logins:
                self._say(1, f"  {username:<22} {what}")
            return
        # Printed whatever the verbosity: this is the only time anyone sees them.
        self.stdout.write("Logins (new random passwords, shown only this once):")
        for username, what in logins:
            password = self.passwords.get(username, "(unchanged)")
            self.stdout.write(f"  {username:<22} {password:<24} {what}")

    def _say(self, level: int, message: str) -> None:
        if self.verbosity >= level:
            self.stdout.write(message)

    def _addresses(self) -> None:
        """The demo city's gazetteer, so that the form's address search has streets."""
        result = import_addresses(DEMO_FILE)
        self._say(
            1,
            f"Addresses: {result.created:,} new, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged, {result.streets} streets.",
        )

    def _departments(self) -> dict[str, Department]:
        found = {}
        for slug, name, email, description in demo.DEPARTMENTS:
            found[slug], _ = Department.objects.update_or_create(
                slug=slug,
                defaults={"name": name, "email": email, "description": description, "active": True},
            )
        return found

    def _boundaries(self) -> dict[str, Boundary]:
        south, west, north, east = settings.MAP_BOUNDS
        lat0, long0 = settings.MAP_CENTER
        district = Boundary.Kind.DISTRICT
        areas: list[tuple[str, str, dict[str, Any]]] = [
            (settings.CITY_NAME, Boundary.Kind.CITY, demo.polygon(south, west, north, east)),
            ("North-West District", district, demo.polygon(lat0, west, north, long0)),
            ("North-East District", district, demo.polygon(lat0, long0, north, east)),
            ("South-West District", district, demo.polygon(south, west, lat0, long0)),
            ("South-East District", district, demo.polygon(south, long0, lat0, east)),
            ("Capital Greenway", Boundary.Kind.SERVICE_AREA, demo.corridor(demo.GREENWAY, 0.002)),
        ]
        areas += [
            (name, Boundary.Kind.NEIGHBOURHOOD, geo) for name, geo in demo.NEIGHBOURHOODS.items()
        ]
        found = {}
        for name, kind, geometry in areas:
            boundary = Boundary.objects.filter(kind=kind, name=name).first() or Boundary(
                kind=kind, name=name
            )
            boundary.geometry = geometry
            boundary.full_clean()
            boundary.save()
            found[name] = boundary
        return found

    def _services(self, departments: dict[str, Department]) -> dict[str, Service]:
        found = {}
        for order, category in enumerate(demo.CATEGORIES, start=1):
            service, _ = Service.objects.update_or_create(
                service_code=category.code,
                defaults={
                    "name": category.name,
                    "group": category.group,
                    "description": category.description,
                    "keywords": category.keywords,
                    "department": departments[category.department],
                    "sla_hours": category.sla_hours,
                    "order": order,
                    "active": True,
                },
            )
            for position, question in enumerate(category.questions, start=1):
                attribute, _ = ServiceAttribute.objects.update_or_create(
                    service=service,
                    code=question.code,
                    defaults={
                        "description": question.description,
                        "datatype": question.datatype,
                        "required": question.required,
                        "order": position,
                    },
                )
                for index, (key, name) in enumerate(question.values, start=1):
                    AttributeValue.objects.update_or_create(
                        attribute=attribute, key=key, defaults={"name": name, "order": index}
                    )
            found[category.code] = service
        return found

    def _rules(
        self,
        services: dict[str, Service],
        boundaries: dict[str, Boundary],
        departments: dict[str, Department],
    ) -> None:
        # Area-specific routing: the city's real arrangements.
        rules = [
            # Drains on the greenway are cleared by the greenway crews.
            (services["storm-drain"], "", boundaries["Capital Greenway"], departments["parks"]),
            # Downtown dumping is handled by Health's sanitation programme.
            (services["illegal-dumping"], "", boundaries["Downtown"], departments["health"]),
            # Every "Health and safety" report in Southside goes to the outreach partner first,
            # except syringes, which the service-specific default keeps with Health.
            (None, "Health and safety", boundaries["Southside"], departments["outreach"]),
            (services["found-syringe"], "", boundaries["Southside"], departments["health"]),
        ]
        for service, group, boundary, department in rules:
            RoutingRule.objects.update_or_create(
                service=service,
                group=group,
                boundary=boundary,
                defaults={"department": department, "priority": 10, "active": True},
            )

    def _templates(self, departments: dict[str, Department]) -> None:
        for department in departments.values():
            for title, state, text in [
                (
                    "Acknowledged",
                    ServiceRequest.State.ACKNOWLEDGED,
                    "Thank you. We have your report and will inspect the site.",
                ),
                (
                    "Crew scheduled",
                    ServiceRequest.State.IN_PROGRESS,
                    "A crew is scheduled to fix this within the target time.",
                ),
                (
                    "Fixed",
                    ServiceRequest.State.FIXED,
                    "This has been fixed. Thank you for reporting it.",
                ),
                (
                    "Not ours",
                    ServiceRequest.State.REFERRED,
                    "This is not city property; we have referred it to the owner.",
                ),
            ]:
                ResponseTemplate.objects.update_or_create(
                    department=department,
                    title=title,
                    defaults={"state": state, "text": text, "active": True},
                )

    def _users(self, departments: dict[str, Department]) -> list[tuple[str, str]]:
        self._user("admin", is_superuser=True)
        logins = [("admin", "superuser")]
        group = Group.objects.get(name=STAFF_GROUP_NAME)  # made by a departments migration
        for slug, department in departments.items():
            for suffix, role in (
                ("", StaffMembership.Role.AGENT),
                ("-manager", StaffMembership.Role.MANAGER),
            ):
                username = f"{slug}{suffix}"
                user = self._user(username, first_name=department.name, last_name=role.label)
                user.groups.add(group)
                StaffMembership.objects.update_or_create(
                    user=user, department=department, defaults={"role": role}
                )
                logins.append((username, f"{role.label} of {department.name}"))
        self._citizen()
        logins.append(
            (CITIZEN_USERNAME, f"citizen, signs in at /accounts/login/ as {CITIZEN_EMAIL}")
        )
        return logins

    def _citizen(self) -> None:
        """A citizen's account as sign-up leaves it once the address is confirmed, so that
        it signs in on the public site (not the admin) and "My reports" lists its reports."""
        user = self._user(CITIZEN_USERNAME, email=CITIZEN_EMAIL, is_staff=False)
        EmailAddress.objects.update_or_create(
            user=user, email=CITIZEN_EMAIL, defaults={"verified": True, "primary": True}
        )
        if not Profile.objects.filter(user=user).exists():
            profile_save(user=user, display_name="Demo Citizen", show_on_leaderboard=True)

    def _user(self, username: str, **fields: Any) -> Any:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            # Passwords are set only on creation: hashing is slow, and a re-run must not undo
            # a password someone changed.
            user = User(username=username, email=f"{username}@riverton.example.org")
            self._set_password(user)
        elif self.production and user.check_password(DEMO_PASSWORD):
            self._set_password(user)
        for name, value in {"is_staff": True, **fields}.items():
            setattr(user, name, value)
        user.save()
        return user

    def _set_password(self, user: Any) -> None:
        """The published demo password on a laptop; a random one, recorded to be shown
        once, in production."""
        if not self.production:
            user.set_password(DEMO_PASSWORD)
            return
        password = secrets.token_urlsafe(15)
        self.passwords[user.username] = password
        user.set_password(password)

    def _reports(
        self, services: dict[str, Service], rng: random.Random, total: int, photo_share: float
    ) -> list[ServiceRequest]:
        now = timezone.now()
        scale = total / sum(demo.COUNTS.values())
        created: list[ServiceRequest] = []
        staff = get_user_model().objects.filter(username="admin").first()
        for code, count in demo.COUNTS.items():
            service = services[code]
            for _ in range(max(1, round(count * scale))):
                lat, long = self._point(code, rng)
                age_days = rng.triangular(0, 120, 10)
                requested = now - timedelta(days=age_days, minutes=rng.randint(0, 600))
                photos = [self._photo(service, rng)] if rng.random() < photo_share else []
                address = f"{rng.randint(1, 2400)} {rng.choice(demo.STREETS)}"
                nearest = nearest_address(lat, long, external=False)
                report = report_create(
                    service=service,
                    description=rng.choice(demo.DESCRIPTIONS[code]),
                    lat=lat,
                    long=long,
                    address=nearest.label if nearest else address,
                    address_id=nearest.address_id if nearest else "",
                    attributes=demo.sample_answers(
                        service.attributes.prefetch_related("values"), rng
                    ),
                    photos=photos,
                    reporter_name="Demo Resident",
                    reporter_email=demo_reporter_email(len(created), rng.randint(1, 400)),
                    requested_datetime=requested,
                    notify=False,  # history, not news: no email per demo report
                )
                self._progress(report, age_days, rng, staff, created)
                created.append(report)
        return created

    def _point(self, code: str, rng: random.Random) -> tuple[float, float]:
        """A point for a report of this category. A draw outside the city's bounds (a tail
        of the bell curves below) is drawn again: report_create refuses it, and did so with
        a traceback for some --reports counts."""
        for _ in range(POINT_TRIES):
            lat, long = self._draw_point(code, rng)
            if in_city_bounds(lat, long):
                return lat, long
        raise CommandError(
            f"The demo city's points fall outside MAP_BOUNDS {settings.MAP_BOUNDS}: "
            "seed_demo builds Riverton and needs its default map settings."
        )

    def _draw_point(self, code: str, rng: random.Random) -> tuple[float, float]:
        for weight, kind, where in demo.HOTSPOTS.get(code, []):
            if rng.random() > weight:
                continue
            if kind == "around":
                lat, long, spread = where
                return (round(rng.gauss(lat, spread), 6), round(rng.gauss(long, spread), 6))
            (lat1, long1), (lat2, long2) = rng.sample(list(zip(where, where[1:], strict=False)), 1)[
                0
            ]
            t = rng.random()
            return (
                round(lat1 + (lat2 - lat1) * t + rng.gauss(0, 0.0008), 6),
                round(long1 + (long2 - long1) * t + rng.gauss(0, 0.0008), 6),
            )
        lat, long = settings.MAP_CENTER
        return (round(rng.gauss(lat, 0.025), 6), round(rng.gauss(long, 0.03), 6))

    def _photo(self, service: Service, rng: random.Random) -> SimpleUploadedFile:
        palette = ["#6b8e23", "#8b5a2b", "#708090", "#556b2f", "#a0522d", "#2f4f4f"]
        image = Image.new("RGB", (800, 600), rng.choice(palette))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x, y = rng.randint(0, 760), rng.randint(0, 560)
            draw.ellipse(
                (x, y, x + rng.randint(20, 160), y + rng.randint(20, 120)), fill=rng.choice(palette)
            )
        draw.rectangle((0, 520, 800, 600), fill="#1d2b36")
        draw.text((20, 545), f"{service.name} — demo photo", fill="white")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        return SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")

    def _progress(
        self,
        report: ServiceRequest,
        age_days: float,
        rng: random.Random,
        staff: Any,
        earlier: list[ServiceRequest],
    ) -> None:
        """Move older reports along the workflow, the way a real queue looks. A duplicate
        names an earlier report of its category as its master (the rules demand one)."""
        states = ServiceRequest.State
        chance_closed = min(0.9, age_days / 45)
        master = next(
            (
                r
                for r in reversed(earlier)
                if r.service_id == report.service_id
                and r.state != states.DUPLICATE
                and r.requested_datetime <= report.requested_datetime
            ),
            None,
        )
        if rng.random() < chance_closed:
            final = rng.choices(
                [states.FIXED, states.NOT_ACTIONABLE, states.REFERRED, states.DUPLICATE],
                weights=[80, 8, 6, 6],
            )[0]
            if final == states.DUPLICATE and master is None:
                final = states.FIXED
            path = [states.ACKNOWLEDGED, states.IN_PROGRESS, final]
        else:
            path = [states.NEW, states.ACKNOWLEDGED, states.IN_PROGRESS][: rng.randint(1, 3)][1:]
        when = report.requested_datetime
        now = timezone.now()
        for state in path:
            when = min(when + timedelta(hours=rng.uniform(2, 72)), now)
            note = demo.CLOSING_NOTES.get(state, "")
            previous = report.state
            if state == states.DUPLICATE and master is not None:
                rules.apply_duplicate(report, master.pk, now=when)
                note = rules.duplicate_text(master.pk, note)
            else:
                rules.apply_state(report, state, now=when)
            RequestUpdate.objects.create(
                request=report,
                kind=RequestUpdate.Kind.STATE,
                public=True,
                text=note,
                author=staff,
                state_from=previous,
                state_to=state,
                created=when,
            )
            report.updated_datetime = when
            if note:
                report.status_notes = note
        if path:
            report.save(
                update_fields=[
                    "state",
                    "status",
                    "closed_datetime",
                    "duplicate_of",
                    "updated_datetime",
                    "status_notes",
                ]
            )
