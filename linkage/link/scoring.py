"""Training and scoring over the comparison vectors.

Training reads only the distinct patterns and their counts (`linkage.link.em`). Scoring gives
every pattern its weight in Python (a few thousand rows) and joins it back to the pairs in
DuckDB, adding the term-frequency adjustments that depend on the agreed value.
"""

from __future__ import annotations

import duckdb
import numpy as np

from linkage.link.em import Model, fit, pattern_weights
from linkage.link.settings import LinkageConfig
from linkage.link.vectors import HOUSEHOLD, Scheme, vectors_sql
from linkage.warehouse import quote


def patterns(con: duckdb.DuckDBPyConnection, scheme: Scheme, table: str = "linked.vectors",
             where: str = "true") -> tuple[np.ndarray, np.ndarray]:
    """The distinct level patterns of `table` and how many pairs have each."""
    cols = ", ".join(scheme.column(n) for n in scheme.names)
    rows = con.execute(f"SELECT {cols}, count(*) FROM {table} WHERE {where} GROUP BY ALL "
                       f"ORDER BY ALL").fetchnumpy()
    data = [rows[k] for k in rows]
    return np.stack(data[:-1], axis=1).astype(np.int64), data[-1].astype(np.float64)


def train(con: duckdb.DuckDBPyConnection, scheme: Scheme, config: LinkageConfig,
          sample_weight: float, fixed: Model | None = None) -> Model:
    """EM over all pairs: the candidates as they are, plus the random sample of the other
    pairs, each sampled pair counting for `sample_weight` pairs. Candidates known to be two
    people (present in one case or household at the same time: twins, a father and his Jr)
    count among the non-matches, whatever they look like: they teach u what a family looks
    like, and cannot teach m that a sibling's other first name is common among matches."""
    cand, cand_counts = patterns(con, scheme, where="NOT apart")
    apart, apart_counts = patterns(con, scheme, where="apart")
    rest, rest_counts = patterns(con, scheme, "linked.sample_vectors")
    pats = np.concatenate([cand, apart, rest])
    counts = np.concatenate([cand_counts, apart_counts, rest_counts * sample_weight])
    t = config.training
    share = t.initial_match_share * cand_counts.sum() / counts.sum()
    known = np.concatenate([np.zeros(len(cand_counts), bool),
                            np.ones(len(apart_counts) + len(rest_counts), bool)])
    return fit(pats, counts, scheme.names, scheme.labels, max_iterations=t.max_iterations,
               tolerance=t.tolerance, match_share=share, best_m=t.initial_m_best_level,
               floor=t.min_probability, prior_pairs=t.prior_pairs,
               u_prior_pairs=t.prior_sampled_pairs * sample_weight, ranked=scheme.ranked(),
               anchor=t.m_anchor, fixed=fixed, non_match=known)


def tf_floor(scheme: Scheme, model: Model, name: str) -> float:
    """The lowest term-frequency adjustment of comparison `name`'s tf level: agreeing exactly
    on a common value (a surname thousands share, an SSN relatives share) may weigh less than
    on a rare one, but never less than the looser levels below it (an exact SSN never weighs
    less than a transposed one)."""
    level = scheme.tf_levels[name][0]
    c = scheme.names.index(name)
    weights = model.comparisons[c].weights()
    looser = [weights[j] for j, ranked in enumerate(scheme.ranked()[c])
              if ranked and j > level]
    return float(max(looser) - weights[level]) if looser else float("-inf")


def tf_adjustment(base: float, share: float, floor: float, min_share: float) -> float:
    """Extra weight of agreeing on a value that `share` of records hold: log2 of the chance that
    two random records agree on the column (`base`) over the chance that they agree on *this*
    value, no lower than `floor` (`tf_floor`)."""
    return max(float(np.log2(base / max(share, min_share))), floor)


def tf_adjustment_sql(con: duckdb.DuckDBPyConnection, scheme: Scheme, model: Model,
                      config: LinkageConfig) -> str:
    """`tf_adjustment` in SQL, summed over the comparisons with a tf level (none for a model
    that learnt nothing: a rare value alone must not link two records)."""
    if not model.trained:
        return "0"
    terms = []
    bases = dict(con.execute("SELECT tf_column, agreement FROM linked.tf_agreement").fetchall())
    for name, (_, column) in scheme.tf_levels.items():
        base = bases[column]
        if base > 0:
            tf = quote("tf_" + name)  # NULL unless the pair agrees at the tf level
            floor = tf_floor(scheme, model, name)
            adjust = (f"log2({base!r} / greatest({tf}, {config.training.tf_min_share!r}))")
            if np.isfinite(floor):
                adjust = f"greatest({adjust}, {floor!r})"
            terms.append(f"CASE WHEN {tf} IS NULL THEN 0 ELSE {adjust} END")
    return " + ".join(terms) or "0"


def score(con: duckdb.DuckDBPyConnection, scheme: Scheme, model: Model,
          config: LinkageConfig, vectors: str = "linked.vectors",
          out: str = "linked.pairs") -> None:
    """Write `out`: every pair of `vectors` with its match weight and probability."""
    pats, _ = patterns(con, scheme, vectors)
    weights = pattern_weights(model, pats)
    con.register("_pattern_weights", {f"g_{n}": pats[:, i].astype(np.int8)
                                      for i, n in enumerate(scheme.names)} | {"weight": weights})
    keys = ", ".join(scheme.column(n) for n in scheme.names)
    con.execute(f"""
        CREATE OR REPLACE TABLE {out} AS
        SELECT rid_l, rid_r, rule, apart, match_weight,
               1 / (1 + pow(2, -match_weight)) AS match_probability
        FROM (SELECT v.rid_l, v.rid_r, v.rule, v.apart,
                     w.weight + {tf_adjustment_sql(con, scheme, model, config)} AS match_weight
              FROM {vectors} v JOIN _pattern_weights w USING ({keys}))""")
    con.unregister("_pattern_weights")


def score_other_pairs(con: duckdb.DuckDBPyConnection, scheme: Scheme, model: Model,
                      config: LinkageConfig, pairs: str, out: str) -> None:
    """Score pairs that were never candidates (rid_l, rid_r in `pairs`) into `out`: compared
    now, with no household evidence."""
    household = ", -1::TINYINT AS g_household" if HOUSEHOLD in scheme.names else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _other_vectors AS "
                f"SELECT *{household} FROM ({vectors_sql(con, config, pairs)})")
    score(con, scheme, model, config, "_other_vectors", out)
    con.execute("DROP TABLE _other_vectors")
