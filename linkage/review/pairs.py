"""Queued pairs as a reviewer sees them: both records side by side in plain words, why the
model scored them as it did, and the household members whose links made the score.

The web page (`famlink serve`, /review) and `famlink review queue` both build a pair here, for
a viewer (linkage.access.settings.Access): a record the viewer may not know of is not shown
at all, a field they may not see is never fetched into what they are shown, and evidence the
model drew from such fields is told only as one combined step (saying "the addresses agree"
would tell a CS liaison an HMIS client's address).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from linkage.access.records import records_view
from linkage.access.settings import SYSTEMS, Access, User, load_access_config
from linkage.link.em import Model
from linkage.link.explain import Explanation, Step, explain, waterfall_spec
from linkage.link.settings import LinkageConfig
from linkage.review import wording
from linkage.warehouse import literal

# What a reviewer's spreadsheet (`famlink review sample`) shows of a record; SSNs last four only.
FIELDS = ("system", "first_name_raw", "middle_name_raw", "last_name_raw", "suffix", "dob",
          "ssn_masked", "sex", "address_street", "city", "zip5", "groups")

# The field groups of configs/access.yaml each comparison reads: its evidence is told only to
# a viewer who sees those groups of both records. A comparison added to configs/linkage.yaml
# and not listed here is told only to viewers who see everything.
COMPARISON_GROUPS = {"first_name": ("identity",), "last_name": ("identity",),
                     "middle_name": ("identity",), "dob": ("identity",), "sex": ("identity",),
                     "suffix": ("identity",), "ssn": ("ssn",), "address": ("address",),
                     "twin": ("identity", "cases"), "household": ("cases",)}
ALL_GROUPS = ("identity", "ssn", "address", "cases")
HIDDEN_EVIDENCE = "Evidence from details your agency's data-sharing agreement does not show you"


def command_line_access() -> Access:
    """What `famlink review queue` shows: a liaison's view of every agency (all of each
    record, SSNs as their last four digits). Whoever runs the command can read the warehouse
    file anyway; the point is the same wording and masking as the web page."""
    return Access(load_access_config(), User("command line", "liaison", SYSTEMS))


@dataclass(frozen=True)
class QueueEntry:
    pair_id: str
    position: int
    probability: float
    urgent: bool
    record_id_l: str
    record_id_r: str

    @property
    def words(self) -> str:
        return wording.probability_words(self.probability)


@dataclass(frozen=True)
class Evidence:
    """One step of the explanation as the viewer may read it."""

    sentence: str
    weight: float
    label: str  # the sentence without its strength: the chart's bar


@dataclass
class PairView:
    entry: QueueEntry
    left: dict
    right: dict
    rows: list[wording.FieldRow]
    evidence: list[Evidence]
    household: list[str]
    spec: dict
    apart: bool
    views: dict[str, dict] = field(default_factory=dict)


_QUEUE = """
    SELECT q.pair_id, q.position, q.match_probability, q.urgent, q.record_id_l, q.record_id_r,
           count(*) OVER () AS total
    FROM review.queue q
    WHERE q.system_l IN (SELECT unnest($systems::VARCHAR[]))
      AND q.system_r IN (SELECT unnest($systems::VARCHAR[]))
      AND [q.record_id_l, q.record_id_r] NOT IN (SELECT unnest($settled::VARCHAR[][]))
      AND q.position > $after
    ORDER BY q.position LIMIT $limit OFFSET $offset"""


def queue_entries(con: duckdb.DuckDBPyConnection, access: Access,
                  settled: list[list[str]], limit: int, offset: int = 0,
                  after: int = 0) -> tuple[list[QueueEntry], int]:
    """A page of the queue in its order (open child-welfare cases first) and how many pairs
    it holds in all, for `access`: pairs with a record of a system the viewer may not know
    of are left out, and so are `settled` pairs (a reviewer decided match or no match since
    the queue was built; see linkage.review.queue.settled_pairs). `after` skips the pairs up
    to that queue position (the next pair after the one just decided)."""
    systems = [s for s in SYSTEMS if access.sees(s, "exists")]
    rows = con.execute(_QUEUE, {"systems": systems, "settled": settled, "after": after,
                                "limit": limit, "offset": offset}).fetchall()
    total = rows[0][-1] if rows else 0
    return [QueueEntry(*row[:-1]) for row in rows], total


def find_entry(con: duckdb.DuckDBPyConnection, pair_id: str) -> QueueEntry | None:
    rows = con.execute("SELECT pair_id, position, match_probability, urgent, record_id_l, "
                       "record_id_r FROM review.queue WHERE pair_id = ?",
                       [pair_id.upper()]).fetchall()
    return QueueEntry(*rows[0]) if rows else None


def resolve_pair(con: duckdb.DuckDBPyConnection, pair: str) -> tuple[str, str]:
    """A queue pair id, or two record ids joined by a comma -> the two record ids."""
    if "," in pair:
        left, right = (part.strip() for part in pair.split(",", 1))
        return tuple(sorted((left, right)))  # type: ignore[return-value]
    entry = find_entry(con, pair)
    if entry is None:
        raise LookupError(f"no pair {pair} in the review queue (ids change only when the "
                          f"queue is rebuilt by `famlink link`)")
    return entry.record_id_l, entry.record_id_r


def review_records(con: duckdb.DuckDBPyConnection, record_ids: list[str]) -> dict[str, dict]:
    """Records as a reviewer's spreadsheet shows them, by record id, fetched in one query (a
    sample for review asks for hundreds). Only `FIELDS` are for showing: the rest of the dict
    is the staged row. Rows are read as Python values, never through pandas: a list column
    (the parts of a hyphenated surname) is a value like any other."""
    if not record_ids:
        return {}
    wanted = ", ".join(literal(r) for r in sorted(set(record_ids)))
    result = con.execute(f"""
        SELECT p.* REPLACE (p.dob::VARCHAR AS dob), '***-**-' || p.ssn_last4 AS ssn_masked,
               (SELECT list(DISTINCT m.group_key ORDER BY m.group_key)
                FROM linked.memberships m WHERE m.rid = r.rid) AS groups
        FROM staged.person_records p JOIN linked.records r USING (record_id)
        WHERE record_id IN ({wanted})""")
    names = [column[0] for column in result.description]
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    return {row["record_id"]: row for row in rows}


# ---------------------------------------------------------------------------------------------
# the pair


def pair_view(con: duckdb.DuckDBPyConnection, config: LinkageConfig, model: Model,
              access: Access, entry: QueueEntry) -> PairView | None:
    """The pair as `access` may see it, or None if the viewer may not know of a record."""
    left_id, right_id = entry.record_id_l, entry.record_id_r
    views = records_view(con, access, [left_id, right_id])
    if left_id not in views or right_id not in views:
        return None
    left, right = views[left_id], views[right_id]
    systems = (left["system"], right["system"])
    explanation = explain(con, config, model, left_id, right_id)
    steps = _visible_steps(explanation, access, systems)
    household = []
    if _told(access, systems, "household"):
        links = household_links(con, config, left_id, right_id)
        member_ids = [m for link in links for m in (link.member_l, link.member_r)]
        views |= records_view(con, access, [m for m in member_ids if m not in views])
        household = [_household_sentence(link, views, access, left_id, right_id)
                     for link in links]
    spec = waterfall_spec(Explanation(left_id, right_id, [Step(s.label, "", s.weight)
                                                          for s in steps if s.weight]))
    spec["encoding"]["y"]["axis"] = {"labelLimit": 520}
    for row in spec["data"]["values"]:  # each bar is one phrase, with no level after it
        row["step"] = row["step"].removesuffix(": ")
    return PairView(entry, left, right, wording.field_rows(left, right), steps, household,
                    spec, explanation.apart, views)


def _told(access: Access, systems: tuple[str, str], comparison: str) -> bool:
    groups = COMPARISON_GROUPS.get(comparison.removesuffix(wording.TERM_FREQUENCY),
                                   ALL_GROUPS)
    return all(access.sees(system, group) for system in systems for group in groups)


def _visible_steps(explanation: Explanation, access: Access,
                   systems: tuple[str, str]) -> list[Evidence]:
    """Each step in words, those drawn from fields the viewer may not see summed into one."""
    shown, hidden, missing = [], 0.0, []
    for step in explanation.steps:
        if step.comparison != "prior" and not _told(access, systems, step.comparison):
            hidden += step.weight
        elif wording.is_missing(step.comparison, step.level) and not step.weight:
            missing.append(step.comparison)
        else:
            shown.append(Evidence(wording.step_sentence(step.comparison, step.level,
                                                        step.weight), step.weight,
                                  wording.step_words(step.comparison, step.level)))
    if hidden:
        shown.append(Evidence(f"{HIDDEN_EVIDENCE}: {wording.strength(hidden)}", hidden,
                              HIDDEN_EVIDENCE))
    if missing:
        sentence = wording.missing_sentence(missing)
        shown.append(Evidence(sentence, 0.0, sentence))
    return shown


# ---------------------------------------------------------------------------------------------
# household evidence


@dataclass(frozen=True)
class HouseholdLink:
    """Two members of the pair's groups that tie them: `kind` "linked" (a confident link of
    the model) or "signature" (the family signature: same birth date and sex where nothing
    else compares them), as linkage.link.household counts them."""

    kind: str
    group_l: str
    member_l: str
    group_r: str
    member_r: str


def household_links(con: duckdb.DuckDBPyConnection, config: LinkageConfig, left: str,
                    right: str) -> list[HouseholdLink]:
    """The links between the members of `left`'s groups and those of `right`'s that make the
    household level (linkage.link.household): confident links between members of groups of
    2 to `max_group_size` members, and members agreeing on the family signature. Read from
    the final links, so a link the first round had not yet made can show here too."""
    hh = config.household
    rids = dict(con.execute("SELECT record_id, rid FROM linked.records WHERE record_id IN "
                            "(?, ?)", [left, right]).fetchall())
    params = {"l": rids[left], "r": rids[right], "max": hh.max_group_size,
              "conf": hh.confidence}
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _review_members AS
        WITH groups AS (
            SELECT gid FROM linked.memberships WHERE gid IN (
                SELECT gid FROM linked.memberships WHERE rid IN ($l, $r))
            GROUP BY gid HAVING count(DISTINCT rid) BETWEEN 2 AND $max)
        SELECT DISTINCT m.rid, m.gid, m.group_key,
               m.gid IN (SELECT gid FROM linked.memberships WHERE rid = $l) AS side_l,
               m.gid IN (SELECT gid FROM linked.memberships WHERE rid = $r) AS side_r
        FROM linked.memberships m JOIN groups USING (gid)""",
                {k: params[k] for k in ("l", "r", "max")})
    linked = con.execute("""
        WITH links AS (
            SELECT rid_l AS x, rid_r AS y FROM linked.pairs
            WHERE match_probability >= $conf AND NOT apart
              AND rid_l IN (SELECT rid FROM _review_members)
              AND rid_r IN (SELECT rid FROM _review_members))
        SELECT DISTINCT 'linked', a.group_key, ra.record_id, b.group_key, rb.record_id
        FROM (SELECT x, y FROM links UNION ALL SELECT y, x FROM links) l
        JOIN _review_members a ON a.rid = l.x AND a.side_l
        JOIN _review_members b ON b.rid = l.y AND b.side_r
        JOIN linked.records ra ON ra.rid = l.x
        JOIN linked.records rb ON rb.rid = l.y
        WHERE NOT (l.x = $l AND l.y = $r) AND a.gid <> b.gid
        ORDER BY ALL""", {k: params[k] for k in ("l", "r", "conf")}).fetchall()
    found = [HouseholdLink(*row) for row in linked]
    found += [link for link in _signature_links(con, config, params)
              if (link.member_l, link.member_r) not in {(f.member_l, f.member_r)
                                                         for f in found}]
    con.execute("DROP TABLE _review_members")
    return found


