from __future__ import annotations

from typing import Any

import pytest

from core.config import EntraInput, validate_entra_input
from core.errors import InvalidInput

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "00000000-0000-0000-0000-000000000001"
SECRET = "client-secret-do-not-print"


def problems(error: InvalidInput) -> dict[str, str]:
    return {p.field: p.rule for p in error.problems}


def test_valid_input_is_normalised() -> None:
    entra = validate_entra_input(f"  {TENANT.upper()}\n", CLIENT, SECRET, " 7 ")
    assert entra == EntraInput(TENANT, CLIENT, SECRET, 7)


def test_integer_cadence_and_bounds() -> None:
    assert validate_entra_input(TENANT, CLIENT, SECRET, 1).cadence_days == 1
    assert validate_entra_input(TENANT, CLIENT, SECRET, "100").cadence_days == 100


@pytest.mark.parametrize("cadence", ["7.5", "abc", "", 0, 101, "0", "101", "-3", True, False, 7.0])
def test_bad_cadence(cadence: Any) -> None:  # Any: raw form values, off-type on purpose
    with pytest.raises(InvalidInput) as caught:
        validate_entra_input(TENANT, CLIENT, SECRET, cadence)
    assert problems(caught.value) == {"cadence_days": "must be a whole number from 1 to 100"}


@pytest.mark.parametrize(
    "guid",
    [
        "",
        "not-a-guid",
        "72f988bf86f141af91ab2d7cd011db47",
        "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
        "72f988bf-86f1-41af-91ab-2d7cd011db4g",
        "contoso.onmicrosoft.com",
    ],
)
def test_bad_guids(guid: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_entra_input(guid, guid, SECRET, 7)
    rule = "must be a GUID like 00000000-0000-0000-0000-000000000000"
    assert problems(caught.value) == {"tenant_id": rule, "client_id": rule}


@pytest.mark.parametrize("suffix", ["x", "/oauth2", "/oauth2/v2.0/token", " 1", "-0000"])
def test_guids_followed_by_more_text_are_refused(suffix: str) -> None:
    """A pasted URL or a typo after the GUID is not a GUID: the whole value must match."""
    with pytest.raises(InvalidInput) as caught:
        validate_entra_input(TENANT + suffix, CLIENT + suffix, SECRET, 7)
    rule = "must be a GUID like 00000000-0000-0000-0000-000000000000"
    assert problems(caught.value) == {"tenant_id": rule, "client_id": rule}


def test_every_problem_is_reported_at_once_without_the_secret() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_entra_input("x", "y", "   ", "abc")
    assert set(problems(caught.value)) == {
        "tenant_id",
        "client_id",
        "client_secret",
        "cadence_days",
    }
    assert problems(caught.value)["client_secret"] == "must not be empty"
    message = str(caught.value)
    assert message.startswith("Invalid input: tenant_id: must be a GUID")

    with pytest.raises(InvalidInput) as caught:
        validate_entra_input("x", CLIENT, SECRET, 7)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)


def test_secret_required_by_default() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_entra_input(TENANT, CLIENT, None, 7)
    assert problems(caught.value) == {"client_secret": "must not be empty"}


@pytest.mark.parametrize("secret", [None, "", "  "])
def test_secret_optional_means_keep_the_stored_one(secret: str | None) -> None:
    entra = validate_entra_input(TENANT, CLIENT, secret, 7, secret_required=False)
    assert entra.client_secret is None


def test_secret_is_trimmed_and_kept_out_of_repr() -> None:
    entra = validate_entra_input(TENANT, CLIENT, f" {SECRET}\n", 7)
    assert entra.client_secret == SECRET
    assert SECRET not in repr(entra)
    assert SECRET not in str(entra)
