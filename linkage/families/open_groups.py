"""Which cases and households are open on a day: one definition for the families and every list.

A group's own status wins where the source keeps one (a CW or CS case's `case_status`); else its
end date; else, for a household or case the source describes only through its members (an HMIS
household, a TANF case), the latest membership end. Open on the day itself counts.
"""

from __future__ import annotations

from datetime import date


def open_groups_sql(day: date) -> str:
    """SELECT of (group_type, group_id) open on `day`, over families.members."""
    return f"""
        SELECT DISTINCT m.group_type, m.group_id
        FROM families.members m
        LEFT JOIN staged.groups g USING (system, group_type, group_id)
        WHERE CASE WHEN g.attributes->>'case_status' IS NOT NULL
                   THEN g.attributes->>'case_status' = 'OPEN'
                   ELSE coalesce(g.end_date, m.until) IS NULL
                        OR coalesce(g.end_date, m.until) >= DATE '{day}' END"""