def _signature_links(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
                     params: dict) -> list[HouseholdLink]:
    """Other members of the two sides' groups that agree on the family signature
    (configs/linkage.yaml household.signature and signature_pairs)."""
    hh = config.household
    if not hh.signature or not hh.signature_pairs:
        return []
    keys = ", ".join(f"({expr}) AS k{i}" for i, expr in enumerate(hh.signature))
    sides = ", ".join(f"({p.left}) AS left{j}, ({p.right}) AS right{j}"
                      for j, p in enumerate(hh.signature_pairs))
    agree = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(hh.signature)))
    either = " OR ".join(f"(a.left{j} AND b.right{j}) OR (a.right{j} AND b.left{j})"
                         for j in range(len(hh.signature_pairs)))
    rows = con.execute(f"""
        WITH keyed AS (
            SELECT m.rid, m.gid, m.group_key, m.side_l, m.side_r, r.record_id, {keys}, {sides}
            FROM _review_members m JOIN linked.records r USING (rid)
            WHERE m.rid NOT IN ($l, $r))
        SELECT DISTINCT 'signature', a.group_key, a.record_id, b.group_key, b.record_id
        FROM keyed a JOIN keyed b ON a.side_l AND b.side_r AND a.gid <> b.gid AND {agree}
        WHERE {either}
        ORDER BY ALL""", {"l": params["l"], "r": params["r"]}).fetchall()
    return [HouseholdLink(*row) for row in rows]


