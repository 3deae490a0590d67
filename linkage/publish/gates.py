"""What a run must show before it is published: its measures against the last published run's.

A run can finish every step and still be wrong: a source that did not arrive, a file whose
layout changed so that every row was rejected, a list that emptied. None of those raise; each
shows in a count. `measure` reads the counts from a built version; `check` compares them with
the current version's, as configs/publish.yaml bounds them, and names every gate that failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from linkage.publish.settings import Bounds, Gates
from linkage.warehouse import table_exists


@dataclass(frozen=True)
class Gate:
    name: str  # e.g. "reject rate: cw/persons.csv"
    passed: bool
    detail: str  # what was measured against what, in words

    def to_dict(self) -> dict:
        return asdict(self)


def _counts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in con.execute(sql).fetchall()}


def measure(con: duckdb.DuckDBPyConnection) -> dict:
    """A version's counts: staged person records per source, rows read and rejected per file
    (by source and file name: paths differ between deliveries), persons, families and each
    list's rows. Steps not run yet count as absent."""
    metrics: dict = {"sources": {}, "files": {}, "persons": None, "families": None,
                     "lists": {}}
    if table_exists(con, "staged.person_records"):
        metrics["sources"] = _counts(con, "SELECT system, count(*) FROM staged.person_records "
                                          "GROUP BY ALL")
    if table_exists(con, "staged.files"):
        for source, file, read, rejected in con.execute(
                "SELECT source, file, rows_read, rows_rejected FROM staged.files").fetchall():
            metrics["files"][f"{source}/{Path(file).name}"] = {"read": int(read or 0),
                                                               "rejected": int(rejected or 0)}
    if table_exists(con, "linked.persons"):
        metrics["persons"] = con.execute("SELECT count(DISTINCT person_id) "
                                         "FROM linked.persons").fetchall()[0][0]
    if table_exists(con, "families.families"):
        metrics["families"] = con.execute("SELECT count(*) FROM families.families") \
            .fetchall()[0][0]
    if table_exists(con, "marts"):
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE "
                                   "schema_name = 'marts' ORDER BY ALL").fetchall():
            metrics["lists"][name] = con.execute(f'SELECT count(*) FROM marts."{name}"') \
                .fetchall()[0][0]
    return metrics


def _within(name: str, now: int | None, before: int | None, bounds: Bounds) -> Gate | None:
    """The size gate of one count, or None where there is nothing to compare."""
    if before is None:
        return None
    now = now or 0
    if max(now, before) < bounds.min_count:
        return None
    if before == 0:
        return Gate(name, True, f"{now:,} (none in the last published run)")
    ratio = now / before
    passed = bounds.min_ratio <= ratio <= bounds.max_ratio
    return Gate(name, passed, f"{now:,} against {before:,} in the last published run "
                              f"(x{ratio:.2f}; allowed x{bounds.min_ratio:g} to "
                              f"x{bounds.max_ratio:g})")


def _reject_rate(name: str, now: dict, before: dict | None, gates: Gates) -> Gate:
    rate = now["rejected"] / now["read"] if now["read"] else 0.0
    limit = gates.reject_rate.max
    detail = f"{now['rejected']:,} of {now['read']:,} rows rejected ({rate:.1%}; at most " \
             f"{limit:.1%}"
    if before is not None and before["read"]:
        was = before["rejected"] / before["read"]
        limit = min(limit, was + gates.reject_rate.max_increase)
        detail += f", and at most {gates.reject_rate.max_increase:.1%} above the last " \
                  f"published run's {was:.1%}"
    return Gate(name, rate <= limit, detail + ")")


def check(metrics: dict, previous: dict | None, gates: Gates) -> list[Gate]:
    """Every gate of configs/publish.yaml on this run's `metrics`, against the last published
    run's (`previous`, None before the first publish: then only the gates that need no
    history apply)."""
    results = []
    prev = previous or {"sources": {}, "files": {}, "persons": None, "families": None,
                        "lists": {}}
    if gates.sources_present:
        for source in sorted(prev["sources"]):
            if source not in metrics["sources"]:
                results.append(Gate(f"source present: {source}", False,
                                    f"no {source} records, where the last published run had "
                                    f"{prev['sources'][source]:,}"))
    for file, counts in sorted(metrics["files"].items()):
        results.append(_reject_rate(f"reject rate: {file}", counts, prev["files"].get(file),
                                    gates))
    for source, n in sorted(metrics["sources"].items()):
        results.append(_within(f"staged records: {source}", n, prev["sources"].get(source),
                               gates.staged_records))
    results.append(_within("persons", metrics["persons"], prev["persons"], gates.persons))
    results.append(_within("families", metrics["families"], prev["families"], gates.families))
    for name in sorted(set(metrics["lists"]) | set(prev["lists"])):
        results.append(_within(f"list: {name}", metrics["lists"].get(name),
                               prev["lists"].get(name), gates.lists))
    return [gate for gate in results if gate is not None]
