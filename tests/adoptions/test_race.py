"""One active adoption per asset when two people press "Adopt" at the same moment: the
partial unique constraint decides, on PostgreSQL, with two real transactions at once."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from adoptions.models import Adoption
from adoptions.services.adoptions import adoption_start
from tests.adoptions.conftest import AssetFactory, AssetTypeFactory, volunteer_with_profile

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (two real transactions)"
    ),
]


def test_second_transaction_waits_then_fails_on_the_constraint():
    asset = AssetFactory(asset_type=AssetTypeFactory())
    first_user = volunteer_with_profile("first", "First")
    second_user = volunteer_with_profile("second", "Second")
    inserted, outcome = threading.Event(), {}

    def first() -> None:
        try:
            with transaction.atomic():
                adoption_start(asset=asset, volunteer=first_user, accept_terms=True)
                inserted.set()
                time.sleep(0.5)  # hold the uncommitted row while the other one tries
        finally:
            connections.close_all()

    def second() -> None:
        inserted.wait(5)
        try:
            adoption_start(asset=asset, volunteer=second_user, accept_terms=True)
            outcome["second"] = "adopted"
        except ValidationError as exc:
            outcome["second"] = " ".join(exc.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert "a moment ago" in outcome["second"]
    assert list(Adoption.objects.active().values_list("volunteer__username", flat=True)) == [
        "first"
    ]


def test_two_racing_adopters_one_wins():
    asset = AssetFactory(asset_type=AssetTypeFactory())
    users = [volunteer_with_profile(f"racer{n}", f"Racer {n}") for n in range(2)]
    barrier, results = threading.Barrier(2), []

    def adopt(user) -> None:
        try:
            barrier.wait(5)
            adoption_start(asset=asset, volunteer=user, accept_terms=True)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=adopt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == ["ok", "refused"]
    assert Adoption.objects.active().filter(asset=asset).count() == 1


def test_raw_inserts_in_two_transactions():
    asset = AssetFactory(asset_type=AssetTypeFactory())
    user = volunteer_with_profile("raw", "Raw")
    existing = adoption_start(asset=asset, volunteer=user, accept_terms=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Adoption.objects.create(
            asset=asset,
            volunteer=user,
            started=existing.started,
            terms_accepted_at=existing.started,
            due_on=existing.due_on,
        )
