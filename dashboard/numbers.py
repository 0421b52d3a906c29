"""Numbers and ids from requests, read strictly: ASCII digits only.

Python's `int()`, `float()` and `uuid.UUID()` take any Unicode decimal digit ("１２" and "١٢" are
12), underscores ("1_0" is 10), surrounding blanks and, for floats, "nan" and "inf". A machine
client that sends such text has a bug or is probing; accepting it means the database, the logs and
the next client all read a different text than the one sent. The doors refuse it with a 400 naming
the field (`api.bad_number`, `api.bad_id`), in their own error format.
"""

from __future__ import annotations

import math
import re
import uuid

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
# The canonical form and the 32-digit one; braces and `urn:uuid:` are for programs, not requests.
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_SHOWN = 40  # the refused text is echoed back this far, so the client sees what arrived


class BadNumber(ValueError):
    """A request field that is not a number (or id) written in ASCII; names the field and the text."""

    def __init__(self, field: str, raw: object, kind: str = "number"):
        self.field, self.kind = field, kind
        self.value = repr(raw if not isinstance(raw, str) or len(raw) <= _SHOWN else raw[:_SHOWN] + "...")
        super().__init__(f"{field} must be {'a UUID' if kind == 'id' else 'a number'} written in ASCII, "
                         f"got {self.value}")

    @property
    def key(self) -> str:
        """The i18n key of the refusal (dashboard/i18n.py)."""
        return "api.bad_id" if self.kind == "id" else "api.bad_number"

    @property
    def params(self) -> dict:
        """The refusal's parameters, for `t(key, lang, **params)`."""
        return {"field": self.field, "value": self.value}


def decimal(raw: object, field: str) -> float:
    """A finite float from ASCII text such as "114.31", "-2", "1e-3"; BadNumber otherwise."""
    if not isinstance(raw, str) or not _DECIMAL.fullmatch(raw):
        raise BadNumber(field, raw)
    value = float(raw)
    if not math.isfinite(value):  # "1e999"
        raise BadNumber(field, raw)
    return value


def integer(raw: object, field: str) -> int:
    """An int from ASCII digits (an int passes as it is, a bool does not); BadNumber otherwise."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if not isinstance(raw, str) or len(raw) > 18 or not _INTEGER.fullmatch(raw):
        raise BadNumber(field, raw)
    return int(raw)


def uuid_text(raw: object, field: str) -> str:
    """The canonical text of a UUID written in ASCII hex digits; BadNumber (kind "id") otherwise."""
    if not isinstance(raw, str) or not _UUID.fullmatch(raw):
        raise BadNumber(field, raw, "id")
    return str(uuid.UUID(raw))
