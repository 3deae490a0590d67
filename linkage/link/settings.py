"""The linkage model's description (`configs/linkage.yaml`): how candidate pairs are found,
what is compared and at which levels, how the model is trained, which pairs may never be merged
and where the thresholds sit.

It only *describes* the job, as Splink's settings do; `linkage.link.*` turns it into SQL. A
level or rule is a SQL condition over the two records of a pair (`<column>_l`, `<column>_r`), so
an analyst can add one without code; `check_sql` proves each parses against the real columns.

Nothing here vetoes a pair on what its values look like (a twin, a Jr): that is evidence whose
weight training estimates, since a veto tuned on planted twins also splits one person whose
first name was mistyped. Only structure is certain: two records present in one case or
household at the same time, and a reviewer's "not a match" (`clustering`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import duckdb
from pydantic import Field, model_validator

from linkage.config import CONFIG_DIR, ConfigError, SqlExpression, Strict, load_config

LINKAGE_CONFIG = CONFIG_DIR / "linkage.yaml"
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Probability = Annotated[float, Field(gt=0, lt=1)]


class BlockingRule(Strict):
    """Pairs whose values agree on every expression in `keys` become candidates.

    A list column (such as `groups`) is unnested, so "shares any group" is expressible.
    """

    name: Name
    keys: list[SqlExpression] = Field(min_length=1)
    unnest: list[str] = []  # list columns among `keys` to unnest before joining
    # this rule's own limit on records per key value, where its keys are weak (a ZIP and a
    # name sound): pairs grow as its square, and the few they find are found in small blocks
    max_block_size: int | None = Field(default=None, ge=2)


class Blocking(Strict):
    # A key value shared by more records than this (a placeholder SSN nobody caught, a
    # shelter) finds no candidates through that rule: it would pair strangers by the thousand.
    max_block_size: int = Field(default=100, ge=2)
    rules: list[BlockingRule] = Field(min_length=1)


class Level(Strict):
    label: Name
    sql: SqlExpression = Field(min_length=1)
    # Term-frequency adjustment: agreement on a rare value counts for more than on a common one.
    tf_column: str | None = None
    # Training holds the weights of a comparison's levels in their listed order (a closer
    # agreement never weighs less than a looser one). A level that is a category rather than
    # a degree of agreement (an SSN shared across generations) is left out of that order.
    unranked: bool = False


class Comparison(Strict):
    """Ordered levels, most alike first; a pair falls in the first whose condition holds,
    else in the implicit last level `different`. `null_when` is "no evidence" (weight 0)."""

    name: Name
    description: str = ""
    null_when: SqlExpression = Field(min_length=1)
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_labels(self) -> Comparison:
        labels = [level.label for level in self.levels]
        if len(set(labels)) != len(labels) or "different" in labels:
            raise ValueError(f"level labels must be unique and not 'different': {labels}")
        return self


class SignaturePair(Strict):
    left: SqlExpression = Field(min_length=1)
    right: SqlExpression = Field(min_length=1)


class Household(Strict):
    """Household evidence: other members of the two records' groups already link."""

    enabled: bool = True
    confidence: Probability = 0.95  # a link at or above this counts as evidence
    # Records of two linked groups that agree on these become candidates in the second round.
    blocking_on: list[SqlExpression] = ["dob_year"]
    # ... and for whom this holds (SQL over records a and b)
    blocking_when: SqlExpression = "true"
    max_group_size: int = Field(default=30, ge=2)  # a shelter "household" says nothing
    # The family signature: members of two groups who agree on these, where nothing else
    # compares them (one record of a `signature_pairs` entry's `left`, the other of its
    # `right`: SQL over linked.records), support each other's pairs.
    signature: list[SqlExpression] = []
    signature_pairs: list[SignaturePair] = []
    # How many members of each group must agree on the signature for two groups to count as
    # one family. `signature_min_members` where a confident link relates the two groups
    # (directly, or both to a third group: the family's CW case), or where neither group
    # links to any other (nothing else can find their family). Where the two are unrelated
    # but either already links elsewhere, its family is known and two agreements are more
    # often a coincidence (a million records make thousands): `signature_min_members_elsewhere`.
    signature_min_members: int = Field(default=2, ge=2)
    signature_min_members_elsewhere: int = Field(default=2, ge=2)
    # A record already linked to another member of the other record's group is most likely
    # someone else of the family (a sibling, a parent): its own household level, whose
    # weight EM estimates, instead of counting as support.
    exclusive: bool = True

    @model_validator(mode="after")
    def _elsewhere_is_stricter(self) -> Household:
        if bool(self.signature) != bool(self.signature_pairs):
            given, missing = (("signature", "signature_pairs") if self.signature
                              else ("signature_pairs", "signature"))
            raise ValueError(f"{given} without {missing} does nothing: give both, or neither")
        if self.signature_min_members_elsewhere < self.signature_min_members:
            raise ValueError(
                f"signature_min_members_elsewhere ({self.signature_min_members_elsewhere}) "
                f"must be at least signature_min_members ({self.signature_min_members}): "
                f"groups whose family is known elsewhere need more agreements, not fewer")
        return self


