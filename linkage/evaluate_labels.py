"""Accuracy on real data, from reviewers' decisions (`famlink evaluate --labels`).

An agency has no truth file, but its liaisons label pairs. Labelled pairs are not a random
sample of the scored pairs (the queue shows only the uncertain band), so a plain confusion
matrix over them says little about the whole run. The estimate is stratified instead:

- Strata: bands of match probability whose edges are the thresholds in configs/linkage.yaml
  (0, review_low, link, review_high, 1), each split into pairs the run *linked* (same person id)
  and pairs it did not; plus the pairs linked only through other records (never scored).
  Together they hold every scored pair and every pair of records in one person.
- In each stratum the share of true matches among its labelled pairs (Wilson score interval)
  stands for its unlabelled pairs; labelled pairs count as what the label says. Estimated
  true matches linked / linked pairs = precision; / all estimated true matches = recall.
- Confidence intervals: a parametric bootstrap. Each draw takes every stratum's share from its
  Wilson score confidence distribution (whose 2.5% and 97.5% points are the Wilson interval,
  and which keeps the mass at 0 or 1 that a stratum labelled all one way deserves), then the
  stratum's unlabelled matches from a binomial of that share: parameter and finite-sample
  uncertainty together. Seeded, so a report is reproducible.
- A stratum without usable labels takes the model's own mean match probability instead; the
  report flags it as model-based, not label-based.
- A decision that the current run applied (must-link / cannot-link) made its own pair right:
  it still counts as a known pair, but does not speak for the other pairs of its stratum.
- True matches that blocking never proposed are invisible to a sample of scored pairs: only
  those a reviewer labelled are counted (as missed); the report says so.

Splink's `accuracy_analysis_from_labels_table` reports, for each threshold, TP / FP / FN / TN
over the labelled pairs; `thresholds` here has those too, beside the stratified estimates.
"""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np

from linkage.link.settings import LinkageConfig
from linkage.review.decisions import (
    DecisionError,
    decisions_path,
    load_latest,
    normalize_decision,
    store_exists,
)
from linkage.review.pairs import FIELDS, review_records
from linkage.warehouse import literal, table_exists

Z95 = 1.959963984540054  # two-sided 95%
DRAWS = 4000
# Columns `famlink review import` reads first (linkage.review.decisions.import_csv).
IMPORT_COLUMNS = ("record_id_l", "record_id_r", "decision", "reviewer", "note")


class LabelsError(ValueError):
    """Labels that cannot be read, with what to fix (never a record's values)."""


