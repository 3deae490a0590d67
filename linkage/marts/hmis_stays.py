"""HMIS stays as the marts read them: each enrollment with its exit date, project type and
living situation at entry. Several lists ask where a person has stayed; one definition."""

from __future__ import annotations

from linkage.warehouse import literal


def hmis_stays_sql(enrollment_event: str = "hmis_enrollment",
                   exit_event: str = "hmis_exit") -> str:
    """SELECT of record_id, hmis_household_id, enrollment_id, entry_date, exit_date,
    project_type, living_situation, project_id (an exit event's group is its EnrollmentID)."""
    return f"""
        SELECT e.record_id, e.group_id AS hmis_household_id,
               e.details->>'EnrollmentID' AS enrollment_id, e.start_date AS entry_date,
               x.start_date AS exit_date, e.details->>'_project_type' AS project_type,
               e.details->>'_living_situation' AS living_situation,
               e.details->>'ProjectID' AS project_id
        FROM staged.events e
        LEFT JOIN staged.events x ON x.event_type = {literal(exit_event)}
             AND x.record_id = e.record_id AND x.group_id = (e.details->>'EnrollmentID')
        WHERE e.event_type = {literal(enrollment_event)}"""


def hmis_projects_sql() -> str:
    """SELECT of project_id, project_name, organization_name: the provider staff call about a
    stay (HMIS has no caseworker column; the project is its office)."""
    return """
        SELECT p.group_id AS project_id, p.attributes->>'ProjectName' AS project_name,
               o.attributes->>'OrganizationName' AS organization_name
        FROM staged.groups p
        LEFT JOIN staged.groups o ON o.group_type = 'hmis_organization'
             AND o.group_id = (p.attributes->>'OrganizationID')
        WHERE p.group_type = 'hmis_project'"""
