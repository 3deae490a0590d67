"""TANF: the federal TANF Data Report, section 1, as fixed-width files (one per quarter).

A family is reported in the last month of its spell: a T1 family line, a T2 line per adult and
T3 lines with two children each. The report carries no names, so TANF records link on DOB, SSN,
sex and ZIP alone. A record's source id is `<RPT_MONTH_YEAR>-<CASE_NUMBER>-A-<digest>` for an
adult and `-C-<digest>` for a child, the digest of the person's identity items: the ids
`linkage.formats.tanf_section1.person_ids` defines, which is how the ingest names them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import IO

from linkage.formats import tanf_section1 as layout
from synthetic_data.population import Person
from synthetic_data.recording import Recorded, Recorder
from synthetic_data.sinks import iso
from synthetic_data.systems.base import SystemWriter, address_labels, parent_ssn
from synthetic_data.timeline import Story

_RACE_FIELDS = {"hispanic": ("RACE_HISPANIC", "RACE_WHITE"), "native": ("RACE_AMER_INDIAN",),
                "asian": ("RACE_ASIAN",), "black": ("RACE_BLACK",), "white": ("RACE_WHITE",)}
_RACES = ("RACE_HISPANIC", "RACE_AMER_INDIAN", "RACE_ASIAN", "RACE_BLACK", "RACE_HAWAIIAN",
          "RACE_WHITE")


def _zeros(fields: tuple[layout.Field, ...]) -> dict[str, str | int | None]:
    """Every numeric item reported as zero, as the states' files do for items not applicable."""
    return {f.name: "0" for f in fields if f.kind == "N"}


def _person_items(person: Person, rec: Recorded, encrypt: bool) -> dict[str, str | int | None]:
    ssn = rec.ssn
    if ssn and encrypt:
        ssn = layout.encrypt_ssn(ssn)
    items: dict[str, str | int | None] = {
        "FAMILY_AFFILIATION": 1,
        "DATE_OF_BIRTH": iso(rec.dob).replace("-", ""),
        "SSN": ssn,
        "GENDER": 1 if person.sex == "M" else 2,
    }
    flagged = _RACE_FIELDS[person.group]
    items.update({name: 1 if name in flagged else 2 for name in _RACES})
    return items