# ---------------------------------------------------------------------------------------------
# statistics


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial share x / n: unlike the normal approximation it
    stays inside [0, 1] and does not collapse to a point when every label says the same."""
    if n == 0:
        return 0.0, 1.0
    low, high = wilson_quantile(x, n, np.array([-z, z]))
    return float(low), float(high)


def wilson_quantile(x: int, n: int, z: np.ndarray) -> np.ndarray:
    """The Wilson score confidence distribution of x / n at standard-normal points `z`: the
    bound of the Wilson interval whose confidence corresponds to |z| (upper for z > 0, lower
    for z < 0). Fed standard-normal draws, it draws shares whose 95% range is the Wilson
    interval; with x = 0 (or x = n) half of them are exactly 0 (or 1)."""
    p = x / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    share = np.clip((centre + spread) / (1 + z2 / n), 0.0, 1.0)
    # exactly 0 or 1 where the formula is, not a rounding error away (an atom of the
    # distribution: every label says no, or yes)
    return np.where((x == 0) & (z <= 0), 0.0, np.where((x == n) & (z >= 0), 1.0, share))


def _ratio(a: float, b: float) -> float | None:
    return None if not b else a / b


def _f1(p: float | None, r: float | None) -> float | None:
    return None if not p or not r else 2 * p * r / (p + r)


def _interval(draws: np.ndarray) -> list[float] | None:
    """The central 95% of the draws that are defined (a ratio of zero pairs is not)."""
    finite = draws[np.isfinite(draws)]
    if not len(finite):
        return None
    return [float(v) for v in np.quantile(finite, [0.025, 0.975])]


# ---------------------------------------------------------------------------------------------
# strata


def band_edges(config: LinkageConfig) -> list[float]:
    """0, the thresholds of configs/linkage.yaml, 1: bands where the model acts alike (below
    review, reviewed and not linked, reviewed and linked, linked without review)."""
    t = config.thresholds
    return sorted({0.0, t.review_low, t.link, t.review_high, 1.0})


def band_name(edges: list[float], band: int | None) -> str:
    if band is None:
        return "not scored"
    last = band == len(edges) - 2
    return f"[{edges[band]:g}, {edges[band + 1]:g}{']' if last else ')'}"


def _band_sql(edges: list[float], column: str) -> str:
    """The band index of a probability: how many inner edges lie at or below it."""
    inner = " + ".join(f"({column} >= {e!r})::INTEGER" for e in edges[1:-1]) or "0"
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE {inner} END"


def build_pairs(con: duckdb.DuckDBPyConnection, edges: list[float]) -> int:
    """Temp _ev_pairs (record_id_l, record_id_r, p, band, linked): every scored pair and every
    pair of records the run put in one person, ids in sorted order. Returns the count."""
    if not table_exists(con, "linked.persons"):
        raise LabelsError("the warehouse has no linked persons yet: run `famlink link` first")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ev_pairs AS
        WITH scored AS (
            SELECT least(a.record_id, b.record_id) AS record_id_l,
                   greatest(a.record_id, b.record_id) AS record_id_r,
                   max(p.match_probability) AS p
            FROM linked.pairs p
            JOIN linked.records a ON a.rid = p.rid_l JOIN linked.records b ON b.rid = p.rid_r
            GROUP BY ALL),
        together AS (
            SELECT a.record_id AS record_id_l, b.record_id AS record_id_r
            FROM linked.persons a JOIN linked.persons b
              ON a.person_id = b.person_id AND a.record_id < b.record_id)
        SELECT coalesce(s.record_id_l, t.record_id_l) AS record_id_l,
               coalesce(s.record_id_r, t.record_id_r) AS record_id_r, s.p,
               {_band_sql(edges, 's.p')} AS band, t.record_id_l IS NOT NULL AS linked
        FROM scored s FULL JOIN together t
          ON s.record_id_l = t.record_id_l AND s.record_id_r = t.record_id_r""")
    return con.execute("SELECT count(*) FROM _ev_pairs").fetchall()[0][0]


# ---------------------------------------------------------------------------------------------
# labels


