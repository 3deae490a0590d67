"""`famlink link`: train or reuse the model, score the candidate pairs, cluster them into
persons with stable ids and queue the uncertain pairs for review.

Two rounds: the first scores pairs on the records alone; its confident links become the
household evidence of the second (`linkage.link.household`), which adds a comparison and
re-estimates the model. Reviewer decisions then constrain the clustering.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from linkage.engines import pair_engine
from linkage.link.blocking import build_candidates
from linkage.link.clustering import build_clusters
from linkage.link.em import Model
from linkage.link.explain import explain, model_spec, pooled_notes, waterfall_spec, write_charts
from linkage.link.household import add_household_evidence, has_households
from linkage.link.records import build_records
from linkage.link.scoring import score, score_other_pairs, train
from linkage.link.settings import LINKAGE_CONFIG, LinkageConfig, check_sql
from linkage.link.vectors import Scheme, build_sample, build_vectors, scheme_of
from linkage.review.decisions import decisions_path, latest_seq, load_latest
from linkage.review.queue import build_queue
from linkage.stable_ids import assign_person_ids

Progress = Callable[[str], None]


@dataclass
class LinkSummary:
    run_id: str
    engine: str = "duckdb"  # where the pair work ran (configs/linkage.yaml, engine.name)
    records: int = 0
    candidates: dict[str, int] = field(default_factory=dict)
    model_reused: bool = False
    # candidate pairs EM could learn from, when fewer than training.min_candidate_pairs: the
    # run's model is untrained (nothing links, every candidate pair is queued)
    too_few_pairs: int | None = None
    em_iterations: list[int] = field(default_factory=list)
    # "comparison.level" -> the closer level it was pooled with: levels the data weighed out
    # of order (linkage.link.em.ordered_m), reported so an analyst can look at their
    # definitions
    pooled_levels: dict[str, str] = field(default_factory=dict)
    clustering: dict[str, int] = field(default_factory=dict)
    persons: dict[str, int] = field(default_factory=dict)
    decisions: int = 0  # reviewer decisions applied (match, no_match) on records present
    # the decision store's mark when the run started: it applied the decisions up to it
    decisions_as_of: int = 0
    queued: int = 0
    charts: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def model_key(config: LinkageConfig) -> str:
    """What a saved model depends on: a change to any of it means training again."""
    parts = config.model_dump(include={"records", "blocking", "comparisons", "household",
                                       "training"})
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _saved_models(con: duckdb.DuckDBPyConnection, key: str) -> list[Model] | None:
    """The latest model saved under `key` that learnt something: an untrained one (a run with
    too few pairs) explains its own run's scores but is never reused."""
    rows = con.execute("SELECT rounds FROM linked.model WHERE model_key = ? "
                       "ORDER BY saved_at DESC", [key]).fetchall()
    for (rounds,) in rows:
        models = [Model.from_dict(r) for r in json.loads(rounds)]
        if all(m.trained for m in models):
            return models
    return None


def load_model(con: duckdb.DuckDBPyConnection) -> list[Model]:
    """The latest saved model's rounds (for explanations)."""
    row = con.execute("SELECT rounds FROM linked.model ORDER BY saved_at DESC LIMIT 1") \
        .fetchall()
    if not row:
        raise LookupError("no trained model in the warehouse: run `famlink link` first")
    return [Model.from_dict(r) for r in json.loads(row[0][0])]


