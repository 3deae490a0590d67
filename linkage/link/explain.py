"""Why the model thinks two records are (not) the same person: the match weight each
comparison adds (a waterfall, as Splink draws it), from Python and as charts for the run.

The charts are Vega-Lite specs in an HTML page; the JavaScript that draws them ships inside
famlink (linkage/assets/vega, with its licence), written once beside the pages, so they open
offline. Everything a page shows from the data (record ids come from agencies' files) is
escaped: a record id is text, never markup or script.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from linkage.link.em import Model
from linkage.link.scoring import tf_adjustment, tf_floor
from linkage.link.settings import LinkageConfig
from linkage.link.vectors import scheme_of, vectors_sql
from linkage.warehouse import literal, table_exists


@dataclass
class Step:
    """One bar of the waterfall."""

    comparison: str
    level: str
    weight: float  # log2 Bayes factor added by this step
    detail: str = ""


@dataclass
class Explanation:
    record_id_l: str
    record_id_r: str
    steps: list[Step]
    # present in one case or household at the same time: two people, never merged
    apart: bool = False

    @property
    def match_weight(self) -> float:
        return sum(step.weight for step in self.steps)

    @property
    def match_probability(self) -> float:
        return 1 / (1 + 2 ** -self.match_weight)


def explain(con: duckdb.DuckDBPyConnection, config: LinkageConfig, model: Model,
            record_id_l: str, record_id_r: str) -> Explanation:
    """The waterfall of one pair, scored or not (a pair blocking never proposed is compared
    now, without household evidence)."""
    rids = dict(con.execute(
        f"SELECT record_id, rid FROM linked.records WHERE record_id IN "
        f"({literal(record_id_l)}, {literal(record_id_r)})").fetchall())
    for record in (record_id_l, record_id_r):
        if record not in rids:
            raise LookupError(f"no record {record} in linked.records (run `famlink link`)")
    lo, hi = sorted((rids[record_id_l], rids[record_id_r]))
    if not table_exists(con, "linked.tf_agreement"):
        raise LookupError("this warehouse was linked by an older famlink: run `famlink link`")
    bases = dict(con.execute("SELECT tf_column, agreement FROM linked.tf_agreement").fetchall())
    values = _row(con, f"SELECT * FROM linked.vectors WHERE rid_l = {lo} AND rid_r = {hi}")
    if values is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pair AS SELECT {lo} AS rid_l, "
                    f"{hi} AS rid_r, 'not a candidate' AS rule")
        values = _row(con, vectors_sql(con, config, "_pair"))
        con.execute("DROP TABLE _pair")
    scheme = scheme_of(config)
    steps = [Step("prior", "chance two records match", model.prior_weight(),
                  f"lambda = {model.match_share:.3g}")]
    for comp in model.comparisons:
        level = values.get(f"g_{comp.name}")
        if level is None or level < 0:
            steps.append(Step(comp.name, "no evidence", 0.0, "a value is missing"))
            continue
        level = int(level)
        steps.append(Step(comp.name, comp.labels[level], float(comp.weights()[level]),
                          f"m = {comp.m[level]:.3g}, u = {comp.u[level]:.3g}"))
        if comp.name in scheme.tf_levels:
            tf = values.get(f"tf_{comp.name}")
            if tf is not None and model.trained:
                column = scheme.tf_levels[comp.name][1]
                base = bases[column]
                adjust = tf_adjustment(base, tf, tf_floor(scheme, model, comp.name),
                                       config.training.tf_min_share)
                steps.append(Step(f"{comp.name} (term frequency)", "how rare the value is",
                                  adjust, f"{tf:.3g} of records share it"))
    return Explanation(record_id_l, record_id_r, steps, bool(values.get("apart")))


def _row(con: duckdb.DuckDBPyConnection, sql: str) -> dict | None:
    cursor = con.execute(sql)
    rows = cursor.fetchall()
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True)) if rows else None


def waterfall_spec(explanation: Explanation) -> dict:
    """A Vega-Lite waterfall: each step's bar starts where the previous ended."""
    rows, total = [], 0.0
    for i, step in enumerate(explanation.steps):
        rows.append({"order": i, "step": f"{step.comparison}: {step.level}",
                     "start": total, "end": total + step.weight,
                     "weight": round(step.weight, 2), "detail": step.detail})
        total += step.weight
    rows.append({"order": len(rows), "step": "final match weight", "start": 0, "end": total,
                 "weight": round(total, 2),
                 "detail": f"probability {explanation.match_probability:.4f}"})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"{explanation.record_id_l} vs {explanation.record_id_r}",
        "width": 420, "data": {"values": rows},
        "mark": "bar",
        "encoding": {
            "y": {"field": "step", "type": "nominal", "sort": {"field": "order"},
                  "title": None},
            "x": {"field": "start", "type": "quantitative", "title": "match weight (bits)"},
            "x2": {"field": "end"},
            "color": {"condition": {"test": "datum.weight < 0", "value": "#c0392b"},
                      "value": "#2e86c1"},
            "tooltip": [{"field": "step"}, {"field": "weight"}, {"field": "detail"}]}}