def read_labels_csv(con: duckdb.DuckDBPyConnection, source: Path) -> dict[str, int]:
    """Temp _ev_raw_labels(record_id_l, record_id_r, decision) from a spreadsheet with columns
    record_id_l, record_id_r, decision (others, like a sample's, are ignored). The last row on
    a pair wins, as in the decisions store; a blank decision is a pair not labelled yet."""
    rows: list[tuple[str, str, str]] = []
    problems: list[str] = []
    blank = 0
    with open(source, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"record_id_l", "record_id_r", "decision"} - set(reader.fieldnames or [])
        if missing:
            raise LabelsError(f"{source}: no column {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            decision = normalize_decision(row["decision"])
            left, right = ((row[k] or "").strip() for k in ("record_id_l", "record_id_r"))
            if not decision:
                blank += 1
                continue
            if decision not in ("match", "no_match", "unsure"):
                problems.append(f"{source}: line {line}: decision {row['decision']!r} is not "
                                f"one of match, no_match, unsure")
            elif not left or not right or left == right:
                problems.append(f"{source}: line {line}: a label needs two different record "
                                f"ids")
            else:
                rows.append((*sorted((left, right)), decision))
    if problems:
        raise LabelsError("\n".join(problems[:20]) + (
            f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""))
    con.execute("CREATE OR REPLACE TEMP TABLE _ev_raw_labels (record_id_l VARCHAR, "
                "record_id_r VARCHAR, decision VARCHAR, seq INTEGER)")
    if rows:
        con.executemany("INSERT INTO _ev_raw_labels VALUES (?, ?, ?, ?)",
                        [(*r, i) for i, r in enumerate(rows)])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _ev_raw_labels AS
        SELECT record_id_l, record_id_r, decision FROM _ev_raw_labels
        QUALIFY row_number() OVER (PARTITION BY record_id_l, record_id_r
                                   ORDER BY seq DESC) = 1""")
    return {"blank": blank}


def _applied_mark(con: duckdb.DuckDBPyConnection) -> int | None:
    """The decision store's mark when the run that built linked.persons started: it applied
    the decisions up to it (linkage.link.run.LinkSummary.decisions_as_of)."""
    if not table_exists(con, "linked.runs"):
        return None
    row = con.execute("SELECT summary->>'decisions_as_of' FROM linked.runs "
                      "ORDER BY finished_at DESC LIMIT 1").fetchall()
    return int(row[0][0]) if row and row[0][0] is not None else None


def load_labels(con: duckdb.DuckDBPyConnection, config: LinkageConfig, db: Path,
                labels: Path | None) -> dict:
    """Temp _ev_labels(record_id_l, record_id_r, is_match, applied): the labels on pairs (the
    latest decision on each; `unsure` is no label), and whether the current run applied a
    decision on the pair. Returns where they came from and what was left out, counted."""
    decisions = decisions_path(db, config.review.decisions_file)
    source = labels or decisions
    is_csv = source.suffix.lower() == ".csv"
    if not (source.exists() if is_csv else store_exists(source)):
        raise LabelsError(
            f"{source}: no labels (record decisions with `famlink review decide` or "
            f"`famlink review import`, or label a sample from `famlink review sample`)")
    info: dict = {"source": str(source)}
    if is_csv:
        info.update(read_labels_csv(con, source))
    else:
        try:
            load_latest(con, source, "_ev_raw_labels")
        except sqlite3.DatabaseError as exc:
            raise LabelsError(f"{source}: not a decisions store (SQLite, as `famlink review "
                              f"decide` writes) nor a CSV: {type(exc).__name__}") from None
        except DecisionError as exc:  # a legacy log it could not import
            raise LabelsError(str(exc)) from None
    mark = _applied_mark(con)
    info["decisions_applied_up_to"] = mark
    if mark is None:
        con.execute("CREATE OR REPLACE TEMP TABLE _ev_applied (record_id_l VARCHAR, "
                    "record_id_r VARCHAR, decision VARCHAR)")
    else:
        load_latest(con, decisions, "_ev_applied", as_of=mark)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _ev_labels AS
        SELECT l.record_id_l, l.record_id_r, l.decision = 'match' AS is_match,
               a.decision IN ('match', 'no_match') IS TRUE AS applied
        FROM _ev_raw_labels l
        LEFT JOIN _ev_applied a USING (record_id_l, record_id_r)
        WHERE l.decision IN ('match', 'no_match')""")
    unsure = con.execute("SELECT count(*) FROM _ev_raw_labels WHERE decision = 'unsure'") \
        .fetchall()[0][0]
    info["unsure"] = unsure
    return info


# ---------------------------------------------------------------------------------------------
# the estimate


@dataclass
class Stratum:
    """One band of match probability, linked or not, and what its labels say."""

    band: int | None
    name: str
    linked: bool
    pairs: int
    labelled: int  # pairs with a label (they count as labelled)
    labelled_matches: int
    usable: int  # labels that speak for the stratum's other pairs (not applied by the run)
    usable_matches: int
    mean_probability: float | None  # the model's, over the unlabelled pairs
    share: float | None = None
    share_ci: list[float] | None = None
    basis: str = ""  # labels | model | all labelled
    est_matches: float = 0.0
    est_matches_ci: list[float] | None = None

    @property
    def unlabelled(self) -> int:
        return self.pairs - self.labelled