def link(con: duckdb.DuckDBPyConnection, db: Path, config: LinkageConfig,
         config_path: Path = LINKAGE_CONFIG, retrain: bool = False,
         progress: Progress | None = None, decisions: Path | None = None,
         decisions_as_of: int | None = None, reports: Path | None = None) -> LinkSummary:
    """Link the warehouse `db` (open as `con`). Reviewer decisions come from `decisions`
    (default: the configured file beside `db`) as they were at `decisions_as_of` (a mark of
    the store, taken when a nightly run started; default: all of them); the run's page goes
    to `reports` (default: reports/ beside `db`)."""
    run_id = datetime.now().strftime("%Y%m%dT%H%M%S")
    summary = LinkSummary(run_id, config.engine.name)
    decisions = decisions or decisions_path(db, config.review.decisions_file)
    # taken now: a decision recorded while the run works waits for the next run
    summary.decisions_as_of = latest_seq(decisions) if decisions_as_of is None \
        else decisions_as_of
    clock = [time.perf_counter()]

    def step(name: str, message: str) -> None:
        now = time.perf_counter()
        summary.seconds[name] = round(now - clock[0], 2)
        clock[0] = now
        if progress:
            progress(message)

    con.execute("CREATE SCHEMA IF NOT EXISTS linked")
    check_sql(con, config, config_path)
    con.execute("CREATE TABLE IF NOT EXISTS linked.model (saved_at TIMESTAMP, model_key "
                "VARCHAR, rounds JSON)")
    key = model_key(config)
    saved = None if retrain else _saved_models(con, key)
    summary.model_reused = saved is not None
    summary.records = build_records(con, config)
    load_latest(con, decisions, as_of=summary.decisions_as_of)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _decided AS
        SELECT a.rid AS rid_l, b.rid AS rid_r, d.decision FROM _decisions d
        JOIN linked.records a ON a.record_id = d.record_id_l
        JOIN linked.records b ON b.record_id = d.record_id_r
        WHERE d.decision IN ('match', 'no_match')""")
    summary.decisions = con.execute("SELECT count(*) FROM _decided").fetchall()[0][0]
    step("records", "finding candidate pairs")
    with pair_engine(con, config, db) as engine:
        rounds = _pairs_to_clusters(engine, config, saved, summary, step)
    if saved is None:
        con.execute("INSERT INTO linked.model VALUES (now(), ?, ?)",
                    [key, json.dumps([m.to_dict() for m in rounds])])
    summary.persons = assign_person_ids(con, run_id)
    step("ids", "queueing uncertain pairs for review")
    summary.queued = build_queue(con, config)
    step("queue", "drawing the run's charts")
    summary.charts = str(run_charts(con, config, rounds[-1],
                                    reports or Path(db).resolve().parent / "reports", run_id))
    step("charts", "done")
    con.execute("""
        CREATE TABLE IF NOT EXISTS linked.runs (run_id VARCHAR, finished_at TIMESTAMP,
                                                summary JSON)""")
    con.execute("INSERT INTO linked.runs VALUES (?, now(), ?)",
                [run_id, json.dumps(summary.__dict__)])
    return summary


def _pairs_to_clusters(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
                       saved: list[Model] | None, summary: LinkSummary,
                       step: Callable[[str, str], None]) -> list[Model]:
    """The pair work, on the configured engine's connection `con`: candidates, comparison
    vectors, training (or the `saved` model), scoring, household evidence and clusters, into
    linked.candidates, .vectors, .pairs and .clusters. Returns the model of each round."""
    summary.candidates = build_candidates(con, config)
    step("blocking", "comparing candidate pairs")
    build_vectors(con, config)
    sample_weight = build_sample(con, config) if saved is None else 0.0
    step("comparing", "training the model" if saved is None else "scoring with the saved model")
    scheme = scheme_of(config)
    learnable = con.execute("SELECT count(*) FROM linked.vectors WHERE NOT apart") \
        .fetchall()[0][0]
    if saved is None and learnable < config.training.min_candidate_pairs:
        summary.too_few_pairs = learnable

    def fit_round(scheme: Scheme, fixed: Model | None = None) -> Model:
        if summary.too_few_pairs is not None:
            return Model.untrained(scheme.names, scheme.labels)
        return train(con, scheme, config, sample_weight, fixed=fixed)

    rounds: list[Model] = []
    first = saved[0] if saved else fit_round(scheme)
    rounds.append(first)
    score(con, scheme, first, config)
    step("round_1", "household evidence")
    if config.household.enabled and has_households(con, config):
        summary.candidates["household"] = add_household_evidence(con, config)
        scheme = scheme.with_household(config.household.exclusive)
        second = saved[1] if saved and len(saved) > 1 else fit_round(scheme, first)
        rounds.append(second)
        score(con, scheme, second, config)
        step("round_2", "clustering")
    summary.em_iterations = [m.iterations for m in rounds]
    summary.pooled_levels = {f"{c.name}.{level}": closer for c in rounds[-1].comparisons
                             for level, closer in c.pooled.items()}
    summary.clustering = build_clusters(
        con, config, "_decided",
        lambda pairs, out: score_other_pairs(con, scheme, rounds[-1], config, pairs, out))
    step("clustering", "assigning stable person ids")
    return rounds


def run_charts(con: duckdb.DuckDBPyConnection, config: LinkageConfig, model: Model,
               reports: Path, run_id: str, pairs: int = 12) -> Path:
    """The run's charts beside the warehouse: which levels the data weighed out of order, what
    each comparison level weighs, and the waterfall of the first pairs in the review
    queue."""
    queued = con.execute(f"SELECT record_id_l, record_id_r FROM review.queue "
                         f"ORDER BY position LIMIT {pairs}").fetchall()
    specs = [model_spec(model)] + [waterfall_spec(explain(con, config, model, left, right))
                                   for left, right in queued]
    path = reports / f"link-{run_id}.html"
    untrained = [] if model.trained else [
        "This run's model is untrained: its records held fewer candidate pairs than "
        "training.min_candidate_pairs, too few to learn from. No pair links on its score and "
        "every candidate pair is in the review queue."]
    return write_charts(path, f"famlink link run {run_id}", specs,
                        untrained + pooled_notes(model))