class TanfWriter(SystemWriter):
    system = "tanf"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._files: dict[tuple[int, int], tuple[IO[str], list[int]]] = {}
        self._case_seq = 0
        self.encrypt = self.c.output.tanf_encrypt_ssn

    def _file(self, year: int, quarter: int) -> tuple[IO[str], list[int]]:
        key = (year, quarter)
        if key not in self._files:
            path: Path = self.dir / f"tanf_section1_{year}Q{quarter}.txt"
            fh = open(path, "w", encoding="ascii", newline="\n")  # noqa: SIM115 (kept open)
            fh.write(layout.format_record(layout.HEADER, {
                "TITLE": "HEADER", "YEAR": year, "QUARTER": quarter, "TYPE": "A",
                "STATE_FIPS": self.c.output.tanf_state_fips, "PROGRAM_TYPE": "TAN", "EDIT": 1,
                "ENCRYPTION": "E" if self.encrypt else "", "UPDATE": "D"}) + "\n")
            self._files[key] = (fh, [0])
        return self._files[key]

    def write(self, story: Story, recorder: Recorder) -> None:
        spell = story.tanf
        if spell is None:
            return
        fam, rnd = story.family, recorder.rnd
        self._case_seq += 1
        spell.case_number = f"{self._case_seq:011d}"
        month = date.fromordinal(spell.report_month)
        ym = f"{month.year:04d}{month.month:02d}"
        fh, count = self._file(month.year, (month.month - 1) // 3 + 1)
        common = {"RPT_MONTH_YEAR": ym, "CASE_NUMBER": spell.case_number}
        addr = fam.address_on(spell.report_month)
        t1 = _zeros(layout.T1) | common | {
            "RecordType": "T1", "COUNTY_FIPS_CODE": 75, "STRATUM": 1,
            "ZIP_CODE": addr.zip if addr else "", "FUNDING_STREAM": 1, "DISPOSITION": 1,
            "NEW_APPLICANT": 1 if spell.start >= spell.report_month - 31 else 2,
            "NBR_FAMILY_MEMBERS": len(spell.adults) + len(spell.children),
            "FAMILY_TYPE": 1, "RECEIVES_SUB_HOUSING": 2, "RECEIVES_MED_ASSISTANCE": 1,
            "RECEIVES_FOOD_STAMPS": 1, "AMT_FOOD_STAMP_ASSISTANCE": rnd.randint(200, 900),
            "RECEIVES_SUB_CC": 2, "CASH_AMOUNT": rnd.randint(250, 950),
            "NBR_MONTHS": rnd.randint(1, 60), "WAIVER_EVAL_CONTROL_GRPS": "",
            "FAMILY_EXEMPT_TIME_LIMITS": 2, "FAMILY_NEW_CHILD": 2}
        lines = [layout.format_record(layout.T1, t1)]
        adults: list[tuple[Person, Recorded, str, tuple[layout.Field, ...]]] = []
        for adult, relation in spell.adults:
            rec = recorder.record(adult, spell.report_month, "tanf", names=False)
            address_labels(rec, addr)
            items = _zeros(layout.T2) | common | _person_items(adult, rec, self.encrypt) | {
                "RecordType": "T2", "NONCUSTODIAL_PARENT": 2, "FED_OASDI_PROGRAM": 2,
                "FED_DISABILITY_STATUS": 2, "DISABLED_TITLE_XIVAPDT": 2, "AID_AGED_BLIND": 2,
                "RECEIVE_SSI": 2, "MARITAL_STATUS": 2 if relation == "02" else 1,
                "RELATIONSHIP_HOH": relation, "PARENT_WITH_MINOR_CHILD": 1,
                "NEEDS_PREGNANT_WOMAN": 2, "EDUCATION_LEVEL": rnd.choice((10, 11, 12, 12, 13)),
                "CITIZENSHIP_STATUS": 1, "COOPERATION_CHILD_SUPPORT": 1,
                "MONTHS_FED_TIME_LIMIT": rnd.randint(1, 60), "EMPLOYMENT_STATUS": 3,
                "WORK_ELIGIBLE_INDICATOR": 1, "WORK_PART_STATUS": 19}
            lines.append(layout.format_record(layout.T2, items))
            adults.append((adult, rec, lines[-1], layout.T2))
        self._log(ym, spell.case_number, "A", adults)
        kids = []
        children: list[tuple[Person, Recorded, str, tuple[layout.Field, ...]]] = []
        for child in spell.children:
            rec = recorder.record(child, spell.report_month, "tanf", parent_ssn(story, child),
                                  names=False)
            address_labels(rec, addr)
            kids.append(_zeros(layout.T3_CHILD) | _person_items(child, rec, self.encrypt) | {
                "RECEIVE_NONSSA_BENEFITS": 2, "RECEIVE_SSI": 2, "RELATIONSHIP_HOH": 4,
                "PARENT_MINOR_CHILD": 3, "EDUCATION_LEVEL": 98, "CITIZENSHIP_STATUS": 1})
            children.append((child, rec, layout.format_record(layout.T3_CHILD, kids[-1]),
                             layout.T3_CHILD))
        self._log(ym, spell.case_number, "C", children)
        for i in range(0, len(kids), 2):
            lines.append(layout.format_t3_record(common, kids[i:i + 2]))
        fh.write("\n".join(lines) + "\n")
        count[0] += len(lines)

    def _log(self, month: str, case: str, kind: str,
             people: list[tuple[Person, Recorded, str, tuple[layout.Field, ...]]]) -> None:
        """Log the adults ("A") or children ("C") of a case and month in the truth under the ids
        the ingest gives them. Each person comes with what was written (a T2 line, or a T3 child
        slot) and its layout, read back here as the ingest reads it: the items, the SSN in
        digits, and the person's own text (a T2 line from after its case number on)."""
        read = []
        for _, _, written, fields in people:
            items = layout.parse_record(fields, written)
            if self.encrypt and items["SSN"]:
                items["SSN"] = layout.decrypt_ssn(items["SSN"])
            own = written[layout.T3_PREFIX[-1].end:] if fields is layout.T2 else written
            read.append((items, own.rstrip(" ")))
        ids = layout.person_ids(month, case, kind, read)
        for (person, rec, _, _), source_id in zip(people, ids, strict=True):
            self.log(source_id, person, rec)

    def close(self) -> dict[str, int]:
        counts = {}
        for (year, quarter), (fh, count) in sorted(self._files.items()):
            fh.write(layout.format_record(layout.TRAILER, {
                "TITLE": "TRAILER", "RECORD_COUNT": count[0]}) + "\n")
            fh.close()
            counts[f"tanf/tanf_section1_{year}Q{quarter}.txt"] = count[0]
        return counts
