"""`famlink synth`: build the population chunk by chunk and write the four extracts and the truth.

Each chunk has its own random streams seeded from (seed, chunk), so output is the same for a
seed, memory holds one chunk at a time, and a 3M-person run streams to disk like a 1k one.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from synthetic_data.config import SyntheticConfig, load_synthetic_config
from synthetic_data.population import Family, PopulationBuilder
from synthetic_data.recording import Recorder
from synthetic_data.systems.cs import CsWriter
from synthetic_data.systems.cw import CwWriter
from synthetic_data.systems.hmis import (
    LITERALLY_HOMELESS,
    LITERALLY_HOMELESS_SITUATIONS,
    HmisWriter,
)
from synthetic_data.systems.tanf import TanfWriter
from synthetic_data.timeline import Planner, Story
from synthetic_data.truth import ALERT_DAYS, TruthWriter

SYSTEMS = ("cw", "cs", "hmis", "tanf")
SHELTER = frozenset({0, 1})  # HUD project types: emergency shelter (entry/exit, night by night)
# who acts on each alert (configs/marts.yaml says the same)
ALERT_AGENCY = {"placement_changed": "cs", "entered_care_while_cs_pays": "cs",
                "family_in_shelter": "cw", "absent_parent_located": "cw",
                "paternity_established": "cw", "putative_father_named": "cw"}


@dataclass
class Summary:
    out: Path
    persons: int
    families: int
    seconds: float
    files: dict[str, int]
    hard_cases: dict[str, dict[str, float]]


def _trim(fam: Family, keep: int) -> None:
    """Drop members from the end of the family until `keep` remain (only the last family)."""
    while len(fam.persons) > keep and len(fam.children) > 1:
        fam.children.pop()
    if len(fam.persons) > keep and fam.caregiver is not None:
        fam.caregiver = None
    while len(fam.persons) > keep and fam.fathers:
        gone = fam.fathers.pop()
        for child in fam.children:
            if child.father == gone.pid:
                child.father = None
    if len(fam.persons) > keep:
        fam.children.clear()
        fam.in_cw = fam.in_cs = fam.in_tanf = False


class _Answers:
    """The true answers to the program staff's questions, read off each family's story."""

    def __init__(self, truth: TruthWriter, end: int) -> None:
        self.truth = truth
        self.end = end

    def family(self, story: Story, cw: CwWriter, cs: CsWriter, hmis: HmisWriter,
               tanf: TanfWriter) -> list[str]:
        fam = story.family
        by_system = {"cw": cw.ids, "cs": cs.ids, "hmis": hmis.ids, "tanf": tanf.ids}
        systems = [s for s in SYSTEMS if by_system[s]]
        if len(systems) >= 2:
            self.truth.answer("joint_families", (fam.family_id, ";".join(systems),
                                                 len(systems)))
        case = story.cw
        if case is None:
            return systems
        self._absent_parents(story, by_system, cs)
        if case.closed is None:
            for stay in story.stays:
                overlaps = stay.entry <= self.end and (stay.exit is None
                                                       or stay.exit >= case.opened)
                literal = (stay.project_type in LITERALLY_HOMELESS
                           or stay.entry_situation in LITERALLY_HOMELESS_SITUATIONS)
                if overlaps and literal:
                    self.truth.answer("homeless_with_open_cw", (
                        case.case_id, fam.family_id, stay.household_id,
                        date.fromordinal(stay.entry).isoformat(),
                        date.fromordinal(stay.exit).isoformat() if stay.exit else ""))
        in_care = {r.child.pid: r for r in case.removals if r.end is None}
        for cs_case in story.cs:
            if not cs_case.order or cs_case.custodial.role != "mother":
                continue
            for child in cs_case.children:
                removal = in_care.get(child.pid)
                if removal is None or child.pid in cs_case.ive_referrals:
                    continue
                self.truth.answer("support_in_error", (
                    cs_case.case_id, cs.member_id(child.pid), child.pid,
                    cs_case.custodial.pid, case.case_id, removal.removal_id,
                    date.fromordinal(removal.start).isoformat()))
        self._alerts(story, cs)
        self._paternity(story)
        self._referrals(story)
        return systems

    def _alert(self, kind: str, day: int, key: str, child: int | str = "",
               other: int | str = "") -> None:
        if day > self.end - ALERT_DAYS:
            self.truth.answer("alerts", (kind, ALERT_AGENCY[kind], date.fromordinal(day)
                                         .isoformat(), key, child, other))

    def _alerts(self, story: Story, cs: CsWriter) -> None:
        """Every event that raises an alert (linkage/marts/alerts.py), on its day."""
        case = story.cw
        assert case is not None
        for removal in case.removals:
            child = removal.child
            for cs_case in story.cs:
                if not cs_case.order or child not in cs_case.children:
                    continue
                for begin, pid in list(zip((p[0] for p in removal.placements),
                                           removal.placement_ids, strict=True))[1:]:
                    self._alert("placement_changed", begin, f"{pid}|{cs_case.case_id}",
                                child.pid)
                if cs_case.custodial.role == "mother":
                    self._alert("entered_care_while_cs_pays", removal.start,
                                f"{removal.removal_id}|{cs_case.case_id}", child.pid,
                                cs_case.custodial.pid)
            if removal.end is not None:
                continue
            for cs_case in story.cs:
                status, day = cs_case.paternity.get(child.pid, ("", None))
                if status == "N":
                    self._alert("putative_father_named", cs_case.opened, cs_case.case_id,
                                child.pid, cs_case.father.pid if cs_case.father else "")
                elif status == "E" and day is not None and cs_case.father is not None:
                    self._alert("paternity_established", day, cs_case.case_id, child.pid,
                                cs_case.father.pid)
        if case.closed is not None:
            return
        for stay in story.stays:
            if stay.project_type in SHELTER and stay.entry >= case.opened:
                self._alert("family_in_shelter", stay.entry,
                            f"{case.case_id}|{stay.household_id}")
        on_case = {f.pid for f in case.fathers}
        absent = {c.father for c in case.children
                  if c.father is not None and c.father not in on_case}
        for father in sorted(absent):
            for locate_id, day in cs.locates.get(father, []):
                self._alert("absent_parent_located", day, f"{case.case_id}|{locate_id}",
                            "", father)

    def _paternity(self, story: Story) -> None:
        """Children in care on a CW case with no legal father, and what CS knows of theirs."""
        case = story.cw
        assert case is not None
        if "LEGAL" in case.father_types.values():
            return
        for removal in case.removals:
            if removal.end is not None:
                continue
            child = removal.child
            known = [c for c in story.cs if child in c.children and c.father is not None]
            for cs_case in known:
                assert cs_case.father is not None
                self.truth.answer("paternity", (
                    case.case_id, child.pid, cs_case.case_id, cs_case.father.pid,
                    cs_case.paternity.get(child.pid, ("", None))[0]))
            if not known:
                self.truth.answer("paternity", (case.case_id, child.pid, "", "", ""))

    def _referrals(self, story: Story) -> None:
        """Children in care CS should hear of, and referrals CS should not act on (the rules
        of configs/marts.yaml, by their codes)."""
        case = story.cw
        assert case is not None
        for removal in case.removals:
            child = removal.child
            referring = [c for c in story.cs if child.pid in c.ive_referrals]
            for cs_case in referring:
                reasons = [code for code, holds in (
                    ("family_violence", cs_case.family_violence),
                    ("good_cause", removal.good_cause is not None),
                    ("reunified", removal.discharge_reason == "REUNIFICATION"),
                    ("parental_rights_terminated", removal.tpr is not None)) if holds]
                if reasons:
                    self.truth.answer("referrals", (
                        "withdraw", case.case_id, removal.removal_id, child.pid,
                        cs_case.case_id, ";".join(reasons)))
            if (not referring and removal.end is None and removal.good_cause is None
                    and removal.tpr is None):
                self.truth.answer("referrals", ("refer", case.case_id, removal.removal_id,
                                                child.pid, "", "not_referred"))

    def _absent_parents(self, story: Story, by_system: dict, cs: CsWriter) -> None:
        case = story.cw
        assert case is not None
        on_case = {f.pid for f in case.fathers}
        fathers = {f.pid: f for f in story.family.fathers}
        for child in case.children:
            father = fathers.get(child.father) if child.father is not None else None
            if father is None or father.pid in on_case:
                continue
            found = [s for s in ("cs", "hmis", "tanf") if by_system[s].get(father.pid)]
            if not found:
                continue
            address, employer, _ = cs.latest_locate.get(father.pid, ("", "", 0))
            self.truth.answer("absent_parents", (
                case.case_id, story.family.family_id, child.pid, father.pid, "father",
                ";".join(found), cs.member_id(father.pid), address, employer))


def generate(out: Path, persons: int, seed: int, config: SyntheticConfig,
             progress: Callable[[int], None] | None = None) -> Summary:
    """Write `out/extracts/<system>/...` and `out/truth/...` for `persons` people."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    truth = TruthWriter(out)
    cw, cs = CwWriter(out, config, truth), CsWriter(out, config, truth)
    hmis, tanf = HmisWriter(out, config, truth), TanfWriter(out, config, truth)
    writers = (cw, cs, hmis, tanf)
    answers = _Answers(truth, cw.end)
    start = date(config.window.start_year, 1, 1).toordinal()
    eligible: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    next_pid = next_family = 1
    made_total = chunk = 0
    while made_total < persons:
        quota = min(persons - made_total, config.output.chunk_persons)
        builder = PopulationBuilder(config, seed, chunk, next_pid, next_family)
        rnd = random.Random(seed * 7_919 + chunk * 104_729 + 1)
        events = random.Random(seed * 7_919 + chunk * 104_729 + 2)
        planner = Planner(config, rnd, start, cw.end, events)
        recorder = Recorder(config.hard_cases, rnd)
        made = 0
        while made < quota:
            fam = builder.family()
            if made + len(fam.persons) > quota:
                _trim(fam, quota - made)
            story = planner.plan(fam)
            for writer in writers:
                writer.begin_family()
                writer.write(story, recorder)
                writer.end_family()
            truth.family(fam, answers.family(story, cw, cs, hmis, tanf))
            made += len(fam.persons)
        for tally, counts in ((eligible, recorder.eligible), (expected, recorder.expected),
                              (hits, recorder.hits)):
            tally.update(counts)
        next_pid, next_family = builder.next_pid, builder.next_family
        made_total += made
        chunk += 1
        if progress is not None:
            progress(made)
    files: dict[str, int] = {}
    for writer in writers:
        files.update(writer.close())
    files.update({f"truth/{k}": v for k, v in truth.close().items()})
    rates = {label: {"eligible": eligible[label], "expected": round(expected[label], 3),
                     "hits": hits[label],
                     "rate": round(hits[label] / eligible[label], 5) if eligible[label] else 0}
             for label in sorted(eligible)}
    summary = Summary(out, made_total, next_family - 1, time.perf_counter() - started, files,
                      rates)
    manifest = {
        "generator": "famlink synth", "seed": seed, "persons": made_total,
        "families": next_family - 1, "hmis_version": config.output.hmis_version,
        "extract_date": date.fromordinal(cw.end).isoformat(),
        "files": files, "record_level_hard_cases": rates, "config": config.model_dump(),
    }
    (out / "truth" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return summary


def synthesize(persons: int, seed: int, out: Path, hmis_version: str | None = None,
               config_path: Path | None = None,
               progress: Callable[[int], None] | None = None,
               tanf_encrypt: bool | None = None) -> Summary:
    """Load the generator's settings (with the caller's overrides) and generate."""
    config = load_synthetic_config(config_path)
    overrides = {key: value for key, value in (("hmis_version", hmis_version),
                                               ("tanf_encrypt_ssn", tanf_encrypt))
                 if value is not None}
    if overrides:
        config = config.model_copy(update={"output": config.output.model_copy(update=overrides)})
    return generate(out, persons, seed, config, progress)
