"""Which partners a bulk statement touches. ORM bulk INSERT, UPDATE and DELETE
bypass the session's object tracking, so the session watches that keep stored
health (storage/health.py) and card versions (storage/versions.py) current ask here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

PARTNERS = "partners"


def partner_ids(state: Any) -> set[int]:
    """The partner ids an executing INSERT, UPDATE or DELETE on `partners` or on a table with
    `partner_id` touches: from its rows when it names them, else by running its WHERE clause."""
    statement = state.statement
    table = statement.table
    key = "id" if table.name == PARTNERS else "partner_id"
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    if state.is_insert:
        ids = {row.get(key) for row in rows if isinstance(row, dict)} if rows else {statement.compile().params.get(key)}
        return {i for i in ids if i is not None}
    if statement.whereclause is None and rows and all(isinstance(row, dict) and row.get(key) is not None for row in rows):
        return {row[key] for row in rows}  # an UPDATE by primary key, one dict per row
    query = select(table.c[key]).distinct()
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    return {i for i in state.session.execute(query).scalars() if i is not None}


def touches_partners(state: Any) -> bool:
    """A bulk INSERT, UPDATE or DELETE on `partners` or on a table with `partner_id`."""
    table = getattr(state.statement, "table", None)
    return (state.is_insert or state.is_update or state.is_delete) and table is not None and (
        table.name == PARTNERS or "partner_id" in table.c)