class Clustering(Strict):
    # Two records in one case or household at the same time are two people: a cluster never
    # holds both (twins, a Jr and his father on one case). With a reviewer's "not a match",
    # the only evidence certain enough to veto a link; everything else is weighed.
    distinct_within_group: bool = True
    # A record whose links to two such people differ by less than this many bits links to
    # neither (a nameless TANF child and two twins); the pairs wait in the review queue.
    ambiguity_margin: float = Field(default=5.0, ge=0)
    # Two records joined only through others are kept apart when they compare this badly
    # with each other (match weight in bits: two different SSNs, birth dates years apart)...
    chain_min_weight: float = -20.0
    # ... or, for a pair blocking proposed and the model scored, when the model found them
    # this unlikely (match weight in bits, the prior included)
    min_pair_weight: float = -5.0


class Training(Strict):
    # EM runs over every pair of records: the candidates, and a random sample of the rest,
    # weighted, standing for the pairs that blocking never looks at.
    # ... as many per record, within these bounds: a small list needs fewer to measure u as
    # well (FEBRL and a 100,000-record list link the same with 100,000 and 200,000 as with
    # 500,000), and comparing them is a fixed cost that dominates below a million records
    random_pairs: int = Field(default=1_000_000, ge=1000)
    random_pairs_per_record: float = Field(default=2.0, gt=0)
    min_random_pairs: int = Field(default=100_000, ge=1000)
    seed: int = 42
    max_iterations: int = Field(default=200, ge=1)
    # EM stops when no weight (a level's, or the prior's) moves more than this many bits
    tolerance: float = Field(default=1e-6, gt=0)
    # EM starts from these; they only need to order the classes right.
    initial_match_share: float = Field(default=0.5, gt=0, lt=1)  # among candidates
    initial_m_best_level: Probability = 0.9
    # No level is ever impossible; far below 1e-6, since among a million records two strangers
    # sharing an SSN is rarer than one pair in a million.
    min_probability: float = Field(default=1e-12, gt=0, lt=0.01)
    # Pseudo-matches that shrink each level's m toward its u (weight 0): a level few matches
    # reach keeps a moderate weight instead of the extreme one a handful of pairs would give.
    prior_pairs: float = Field(default=10.0, ge=0)
    # ... and pseudo-non-matches, in sampled pairs (each standing for many pairs), that keep
    # a level no random pair reached from an unbounded weight
    prior_sampled_pairs: float = Field(default=1.0, ge=0)
    # What a comparison looks like among matches (its m) is learnt from the pairs the *other*
    # comparisons make this sure of (leave-one-out), not from every pair's posterior: pairs
    # that only share a common name (namesakes, correlated with origin as first and last
    # names are) would otherwise teach that a birth date often differs among matches.
    m_anchor: Probability | None = 0.99999
    tf_min_share: float = Field(default=1e-5, gt=0, lt=1)  # floor on a value's frequency
    # Below this many candidate pairs (not known apart) EM has nothing to learn from: the run
    # links nothing and queues every candidate pair for review (linkage.link.em.Model.untrained)
    min_candidate_pairs: int = Field(default=100, ge=0)


class Thresholds(Strict):
    link: Probability = 0.85  # clustering merges pairs at or above this
    review_low: Probability = 0.5  # pairs in [review_low, review_high) go to the review queue
    review_high: Probability = 0.99

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if not self.review_low <= self.link <= self.review_high:
            raise ValueError("need review_low <= link <= review_high")
        return self


class Resources(Strict):
    # DuckDB's memory for a step; beyond it, DuckDB spills to disk instead of growing.
    # `auto`: DuckDB's own default, 80% of the machine's memory (a fixed 1 GB suited a 1M-record
    # benchmark and nothing larger); or a size such as 12GB.
    memory_limit: str = Field(default="auto",
                              pattern=r"^(auto|\d+(\.\d+)?\s*(KB|MB|GB|TB))$")
    # Where DuckDB spills: a folder beside the warehouse (its disk, not the system's /tmp),
    # or this folder.
    temp_directory: str | None = None


class SparkSettings(Strict):
    # local[*]: every core of this machine; or a cluster's master URL (spark://host:7077)
    master: str = "local[*]"
    driver_memory: str = Field(default="4g", pattern=r"^\d+[kmgt]$")
    # partitions of each shuffle: a few per core locally, many more on a cluster
    shuffle_partitions: int = Field(default=8, ge=1)
    # where Spark keeps checkpoints and the Parquet copies of the tables it takes and hands
    # back (deleted after the step): a folder beside the warehouse unless set. On a cluster it
    # must be a folder the driver and every executor see at the same path (a shared mount).
    work_directory: str | None = None