def _strata(con: duckdb.DuckDBPyConnection, edges: list[float]) -> list[Stratum]:
    rows = con.execute("""
        SELECT e.band, e.linked, count(*) AS pairs,
               count(l.record_id_l) AS labelled,
               count(*) FILTER (WHERE l.is_match) AS labelled_matches,
               count(*) FILTER (WHERE NOT l.applied) AS usable,
               count(*) FILTER (WHERE l.is_match AND NOT l.applied) AS usable_matches,
               avg(e.p) FILTER (WHERE l.record_id_l IS NULL) AS mean_p
        FROM _ev_pairs e LEFT JOIN _ev_labels l USING (record_id_l, record_id_r)
        GROUP BY ALL ORDER BY e.band NULLS LAST, e.linked""").fetchall()
    return [Stratum(band, f"{band_name(edges, band)} {'linked' if linked else 'not linked'}",
                    linked, *counts) for band, linked, *counts in rows]


def _draw(strata: list[Stratum], fallback: float, draws: int, seed: int) -> np.ndarray:
    """Set each stratum's share, basis and estimate; return its bootstrap draws of true
    matches (strata x draws)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(strata), draws))
    for i, s in enumerate(strata):
        z = rng.standard_normal(draws)
        if s.unlabelled == 0:  # every pair known: no interval
            s.basis, s.share = "all labelled", _ratio(s.labelled_matches, s.labelled)
            shares = np.zeros(draws)
        elif s.usable:
            s.basis = "labels"
            s.share = s.usable_matches / s.usable
            shares = wilson_quantile(s.usable_matches, s.usable, z)
        else:
            s.basis = "model"
            s.share = s.mean_probability if s.mean_probability is not None else fallback
            shares = np.full(draws, s.share)
        if s.basis == "labels":
            s.share_ci = list(wilson(s.usable_matches, s.usable))
        out[i] = s.labelled_matches + rng.binomial(s.unlabelled, shares)
        s.est_matches = s.labelled_matches + (s.unlabelled * s.share if s.unlabelled else 0)
        s.est_matches_ci = _interval(out[i])
    return out


def _estimate(strata: list[Stratum], draws: np.ndarray, keep: np.ndarray,
              missed_known: int) -> dict:
    """Precision of the pairs in the strata `keep` selects, recall of all true matches
    (estimated in the strata, plus matches a reviewer found that were never proposed)."""
    pairs = sum(s.pairs for s, k in zip(strata, keep, strict=True) if k)
    est = np.array([s.est_matches for s in strata])
    found, total = float(est[keep].sum()), float(est.sum()) + missed_known
    found_draws = draws[keep].sum(axis=0)
    total_draws = draws.sum(axis=0) + missed_known
    with np.errstate(divide="ignore", invalid="ignore"):
        precision_draws = found_draws / pairs if pairs else np.full(draws.shape[1], np.nan)
        recall_draws = found_draws / total_draws
        f1_draws = 2 * found_draws / (pairs + total_draws)
    precision, recall = _ratio(found, pairs), _ratio(found, total)
    return {"pairs": pairs, "est_true_matches": found,
            "est_true_matches_missed": total - found,
            "precision": precision, "precision_ci": _interval(precision_draws),
            "recall": recall, "recall_ci": _interval(recall_draws),
            "f1": _f1(precision, recall), "f1_ci": _interval(f1_draws)}


def _confusion(con: duckdb.DuckDBPyConnection, predicted: str) -> dict:
    """TP / FP / FN / TN over the labelled pairs that name records in the warehouse, with
    `predicted` (SQL over _ev_pairs e) the model's call; a pair never proposed is a no."""
    tp, fp, fn, tn = con.execute(f"""
        WITH x AS (
            SELECT l.is_match, coalesce({predicted}, false) AS predicted
            FROM _ev_labels l LEFT JOIN _ev_pairs e USING (record_id_l, record_id_r)
            WHERE l.record_id_l IN (SELECT record_id FROM linked.persons)
              AND l.record_id_r IN (SELECT record_id FROM linked.persons))
        SELECT count(*) FILTER (WHERE predicted AND is_match),
               count(*) FILTER (WHERE predicted AND NOT is_match),
               count(*) FILTER (WHERE NOT predicted AND is_match),
               count(*) FILTER (WHERE NOT predicted AND NOT is_match) FROM x""").fetchall()[0]
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "f1": _f1(precision, recall)}


