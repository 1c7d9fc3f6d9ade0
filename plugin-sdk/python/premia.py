"""Premia plugin SDK for Python (premia:plugin@0.1.0).

Copy this file next to your plugin's ``app.py`` (``premia plugin new --lang
python`` does it for you). It uses only the standard library and the bindings
componentize-py generates (``wit_world``).

- Money is a decimal string across the boundary ("1234.56"): use
  ``decimal.Decimal`` (never ``float``); ``money()`` formats one for the host.
- Dates are ``types.Date(year, month, day)`` records: ``to_date`` /
  ``from_date`` convert to and from ``datetime.date``.
- Raise ``declined(message)`` or ``invalid_input(message)`` to return an error.
"""

from datetime import date as _date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from componentize_py_types import Err
from wit_world.imports import host, types

__all__ = [
    "Decimal", "declined", "invalid_input", "log", "lookup", "lookup_decimal",
    "text", "integer", "number", "has", "peril_of", "yearly", "exact", "money",
    "round_money", "to_date", "from_date", "parse_decimal",
]

LogLevel = host.LogLevel


def declined(message: str) -> Err:
    """A refusal on business grounds, shown to the user as it is: ``raise declined(...)``."""
    return Err(types.PluginError_Declined(message))


def invalid_input(message: str) -> Err:
    """A complaint about the request, naming the field: ``raise invalid_input(...)``."""
    return Err(types.PluginError_InvalidInput(message))


def parse_decimal(text: str, what: str = "value") -> Decimal:
    """Parses "1234.56"; raises invalid_input naming ``what`` otherwise."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise invalid_input(f"{what}: {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise invalid_input(f"{what}: {text!r} is not a decimal number")
    return value


def round_money(value: Decimal, places: int = 2) -> Decimal:
    """Rounds half away from zero, as the host does."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """The decimal string the host expects (no exponent)."""
    return format(value, "f")


def log(level: str, message: str) -> None:
    """Writes a line to the host's log (bounded). level: trace|debug|info|warn|error."""
    host.log(LogLevel[level.upper()], str(message))


def lookup(table: str, keys: list, column: str) -> str:
    """A rate-table cell as text; raises invalid_input "table[keys].column: no such row"."""
    keys = [str(key) for key in keys]
    try:
        return host.lookup(table, keys, column)
    except Err as error:
        reason = error.value.name.lower().replace("_", " ")
        raise invalid_input(f"{table}[{', '.join(keys)}].{column}: {reason}") from None


def lookup_decimal(table: str, keys: list, column: str) -> Decimal:
    """A rate-table cell as a Decimal."""
    where = f"{table}[{', '.join(str(key) for key in keys)}].{column}"
    return parse_decimal(lookup(table, keys, column), where)


def _first(characteristics, name):
    for field in characteristics.fields:
        if field.name == name and field.values:
            return field.values[0]
    raise invalid_input(f"{characteristics.locator}: missing field {name}")


def has(characteristics, name: str) -> bool:
    """Whether the field is present with at least one value."""
    return any(f.name == name and f.values for f in characteristics.fields)


def text(characteristics, name: str) -> str:
    """A text field's first value."""
    value = _first(characteristics, name)
    if not isinstance(value, types.FieldValue_Text):
        raise invalid_input(f"{characteristics.locator}: field {name} is not text")
    return value.value


def integer(characteristics, name: str) -> int:
    """An integer field's first value (a text holding an integer is accepted)."""
    value = _first(characteristics, name)
    if isinstance(value, types.FieldValue_Integer):
        return value.value
    if isinstance(value, types.FieldValue_Text):
        try:
            return int(value.value.strip())
        except ValueError:
            pass
    raise invalid_input(f"{characteristics.locator}: field {name} is not an integer")


def number(characteristics, name: str) -> Decimal:
    """A number field's first value, as a Decimal."""
    value = _first(characteristics, name)
    if isinstance(value, (types.FieldValue_Number, types.FieldValue_Text)):
        return parse_decimal(value.value, f"{characteristics.locator}.{name}")
    if isinstance(value, types.FieldValue_Integer):
        return Decimal(value.value)
    raise invalid_input(f"{characteristics.locator}: field {name} is not a number")


def peril_of(request, item):
    """The (exposure, peril) an item prices."""
    wanted = item.peril_characteristics
    if wanted is None:
        raise invalid_input(f"item {item.locator}: no peril characteristics")
    for exposure in request.policy.exposures:
        for peril in exposure.perils:
            if peril.characteristics.locator == wanted:
                return exposure, peril
    raise invalid_input(f"item {item.locator}: unknown peril characteristics {wanted}")


def yearly(value: Decimal):
    """A yearly amount (prorated by the host)."""
    return types.Amount_Yearly(money(value))


def exact(value: Decimal):
    """An exact amount for the segment (not prorated)."""
    return types.Amount_Exact(money(value))


def to_date(value) -> _date:
    """A ``datetime.date`` from a WIT date."""
    return _date(value.year, value.month, value.day)


def from_date(value: _date):
    """A WIT date from a ``datetime.date``."""
    return types.Date(year=value.year, month=value.month, day=value.day)
