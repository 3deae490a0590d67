"""Homeless services: a HUD HMIS CSV export (FY2024 `2024 v1.3` or FY2026 `2026 v1.0`).

Export, Organization, Project, Client, Enrollment and Exit with HUD's column order and codes.
A household's stay is one enrollment per member sharing a HouseholdID; a person whom a second
provider entered anew gets a second PersonalID (the in-system duplicates HMIS is known for).
"""

from __future__ import annotations

from datetime import date

from linkage.formats.hmis_csv import COLUMNS, CSV_VERSION, GENDER_COLUMNS_2024, RACE_COLUMNS
from synthetic_data.population import Person
from synthetic_data.recording import Recorded, Recorder
from synthetic_data.sinks import CsvSink, iso
from synthetic_data.systems.base import SystemWriter, address_labels, parent_ssn
from synthetic_data.timeline import Stay, Story

EXPORT_ID = "1001"
COC = "XX-501"
# Project types a family stays in while literally homeless (ES, SO, SH, TH).
LITERALLY_HOMELESS = frozenset({0, 1, 2, 4, 8})
# LivingSituation at entry that is literal homelessness whatever the project (HUD: place not
# meant for habitation, emergency shelter, safe haven)
LITERALLY_HOMELESS_SITUATIONS = frozenset({101, 116, 118})
# (ProjectID, OrganizationID, name, ProjectType, HousingType) of the county's CoC.
PROJECTS = (
    ("2001", "301", "Hope House Family Shelter", 0, 1),
    ("2002", "301", "Hope House Overflow (Night by Night)", 1, 1),
    ("2003", "302", "Mission Street Outreach", 4, None),
    ("2004", "302", "Mission Safe Haven", 8, 1),
    ("2005", "303", "Bridge House Transitional Living", 2, 1),
    ("2006", "303", "Bridge House Rapid Re-Housing", 13, 3),
    ("2007", "304", "Harbor Light Family Shelter", 0, 1),
    ("2008", "304", "Harbor Light Permanent Supportive Housing", 3, 2),
    ("2009", "305", "YWCA Family Emergency Shelter", 0, 1),
    ("2010", "306", "Pathways Coordinated Entry", 14, None),
)
ORGANIZATIONS = (("301", "Hope House Inc"), ("302", "Mission Outreach Alliance"),
                 ("303", "Bridge House Services"), ("304", "Harbor Light Center"),
                 ("305", "YWCA of Riverton"), ("306", "Pathways CoC Lead Agency"))
_WEIGHTS = (30, 8, 10, 4, 8, 8, 15, 4, 12, 1)
_RACE_OF = {"white": ("White",), "black": ("BlackAfAmerican",),
            "hispanic": ("HispanicLatinaeo", "White"), "asian": ("Asian",),
            "native": ("AmIndAKNative",)}
_PRIOR = (101, 101, 116, 116, 118, 215, 302, 314, 335, 336, 410, 435)
_DESTINATIONS = (410, 435, 422, 423, 312, 313, 116, 101, 314, 8, 99, 30)


def _stamp(day: int, minute: int) -> str:
    """A timestamp `minute` minutes after 08:00 on `day` (a working day's data entry)."""
    return f"{date.fromordinal(day).isoformat()} {8 + minute // 60:02d}:{minute % 60:02d}:00"