def evaluate_labels(con: duckdb.DuckDBPyConnection, config: LinkageConfig, db: Path,
                    labels: Path | None = None, draws: int = DRAWS, seed: int = 0) -> dict:
    """Precision and recall of the linked persons (pairwise) estimated from reviewers' labels:
    `labels` a CSV (record_id_l, record_id_r, decision) or a decisions store; by default the
    warehouse's own decisions store."""
    edges = band_edges(config)
    build_pairs(con, edges)
    info = load_labels(con, config, db, labels)
    (labelled, matches, applied, unknown, not_proposed,
     not_proposed_matches) = con.execute("""
        WITH l AS (
            SELECT l.*, e.record_id_l IS NOT NULL AS proposed,
                   l.record_id_l IN (SELECT record_id FROM linked.persons)
                   AND l.record_id_r IN (SELECT record_id FROM linked.persons) AS known
            FROM _ev_labels l LEFT JOIN _ev_pairs e USING (record_id_l, record_id_r))
        SELECT count(*), count(*) FILTER (WHERE is_match), count(*) FILTER (WHERE applied),
               count(*) FILTER (WHERE NOT known),
               count(*) FILTER (WHERE known AND NOT proposed),
               count(*) FILTER (WHERE known AND NOT proposed AND is_match) FROM l""") \
        .fetchall()[0]
    info.update({"labels": labelled, "match": matches, "no_match": labelled - matches,
                 "applied_by_the_run": applied, "naming_records_not_in_warehouse": unknown,
                 "on_pairs_never_proposed": not_proposed,
                 "never_proposed_but_match": not_proposed_matches})
    strata = _strata(con, edges)
    fallback = con.execute("SELECT avg(p) FROM _ev_pairs WHERE linked").fetchall()[0][0]
    sample = _draw(strata, fallback if fallback is not None else 1.0, draws, seed)
    linked = np.array([s.linked for s in strata], dtype=bool)
    estimate = _estimate(strata, sample, linked, not_proposed_matches)
    estimate["model_based_strata"] = [s.name for s in strata if s.basis == "model"]
    thresholds = []
    for k, edge in enumerate(edges[:-1]):
        if k == 0:
            continue
        keep = np.array([s.band is not None and s.band >= k for s in strata], dtype=bool)
        row = {"threshold": edge,
               "labelled": _confusion(con, f"e.p >= {edge!r}"),
               "estimated": _estimate(strata, sample, keep, not_proposed_matches)}
        thresholds.append(row)
    assumptions = [
        "labelled pairs stand for the unlabelled pairs of their stratum as if drawn at random "
        "(true of `famlink review sample`; queue decisions lean towards the link threshold)",
        "true matches that blocking never proposed are counted only where a reviewer "
        "labelled one: recall is over the pairs the run scored or linked",
    ]
    if applied:
        assumptions.append(
            f"{applied} labels were applied by the current run (must-link / cannot-link): they "
            f"count as known pairs but do not speak for the other pairs of their stratum; "
            f"label a fresh sample and evaluate before the next `famlink link`")
    for s in strata:
        if s.basis == "model":
            whose = ("the model's own mean match probability of its pairs" if s.band is not None
                     else "the model's mean match probability of the scored pairs it linked")
            assumptions.append(
                f"stratum {s.name} has no usable labels: its {s.unlabelled:,} unlabelled pairs "
                f"are assumed to match at {whose} ({s.share:.4f}); this part of the estimate "
                f"is model-based, not label-based, and its interval leaves out the model's "
                f"own error")
    spread = [(s.est_matches_ci[1] - s.est_matches_ci[0], s.name) for s in strata
              if s.est_matches_ci and s.basis == "labels"]
    if spread and max(spread)[0] > 0:
        estimate["widest_stratum"] = max(spread)[1]  # where more labels help most
    fields = ("name", "band", "linked", "pairs", "labelled", "labelled_matches", "usable",
              "usable_matches", "mean_probability", "share", "share_ci", "basis",
              "est_matches", "est_matches_ci")
    return {
        "method": "stratified by match-probability band and linked or not; Wilson share per "
                  "stratum; parametric bootstrap over the shares for the intervals",
        "confidence": 0.95, "draws": draws, "seed": seed,
        "bands": [band_name(edges, b) for b in range(len(edges) - 1)],
        "labels": info,
        "strata": [{k: asdict(s)[k] for k in fields} for s in strata],
        "pairwise": estimate,
        "confusion": {**_confusion(con, "e.linked"), "applied_by_the_run": applied},
        "thresholds": thresholds,
        "assumptions": assumptions,
    }


