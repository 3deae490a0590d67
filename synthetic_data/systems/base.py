"""What every system writer shares: the recorder, the truth and the id each person got."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

from synthetic_data.config import SyntheticConfig
from synthetic_data.population import Address, Person
from synthetic_data.recording import Recorded, Recorder
from synthetic_data.timeline import Story
from synthetic_data.truth import TruthWriter


class SystemWriter:
    """Projects planned stories into one system's extract files.

    Subclasses write their own files; this class hands out the system's person ids and logs
    each record in the truth, so the truth can never disagree with the extract.
    """

    system = ""

    def __init__(self, out: Path, config: SyntheticConfig, truth: TruthWriter) -> None:
        self.dir = out / "extracts" / self.system
        self.dir.mkdir(parents=True, exist_ok=True)
        self.c = config
        self.truth = truth
        self.end = date(config.window.start_year + config.window.years, 1, 1).toordinal()
        # pid -> this system's source ids for the current family (read by the answers)
        self.ids: dict[int, list[str]] = defaultdict(list)
        self._pending: list[tuple[str, Person, set[str]]] = []

    def begin_family(self) -> None:
        self.ids = defaultdict(list)
        self._pending = []

    def log(self, source_id: str, person: Person, rec: Recorded) -> None:
        self.ids[person.pid].append(source_id)
        self._pending.append((source_id, person, rec.labels))

    def end_family(self) -> None:
        """Write the family's records to the truth, marking people entered more than once."""
        for source_id, person, labels in self._pending:
            if len(self.ids[person.pid]) > 1:
                labels.add("in_system_duplicate")
            self.truth.record(self.system, source_id, person, labels)
        self._pending = []

    def write(self, story: Story, recorder: Recorder) -> None:
        raise NotImplementedError

    def close(self) -> dict[str, int]:
        raise NotImplementedError


def address_labels(rec: Recorded, addr: Address | None) -> None:
    """Shelter and no-fixed-address records are hard cases for address agreement."""
    if addr is None:
        rec.labels.add("no_fixed_address")
    elif addr.shelter:
        rec.labels.add("shelter_address")


def parent_ssn(story: Story, child: Person) -> str | None:
    """The SSN a worker might copy onto a child's record: the mother's, else the father's."""
    fam = story.family
    if child.mother == fam.mother.pid:
        return fam.mother.ssn
    for father in fam.fathers:
        if father.pid == child.father:
            return father.ssn
    return None