def _member(record_id: str, views: dict[str, dict]) -> str:
    view = views.get(record_id)
    if view is None:
        return "a record you may not see"
    system = wording.SYSTEMS.get(view["system"], view["system"])
    name = wording.name_of(view)
    if name == wording.NO_NAME:
        return f"a {system} record with no name ({record_id})"
    if name == wording.NAME_HIDDEN:
        return f"a {system} record ({record_id})"
    return f"{name} ({system} record {record_id})"


def _household_sentence(link: HouseholdLink, views: dict[str, dict], access: Access,
                        left: str, right: str) -> str:
    """One household link in words, naming the members and groups as far as the viewer
    may see them."""
    group_l = wording.group_words(link.group_l, access.sees(
        wording.group_system(link.group_l), "cases"))
    group_r = wording.group_words(link.group_r, access.sees(
        wording.group_system(link.group_r), "cases"))
    x, y = _member(link.member_l, views), _member(link.member_r, views)
    if link.kind == "signature":
        return (f"{x} in {group_l} and {y} in {group_r} were born the same day and have the "
                f"same sex (nothing else compares them)")
    if link.member_l == left:
        return f"This pair's first record is already linked to {y}, another member of {group_r}"
    if link.member_r == right:
        return (f"This pair's second record is already linked to {x}, another member of "
                f"{group_l}")
    return f"{x} in {group_l} is linked to {y} in {group_r}"