# ---------------------------------------------------------------------------------------------
# a sample to label


def sample_for_review(con: duckdb.DuckDBPyConnection, config: LinkageConfig, db: Path,
                      per_band: int, seed: int = 0) -> list[dict]:
    """A stratified random sample for liaisons to label: up to `per_band` pairs of each
    stratum (the strata `evaluate_labels` estimates in), drawn by a seeded hash so the same
    seed gives the same sample. Pairs already labelled match / no match are left out (they
    are known); each row holds what `famlink review import` reads back, the stratum, and
    the reviewer's fields of both records (SSNs masked, as in the queue)."""
    edges = band_edges(config)
    build_pairs(con, edges)
    load_latest(con, decisions_path(db, config.review.decisions_file), "_ev_decided")
    rows = con.execute(f"""
        SELECT record_id_l, record_id_r, band, linked, p FROM _ev_pairs e
        WHERE NOT EXISTS (SELECT 1 FROM _ev_decided d
                          WHERE d.record_id_l = e.record_id_l AND d.record_id_r = e.record_id_r
                            AND d.decision IN ('match', 'no_match'))
        QUALIFY row_number() OVER (
            PARTITION BY band, linked
            ORDER BY md5({literal(str(seed))} || '|' || record_id_l || '|' || record_id_r),
                     record_id_l, record_id_r) <= {int(per_band)}
        ORDER BY band NULLS LAST, linked, record_id_l, record_id_r""").fetchall()
    records = review_records(con, [r for row in rows for r in row[:2]])
    out = []
    for left, right, band, linked, p in rows:
        row = dict.fromkeys(IMPORT_COLUMNS, "")
        row.update(record_id_l=left, record_id_r=right,
                   stratum=f"{band_name(edges, band)} {'linked' if linked else 'not linked'}",
                   match_probability="" if p is None else f"{p:.4f}",
                   linked_now="yes" if linked else "no")
        for side, rid in (("l", left), ("r", right)):
            shown = records.get(rid, {})
            for field in FIELDS:
                value = shown.get(field)
                if value is not None and not isinstance(value, str | int | float):
                    value = ";".join(map(str, value))  # a record's cases and households
                row[f"{field}_{side}"] = "" if value is None else value
        out.append(row)
    return out


def write_sample(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0]) if rows else [*IMPORT_COLUMNS, "stratum"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
