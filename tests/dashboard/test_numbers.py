"""Numbers and ids from requests are read in ASCII only: what Python's int(), float() and UUID() also read
(full-width and other Unicode digits, underscores, blanks, nan and inf) is refused, naming the field."""

from __future__ import annotations

import pytest

from dashboard import numbers
from dashboard.i18n import t

UUID = "7d0f3c2e-6f1a-4b8e-9c55-3f1e2a4b5c6d"


@pytest.mark.parametrize("raw, expected", [
    ("114.31", 114.31), ("-22", -22.0), ("+0.5", 0.5), (".5", 0.5), ("5.", 5.0), ("1e-3", 0.001), ("2E2", 200.0),
    ("１１４.３１", None), ("22.6６", None), ("١٢", None), ("１e3", None), ("1_0", None), (" 1", None), ("1 ", None),
    ("nan", None), ("inf", None), ("-Infinity", None), ("1e999", None), ("0x72", None), ("22,66", None), ("", None),
    (None, None), (12.5, None),
])
def test_decimal_reads_ascii_numbers_only(raw, expected):
    if expected is None:
        with pytest.raises(numbers.BadNumber) as exc:
            numbers.decimal(raw, "lat")
        assert exc.value.field == "lat" and exc.value.key == "api.bad_number"
        assert repr(raw) in str(exc.value)
    else:
        assert numbers.decimal(raw, "lat") == expected


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), ("-3", -3), (7, 7), ("１２", None), ("١٢", None), ("1_2", None), ("1.0", None), (True, None),
    ("9" * 19, None), ("", None),
])
def test_integer_reads_ascii_digits_only(raw, expected):
    if expected is None:
        with pytest.raises(numbers.BadNumber):
            numbers.integer(raw, "index")
    else:
        assert numbers.integer(raw, "index") == expected


@pytest.mark.parametrize("raw, ok", [
    (UUID, True), (UUID.upper(), True), (UUID.replace("-", ""), True),
    (UUID.replace("7", "７"), False), ("{" + UUID + "}", False), ("urn:uuid:" + UUID, False), (UUID + " ", False),
    ("not-a-uuid", False), (None, False),
])
def test_uuid_text_reads_ascii_ids_only(raw, ok):
    if ok:
        assert numbers.uuid_text(raw, "event_id") == UUID
    else:
        with pytest.raises(numbers.BadNumber) as exc:
            numbers.uuid_text(raw, "event_id")
        assert exc.value.key == "api.bad_id"


def test_the_refusal_names_the_field_and_the_text_in_both_languages():
    with pytest.raises(numbers.BadNumber) as exc:
        numbers.decimal("１１４", "lon")
    for lang in ("zh", "en"):
        text = t(exc.value.key, lang, **exc.value.params)
        assert "lon" in text and "'１１４'" in text, text
    # A long text is echoed cut, so a refusal cannot be made into a megabyte answer.
    with pytest.raises(numbers.BadNumber) as exc:
        numbers.decimal("１" * 10_000, "lon")
    assert len(exc.value.value) < 60
