"""The site's saved column mappings for order sheets: the one door to the ``import_mappings`` table.

A desk that mapped an unfamiliar sheet's columns saves the mapping under a name; every desk PC of
the site then imports a sheet with the same headers without asking (``hub/intake/importer.py``
picks it by the sheet's set of headers). Stored at the hub, not on one PC, so a new desk PC or a
reinstall does not lose it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from core.errors import ValidationFailed
from core.import_sheet import FIELDS, missing_fields
from core.timeutil import iso, utcnow
from hub import db
from hub.intake.importer import SavedMapping, header_shape

#: A site has a handful; this many is a mistake (or a script), not a site's sheets.
MAX_MAPPINGS = 200


def load(conn: Connection) -> list[SavedMapping]:
    """Every saved mapping, newest first (the newest wins when two have the same headers)."""
    t = db.import_mappings
    rows = conn.execute(select(t.c.name, t.c.headers, t.c.columns).order_by(t.c.updated_at.desc())).all()
    return [SavedMapping(r.name, tuple(r.headers), dict(r.columns)) for r in rows]


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """The mappings as the API shows them, by name."""
    t = db.import_mappings
    rows = conn.execute(select(t).order_by(t.c.name)).all()
    return [{"name": r.name, "headers": list(r.headers), "columns": dict(r.columns), "updated_by": r.updated_by,
             "updated_at": iso(r.updated_at)} for r in rows]


def save(conn: Connection, name: str, headers: list[str], columns: dict[str, str], *, by: str) -> dict[str, Any]:
    """Save (or replace) mapping ``name``; another mapping for the same headers is replaced too.

    Raises:
        ValidationFailed: a field we do not know, a header the sheet does not have, or required
            fields without a column (``details.problem`` ``missing_columns``, ``missing``).
    """
    name = name.strip()
    if not name:
        raise ValidationFailed("The mapping needs a name.", details={"field": "name"})
    unknown = sorted({f for f in columns.values() if f and f not in FIELDS})
    if unknown:
        raise ValidationFailed(f"Unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}.",
                               details={"field": "columns", "unknown": unknown})
    stray = sorted(h for h in columns if h not in headers)
    if stray:
        raise ValidationFailed(f"Column(s) {', '.join(stray)} are not among the headers.",
                               details={"field": "columns", "not_in_headers": stray})
    kept = {h: f for h, f in columns.items() if f}
    missing = missing_fields(frozenset(kept.values()))
    if missing:
        raise ValidationFailed(f"The mapping has no column for {', '.join(missing)}.",
                               details={"problem": "missing_columns", "missing": missing})
    t = db.import_mappings
    shape = header_shape(headers)
    same_shape = [m.name for m in load(conn) if header_shape(m.headers) == shape and m.name != name]
    count = conn.execute(select(t.c.name)).all()
    if len(count) - len(same_shape) >= MAX_MAPPINGS and name not in {r.name for r in count}:
        raise ValidationFailed(f"The hub keeps at most {MAX_MAPPINGS} mappings; delete old ones first.",
                               details={"limit": MAX_MAPPINGS})
    conn.execute(delete(t).where(t.c.name.in_([name, *same_shape])))
    now = utcnow()
    conn.execute(insert(t).values(name=name, headers=list(headers), columns=kept, updated_by=by, updated_at=now))
    return {"name": name, "headers": list(headers), "columns": kept, "updated_by": by, "updated_at": iso(now),
            "replaced": same_shape}
