"""A run's report in Markdown: what it read, what it linked, the lists, and every gate.

Counts and file names only, never a record's values: the report goes into Prefect's UI (as an
artifact) and beside the versions (reports/run-<run>.md), where more people see it than see
the data.
"""

from __future__ import annotations

from pathlib import Path

from linkage.publish.gates import Gate


def _change(now: int | None, before: int | None) -> str:
    if now is None:
        return "-"
    if before is None:
        return "new"
    diff = now - before
    return f"{diff:+,}" + (f" ({diff / before:+.1%})" if before else "")


def list_changes(metrics: dict, previous: dict | None) -> list[dict]:
    """Each list's size in this run and in the last published one."""
    before = (previous or {}).get("lists", {})
    return [{"list": name, "last published": before.get(name), "this run": n,
             "change": _change(n, before.get(name))}
            for name, n in sorted(metrics["lists"].items())]


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    def cell(value: object) -> str:
        text = "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows), ""]


def run_report(run_id: str, published: bool, gates: list[Gate], metrics: dict,
               previous: dict | None, link: dict | None = None,
               families: dict | None = None) -> str:
    """The Markdown report of a finished run (published or held)."""
    failed = [g for g in gates if not g.passed]
    verdict = ("**published**: it is now the current version" if published else
               f"**held**: {len(failed)} gate(s) failed; it stays unpublished until an "
               f"analyst accepts it: `famlink publish {run_id} --reason TEXT --by NAME`")
    lines = [f"# famlink run {run_id}", "", f"Run {run_id} is {verdict}.", ""]
    lines += ["## Gates", ""]
    lines += _table(["gate", "result", "measured"],
                    [[g.name, "passed" if g.passed else "**FAILED**", g.detail]
                     for g in sorted(gates, key=lambda g: g.passed)])
    lines += ["## Files read", ""]
    lines += _table(["file", "rows read", "rejected", "staged"],
                    [[file, c["read"], c["rejected"], c["read"] - c["rejected"]]
                     for file, c in sorted(metrics["files"].items())])
    before = previous or {"sources": {}, "persons": None, "families": None}
    lines += ["## Records, persons and families", ""]
    rows = [[f"staged records: {source}", n, _change(n, before["sources"].get(source))]
            for source, n in sorted(metrics["sources"].items())]
    rows += [["persons", metrics["persons"], _change(metrics["persons"], before["persons"])],
             ["families", metrics["families"],
              _change(metrics["families"], before["families"])]]
    if link:
        rows += [["pairs queued for review", link.get("queued"), ""],
                 ["reviewer decisions applied", link.get("decisions"), ""]]
    if families:
        rows += [[f"families: {key}", n, ""] for key, n in families.items()
                 if key in ("joint", "oversized")]
    lines += _table(["what", "this run", "change since the last published run"], rows)
    lines += ["## Lists", ""]
    lines += _table(["list", "last published", "this run", "change"],
                    [list(row.values()) for row in list_changes(metrics, previous)])
    if link and link.get("charts"):
        lines += [f"The model's weights and the first queued pairs: `{link['charts']}`", ""]
    return "\n".join(lines)


def write_run_report(reports: Path, run_id: str, markdown: str) -> Path:
    """reports/run-<run>.md, readable by its owner only."""
    reports.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = reports / f"run-{run_id}.md"
    path.write_text(markdown, encoding="utf-8")
    path.chmod(0o600)
    return path