def model_spec(model: Model) -> dict:
    """Every level's match weight, per comparison: what the model learned."""
    rows = [{"comparison": c.name, "level": label, "weight": round(float(w), 2),
             "m": c.m[i], "u": c.u[i]}
            for c in model.comparisons for i, (label, w) in enumerate(
                zip(c.labels, c.weights(), strict=True))]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Match weight of each comparison level", "data": {"values": rows},
        "facet": {"row": {"field": "comparison", "title": None}},
        "spec": {"width": 420, "mark": "bar", "encoding": {
            "y": {"field": "level", "type": "nominal", "sort": None, "title": None},
            "x": {"field": "weight", "type": "quantitative", "title": "match weight (bits)"},
            "color": {"condition": {"test": "datum.weight < 0", "value": "#c0392b"},
                      "value": "#2e86c1"},
            "tooltip": [{"field": "level"}, {"field": "weight"}, {"field": "m"},
                        {"field": "u"}]}},
        "resolve": {"scale": {"y": "independent"}}}


ASSETS = Path(__file__).resolve().parents[1] / "assets" / "vega"
VEGA = ("vega-5.31.0.js", "vega-lite-5.2.0.js", "vega-embed-6.20.2.js")
# beside the pages, written once; named for its versions, so an older bundle is never reused
SCRIPT = "vega-bundle-" + "-".join(name.removesuffix(".js") for name in VEGA) + ".js"


def _script(folder: Path) -> None:
    """Vega, Vega-Lite and vega-embed, in one file beside the pages."""
    target = folder / SCRIPT
    if target.exists():
        return
    target.write_text("\n".join((ASSETS / name).read_text(encoding="utf-8") for name in VEGA),
                      encoding="utf-8")


def _script_json(value: object) -> str:
    """JSON to place inside a <script> element: no text in it can close the element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def pooled_notes(model: Model) -> list[str]:
    """One sentence per block of levels the data weighed out of their order (a looser level
    above a closer one), which training then pooled into one weight (see
    linkage.link.em.ordered_m)."""
    notes = []
    for c in model.comparisons:
        blocks: dict[str, list[str]] = {}
        for level, closer in c.pooled.items():
            blocks.setdefault(closer, [closer]).append(level)
        for closer, levels in blocks.items():
            weight = c.weights()[c.labels.index(closer)]
            notes.append(f"{c.name}: the levels {', '.join(levels)} came out of their order in "
                         f"the data (a looser level weighing more than a closer one); training "
                         f"gave them one weight, {weight:+.1f} bits. Their definitions may "
                         f"overlap, or few pairs reach them.")
    return notes


def write_charts(path: Path, title: str, specs: list[dict], notes: list[str] = ()) -> Path:
    """An HTML page drawing `specs`, after `notes` (plain text, one paragraph each), with the
    drawing code in a file beside it (the page opens offline; keep the two together when
    moving it)."""
    divs = "\n".join(f'<div id="c{i}"></div>' for i in range(len(specs)))
    embeds = "\n".join(f"vegaEmbed('#c{i}', {_script_json(spec)});"
                       for i, spec in enumerate(specs))
    paragraphs = "".join(f"<p>{html.escape(note)}</p>\n" for note in notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    _script(path.parent)
    path.write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<script src="{SCRIPT}"></script></head>
<body><h1>{html.escape(title)}</h1>
{paragraphs}{divs}
<script>{embeds}</script></body></html>
""", encoding="utf-8")
    return path
