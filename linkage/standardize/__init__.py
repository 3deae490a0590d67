"""Standardizers the ingest stage runs on every source before linkage.

Why a package of SQL macros: the warehouse holds tens of millions of rows, and the project rule is
that row-level cleaning happens vectorized inside DuckDB; Python only ever sees *distinct*
values (nicknames, phonetic keys -- see ``names.name_keys``). Each macro has a pure-Python twin
in the same module, and ``tests/test_standardize.py`` checks on generated inputs that the two
agree, which is how the SQL stays reviewable.

Public SQL macros (created by ``register_macros``):

* ``std_ssn(raw, quality)`` -> STRUCT(ssn, last4, flag)
* ``std_dob(raw, quality[, today := current_date])`` -> STRUCT(dob, y, m, d, flag)
* ``std_name(raw)``, ``name_suffix(first, last)``, ``strip_suffix(name)``,
  ``surname_parts(last)`` -> VARCHAR[], ``surname_squashed(last)``
* ``std_address(line, city, state, zip)`` -> STRUCT(street, unit, city, state, zip5)

Helper macros are prefixed ``_std_``.
"""

from __future__ import annotations

import duckdb

from . import address, dob, names, ssn
from .address import flag_shared_addresses, standardize_address
from .dob import standardize_dob
from .names import (
    canonical_given,
    name_keys,
    name_suffix,
    standardize_name,
    strip_suffix,
    surname_parts,
    surname_squashed,
)
from .ssn import standardize_ssn

#: In dependency order: dob uses ssn's _std_hmis_code.
_MODULES = (ssn, dob, names, address)

__all__ = [
    "canonical_given",
    "flag_shared_addresses",
    "name_keys",
    "name_suffix",
    "register_macros",
    "standardize_address",
    "standardize_dob",
    "standardize_name",
    "standardize_ssn",
    "strip_suffix",
    "surname_parts",
    "surname_squashed",
]


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) every standardization macro on ``con``.

    Idempotent, so each stage can call it on its own connection without coordinating. Macros
    are temporary objects of the connection's catalog; they are not written to the warehouse.
    """
    for module in _MODULES:
        for statement in module.MACROS:
            con.execute(statement)
