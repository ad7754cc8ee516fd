"""Secrets made once per database and shared by every instance using it (the key that signs
the feedback links in alerts): made on first use, by whichever instance asks first."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from monitor.store.tables import SiteKeyRow


def site_key(engine: Engine, name: str) -> bytes:
    """The secret called `name`, made (32 random bytes) the first time it is asked for; two
    instances asking at once get the same one (the loser of the insert reads the winner's)."""
    with Session(engine) as session:
        found = session.get(SiteKeyRow, name)
        if found is not None:
            return bytes.fromhex(found.value)
        made = SiteKeyRow(name=name, value=secrets.token_hex(32), created_at=datetime.now(UTC))
        session.add(made)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            kept = session.get(SiteKeyRow, name)
            assert kept is not None
            return bytes.fromhex(kept.value)
        return bytes.fromhex(made.value)