class Engine(Strict):
    # where the link step's pair work runs (blocking, comparison vectors, the pattern counts
    # training reads, scoring, household evidence, connected components): DuckDB on this
    # machine, or Apache Spark (`pip install famlink[spark]`, Java 17) beyond it. The records
    # are prepared, and ids, the review queue and the families step run, in DuckDB either way.
    name: Literal["duckdb", "spark"] = "duckdb"
    spark: SparkSettings = SparkSettings()


class Review(Strict):
    # Append-only decisions live in their own SQLite store outside the warehouse, so that no
    # rebuild can erase them and recording one never waits for a run; a relative path is
    # taken from the warehouse file's folder. The old JSON-lines log of the same name
    # (review_decisions.jsonl) is imported into it once.
    decisions_file: str = "review_decisions.sqlite"
    queue_limit: int = Field(default=50_000, ge=1)
    # SQL over staged.groups: a pair touching a record in such a group is reviewed first.
    priority_groups: SqlExpression = "group_type = 'cw_case' AND end_date IS NULL"


class LinkageConfig(Strict):
    # column -> SQL over staged.person_records (and nickname_roots(name, roots), the given
    # names a nickname may stand for)
    records: dict[Name, SqlExpression] = Field(min_length=1)
    blocking: Blocking
    comparisons: list[Comparison] = Field(min_length=1)
    household: Household = Household()
    clustering: Clustering = Clustering()
    training: Training = Training()
    thresholds: Thresholds = Thresholds()
    review: Review = Review()
    resources: Resources = Resources()
    engine: Engine = Engine()

    @model_validator(mode="after")
    def _unique_names(self) -> LinkageConfig:
        missing = {"record_id", "system"} - set(self.records)
        if missing:
            raise ValueError(f"records must define {sorted(missing)}")
        for kind, names in (("comparison", [c.name for c in self.comparisons]),
                            ("blocking rule", [r.name for r in self.blocking.rules])):
            if len(set(names)) != len(names):
                raise ValueError(f"{kind} names must be unique: {names}")
        return self


def load_linkage_config(path: str | Path | None = None) -> LinkageConfig:
    """Load and validate the linkage config; `check_sql` then compiles its SQL against a
    warehouse before a run starts."""
    return load_config(Path(path) if path else LINKAGE_CONFIG, LinkageConfig)


def check_sql(con: duckdb.DuckDBPyConnection, config: LinkageConfig, path: str | Path) -> None:
    """Compile every expression against the warehouse's real columns (no rows), so a typo in
    a level is reported with its key before a night's run starts, not halfway through it."""
    from linkage.link.records import register_nickname_roots

    register_nickname_roots(con)
    problems: list[str] = []

    def attempt(key: str, sql: str) -> bool:
        try:
            con.execute(sql).fetchall()
        except duckdb.Error as exc:
            problems.append(f"{path}: {key}: {str(exc).splitlines()[0]}")
            return False
        return True

    select = ", ".join(f"{expr} AS {name}" for name, expr in config.records.items())
    if not attempt("records", f"CREATE OR REPLACE TEMP TABLE _check_r AS SELECT {select}, "
                              f"[]::INTEGER[] AS groups, false AS birthday_shared "
                              f"FROM staged.person_records LIMIT 0"):
        raise ConfigError("\n".join(problems))
    columns = [row[0] for row in con.execute("DESCRIBE _check_r").fetchall()]
    pair = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _check_p AS SELECT {pair} "
                f"FROM _check_r l, _check_r r")
    for i, rule in enumerate(config.blocking.rules):
        for j, expr in enumerate(rule.keys):
            attempt(f"blocking.rules.{i}.keys.{j}", f"SELECT {expr} FROM _check_r")
    for i, comp in enumerate(config.comparisons):
        attempt(f"comparisons.{i}.null_when",
                f"SELECT ({comp.null_when})::BOOLEAN FROM _check_p")
        for j, level in enumerate(comp.levels):
            attempt(f"comparisons.{i}.levels.{j}.sql",
                    f"SELECT ({level.sql})::BOOLEAN FROM _check_p")
            if level.tf_column:
                attempt(f"comparisons.{i}.levels.{j}.tf_column",
                        f"SELECT {level.tf_column} FROM _check_r")
    attempt("review.priority_groups",
            f"SELECT ({config.review.priority_groups})::BOOLEAN FROM staged.groups LIMIT 0")
    hh = config.household
    for i, sides in enumerate(hh.signature_pairs):
        for key in ("left", "right"):
            attempt(f"household.signature_pairs.{i}.{key}",
                    f"SELECT ({getattr(sides, key)})::BOOLEAN FROM _check_r")
    for j, expr in enumerate(hh.signature):
        attempt(f"household.signature.{j}", f"SELECT {expr} FROM _check_r")
    for j, expr in enumerate(config.household.blocking_on):
        attempt(f"household.blocking_on.{j}", f"SELECT {expr} FROM _check_r")
    attempt("household.blocking_when",
            f"SELECT ({hh.blocking_when})::BOOLEAN FROM _check_r a, _check_r b")
    con.execute("DROP TABLE _check_p; DROP TABLE _check_r")
    if problems:
        raise ConfigError("\n".join(problems))