class HmisWriter(SystemWriter):
    system = "hmis"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.version = self.c.output.hmis_version
        cols = COLUMNS[self.version]
        self.cols = cols
        self.clients = CsvSink(self.dir / "Client.csv", cols["Client"])
        self.enrollments = CsvSink(self.dir / "Enrollment.csv", cols["Enrollment"])
        self.exits = CsvSink(self.dir / "Exit.csv", cols["Exit"])
        self._write_reference_files()
        self._personal_seq = 100_000
        self._enrollment_seq = 500_000
        self._household_seq = 0
        self._race = dict(zip(RACE_COLUMNS["2024"], RACE_COLUMNS[self.version], strict=True))
        self._family_ids: dict[int, str] = {}

    def _row(self, file: str, values: dict[str, object]) -> list[object]:
        return [values.get(col, "") for col in self.cols[file]]

    def _write_reference_files(self) -> None:
        start = date(self.c.window.start_year, 1, 1)
        end = date.fromordinal(self.end - 1)
        export = CsvSink(self.dir / "Export.csv", self.cols["Export"])
        export.write(self._row("Export", {
            "ExportID": EXPORT_ID, "SourceType": 1, "SourceID": COC,
            "SourceName": "Riverton County CoC HMIS", "ExportDate": f"{end} 23:00:00",
            "ExportStartDate": start.isoformat(), "ExportEndDate": end.isoformat(),
            "SoftwareName": "famlink synth", "SoftwareVersion": "1.0",
            "CSVVersion": CSV_VERSION[self.version], "ExportPeriodType": 3,
            "ExportDirective": 2, "HashStatus": 1, "ImplementationID": "famlink-synthetic"}))
        export.close()
        created = f"{start.isoformat()} 09:00:00"
        orgs = CsvSink(self.dir / "Organization.csv", self.cols["Organization"])
        for org_id, name in ORGANIZATIONS:
            orgs.write(self._row("Organization", {
                "OrganizationID": org_id, "OrganizationName": name, "VictimServiceProvider": 0,
                "OrganizationCommonName": name.split(" ")[0], "DateCreated": created,
                "DateUpdated": created, "UserID": "admin", "ExportID": EXPORT_ID}))
        orgs.close()
        projects = CsvSink(self.dir / "Project.csv", self.cols["Project"])
        for pid, org, name, ptype, housing in PROJECTS:
            projects.write(self._row("Project", {
                "ProjectID": pid, "OrganizationID": org, "ProjectName": name,
                "ProjectCommonName": name, "OperatingStartDate": "2010-01-01",
                "ContinuumProject": 1 if ptype != 14 else 0, "ProjectType": ptype,
                "HousingType": housing if housing is not None else "",
                "TargetPopulation": 4, "HOPWAMedAssistedLivingFac": 2, "DateCreated": created,
                "DateUpdated": created, "UserID": "admin", "ExportID": EXPORT_ID}))
        projects.close()

    def begin_family(self) -> None:
        super().begin_family()
        self._family_ids = {}

    def _client(self, story: Story, person: Person, day: int, recorder: Recorder) -> str:
        self._personal_seq += 1
        personal_id = str(self._personal_seq)
        rec = recorder.record(person, day, "hmis", parent_ssn(story, person))
        # HMIS Client rows carry no address; the household's address on the day still labels
        # the record, because shelters are where HMIS meets the other systems.
        address_labels(rec, story.family.address_on(day))
        values = self._client_values(person, rec, personal_id)
        rnd = recorder.rnd
        values.update({"DateCreated": _stamp(day, rnd.randrange(600)),
                       "DateUpdated": _stamp(day, 600), "UserID": str(rnd.randint(10, 60))})
        self.clients.write(self._row("Client", values))
        self.log(personal_id, person, rec)
        return personal_id

    def _client_values(self, person: Person, rec: Recorded, personal_id: str) -> dict:
        values: dict[str, object] = {
            "PersonalID": personal_id, "FirstName": rec.first, "MiddleName": rec.middle,
            "LastName": rec.last, "NameSuffix": rec.suffix, "NameDataQuality": 1,
            "SSN": rec.ssn, "SSNDataQuality": rec.ssn_quality, "DOB": iso(rec.dob),
            "DOBDataQuality": rec.dob_quality, "RaceNone": "", "VeteranStatus": 0,
            "ExportID": EXPORT_ID}
        flagged = _RACE_OF[person.group]
        for col2024, col in self._race.items():
            values[col] = 1 if col2024 in flagged else 0
        if self.version == "2024":
            for col in GENDER_COLUMNS_2024:
                values[col] = 0
            values["Woman" if person.sex == "F" else "Man"] = 1
            values["GenderNone"] = ""
        else:
            values["Sex"] = 0 if person.sex == "F" else 1
        return values

    def write(self, story: Story, recorder: Recorder) -> None:
        rnd = recorder.rnd
        for stay in story.stays:
            project = rnd.choices(range(len(PROJECTS)), _WEIGHTS)[0]
            stay.project_type = PROJECTS[project][3]
            stay.household_id = self._enroll(story, stay, stay.members, PROJECTS[project][0],
                                             recorder, self._family_ids, stay.entry)
            dup = {p.pid for p, _ in stay.members
                   if rnd.random() < self.c.coverage.hmis_second_provider_duplicate}
            if dup:
                # Days later another provider's intake did not find these people and entered
                # them anew; the rest of the household it found.
                other = rnd.choice([p for p in PROJECTS
                                    if p[1] != PROJECTS[project][1] and p[3] != 14])
                last = (stay.exit if stay.exit is not None else self.end - 1)
                entry = min(stay.entry + rnd.randint(1, 45), last)
                known = {pid: pid_ for pid, pid_ in self._family_ids.items() if pid not in dup}
                away = {r.child.pid for r in story.cw.removals if r.covers(entry)} \
                    if story.cw else set()
                members = [(p, rel) for p, rel in stay.members if p.pid not in away]
                self._enroll(story, stay, members, other[0], recorder, known, entry)

    def _enroll(self, story: Story, stay: Stay, members: list[tuple[Person, int]],
                project_id: str, recorder: Recorder, known: dict[int, str], entry: int) -> str:
        """One enrollment per member under a new HouseholdID; unknown people become clients."""
        rnd = recorder.rnd
        self._household_seq += 1
        household = f"HH{self._household_seq:07d}"
        for person, relation in members:
            personal_id = known.get(person.pid)
            if personal_id is None:
                personal_id = known[person.pid] = self._client(story, person, entry, recorder)
                self._family_ids.setdefault(person.pid, personal_id)
            self._enrollment_seq += 1
            enrollment_id = str(self._enrollment_seq)
            is_adult = relation != 2
            situation = rnd.choice(_PRIOR) if is_adult else ""
            if relation == 1 and entry == stay.entry:  # the stay's own intake, not a duplicate
                stay.entry_situation = situation
            self.enrollments.write(self._row("Enrollment", {
                "EnrollmentID": enrollment_id, "PersonalID": personal_id,
                "ProjectID": project_id, "EntryDate": iso(entry), "HouseholdID": household,
                "RelationshipToHoH": relation, "EnrollmentCoC": COC if relation == 1 else "",
                "LivingSituation": situation,
                "LengthOfStay": rnd.choice((2, 3, 4, 5, 10, 11)) if is_adult else "",
                "DisablingCondition": rnd.choice((0, 0, 0, 1, 8, 99)),
                "DateCreated": _stamp(entry, rnd.randrange(600)),
                "DateUpdated": _stamp(entry, 600), "UserID": str(rnd.randint(10, 60)),
                "ExportID": EXPORT_ID}))
            if stay.exit is not None:
                self.exits.write(self._row("Exit", {
                    "ExitID": enrollment_id, "EnrollmentID": enrollment_id,
                    "PersonalID": personal_id, "ExitDate": iso(stay.exit),
                    "Destination": rnd.choice(_DESTINATIONS),
                    "DateCreated": _stamp(stay.exit, rnd.randrange(600)),
                    "DateUpdated": _stamp(stay.exit, 600), "UserID": str(rnd.randint(10, 60)),
                    "ExportID": EXPORT_ID}))
        return household

    def close(self) -> dict[str, int]:
        sinks = (self.clients, self.enrollments, self.exits)
        for sink in sinks:
            sink.close()
        return {f"hmis/{s.path.name}": s.rows for s in sinks}
