"""Numbers typed by people (no database, no other app).

Many users type a decimal comma ("12,5"): every parser of a typed number
accepts it the same way, here.
"""

from decimal import Decimal, InvalidOperation


def decimal_text(text: str) -> str:
    """``text`` stripped, with a decimal comma made a point ("12,5" -> "12.5")."""
    return str(text).strip().replace(",", ".")


def parse_decimal(value) -> Decimal:
    """``value`` (text or a number) as a finite Decimal; raises ValueError
    when it is not one (the caller words the message for its field)."""
    try:
        number = Decimal(decimal_text(value))
    except (InvalidOperation, ValueError):
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number
