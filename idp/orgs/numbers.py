"""Registration numbers of business customers, checked with python-stdnum.

Ukraine: ЄДРПОУ (8 digits, a legal entity) and РНОКПП (10 digits, a sole proprietor, ФОП).
Russia: ИНН (10 digits for a legal entity, 12 for a sole proprietor), ОГРН (13) and ОГРНИП (15).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from stdnum.exceptions import ValidationError
from stdnum.ru import inn, ogrn
from stdnum.ua import edrpou, rntrc

COUNTRIES = ("UA", "RU")

# kind -> (its name as people of the country write it, the stdnum module)
KINDS = {
    "edrpou": ("ЄДРПОУ", edrpou),
    "rntrc": ("РНОКПП", rntrc),
    "inn": ("ИНН", inn),
    "ogrn": ("ОГРН", ogrn),
    "ogrnip": ("ОГРНИП", ogrn),
}
# Which kind a number of so many digits is, per country.
BY_LENGTH = {
    "UA": {8: "edrpou", 10: "rntrc"},
    "RU": {10: "inn", 12: "inn", 13: "ogrn", 15: "ogrnip"},
}
LEGAL_ENTITY = _l("legal entity")
SOLE_PROPRIETOR = _l("sole proprietor")


class InvalidNumber(ValueError):
    """Not a registration number of that country (the message says why, for people)."""


@dataclass(frozen=True)
class RegistrationNumber:
    country: str
    kind: str
    number: str

    @property
    def label(self) -> str:
        """E.g. "ЄДРПОУ 32855961"."""
        return f"{KINDS[self.kind][0]} {self.number}"

    @property
    def sole_proprietor(self) -> bool:
        return self.kind in ("rntrc", "ogrnip") or (self.kind == "inn" and len(self.number) == 12)


def parse(country: str, text: str) -> RegistrationNumber:
    """The registration number typed for ``country`` (spaces and dashes allowed); raise InvalidNumber."""
    country = (country or "").strip().upper()
    if country not in COUNTRIES:
        raise InvalidNumber(str(_l("Choose Ukraine or Russia.")))
    digits = "".join(ch for ch in (text or "") if ch not in " -")
    kind = BY_LENGTH[country].get(len(digits)) if digits.isdigit() else None
    if kind is None:
        raise InvalidNumber(
            str(
                _l("A Ukrainian registration number is an ЄДРПОУ of 8 digits or an РНОКПП of 10 digits.")
                if country == "UA"
                else _l(
                    "A Russian registration number is an ИНН of 10 or 12 digits, an ОГРН of 13 "
                    "or an ОГРНИП of 15."
                )
            )
        )
    try:
        KINDS[kind][1].validate(digits)
    except ValidationError as exc:
        raise InvalidNumber(
            str(_l("%(kind)s %(number)s is not valid: check the digits.", kind=KINDS[kind][0], number=digits))
        ) from exc
    return RegistrationNumber(country, kind, digits)
