"""A seeded workspace per size: `partnerbot demo --partners N` (the app's own
seeding, so every stored aggregate it keeps is filled the way the app fills it),
into a fresh SQLite file or an emptied PostgreSQL schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

ROOT = Path(__file__).resolve().parent.parent
PARTNERBOT = [sys.executable, "-m", "bot"]
OWNER = "U0DEMO1"  # the demo's first owner: about 500 partners from 1,500 partners up
PORTFOLIO = 500
# `partnerbot demo` takes minutes at 50,000 partners (five million interactions built
# row by row in Python); above BASE the bench seeds BASE and copies it in SQL.
BASE = 10_000


@dataclass
class Workspace:
    url: str
    partners: int
    seconds: float
    owned: int  # partners OWNER owns
    names: list[str]  # some of OWNER's partners, for `status <partner>` and `log`
    pages: int  # pages of an unfiltered `list`
    how: str = ""


def seed(*, partners: int, work: Path, env: dict[str, str], postgres: str | None, previous: int = 0) -> Workspace:
    """`previous`: the size the database holds from the last run (PostgreSQL: a 10k workspace is
    copied in place for 50k, as it stands after its own run — a few hundred bench-logged calls)."""
    base = min(partners, BASE)
    url = postgres or f"sqlite:///{work}/bench-{partners}.db"
    template = work / f"template-{base}.db"
    started = time.perf_counter()
    how = f"`partnerbot demo --partners {base}`"
    if postgres and previous == base and partners > base:
        how = f"the {base:,} workspace above"
    elif not postgres and template.exists():  # the 10k demo, seeded for the 10k run, is the base of 50k
        shutil.copyfile(template, work / f"bench-{partners}.db")
        how = f"the {base:,} demo above"
    else:
        if postgres:
            engine = create_engine(url)
            with engine.begin() as c:
                c.execute(text("DROP SCHEMA public CASCADE"))
                c.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            started = time.perf_counter()
        subprocess.run(PARTNERBOT + ["demo", "--partners", str(base)], env={**env, "DATABASE_URL": url}, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        if not postgres and base == BASE:
            shutil.copyfile(work / f"bench-{partners}.db", template)
    engine = create_engine(url)
    if partners > base:
        replicate(engine, copies=-(-partners // base))
    seconds = time.perf_counter() - started
    how += f", copied ×{-(-partners // base)} in SQL" if partners > base else ""
    with engine.begin() as c:
        total = c.execute(text("SELECT count(*) FROM partners")).scalar()
        owned = c.execute(text("SELECT count(*) FROM partners WHERE owner_id = :o"), {"o": OWNER}).scalar()
        if owned != PORTFOLIO and total >= 2 * PORTFOLIO:
            # Small workspaces have fewer owners with more partners each: OWNER gets exactly the first 500
            # (the rest of theirs go to the second owner) before the server starts, so nothing is cached yet
            # and the portfolio is the same size at every size.
            first = c.execute(text("SELECT max(id) FROM (SELECT id FROM partners ORDER BY id LIMIT :n) AS f"), {"n": PORTFOLIO}).scalar()
            c.execute(text("UPDATE partners SET owner_id = 'U0DEMO2' WHERE owner_id = :o AND id > :f"), {"o": OWNER, "f": first})
            c.execute(text("UPDATE partners SET owner_id = :o WHERE id <= :f"), {"o": OWNER, "f": first})
            owned = c.execute(text("SELECT count(*) FROM partners WHERE owner_id = :o"), {"o": OWNER}).scalar()
        names = [r[0] for r in c.execute(text("SELECT name FROM partners WHERE owner_id = :o ORDER BY id LIMIT 200"), {"o": OWNER})]
    engine.dispose()
    from views.partners import PAGE_SIZE

    return Workspace(url=url, partners=total, seconds=seconds, owned=owned, names=names, pages=max(1, -(-total // PAGE_SIZE)), how=how)


def replicate(engine: Engine, *, copies: int) -> None:
    """Copy every partner and every row that hangs off one (any table with a
    `partner_id`, so tables added later come along) `copies - 1` times, with
    ids offset per copy, names suffixed " R<n>" and owners "<owner>R<n>" (each
    owner keeps the demo's ~500 partners). Unique text columns get the suffix
    too; other columns are copied as they are."""
    insp = inspect(engine)
    tables = {t: [c["name"] for c in insp.get_columns(t)] for t in insp.get_table_names()}
    with engine.begin() as c:
        top = c.execute(text("SELECT max(id) FROM partners")).scalar()
        for n in range(1, copies):
            off, tag = n * top, f"R{n}"
            cols = tables["partners"]
            exprs = {"id": f"id + {off}", "name": f"name || ' {tag}'", "name_key": f"name_key || ' {tag.lower()}'",
                     "owner_id": f"owner_id || '{tag}'"}
            c.execute(text(f"INSERT INTO partners ({', '.join(cols)}) SELECT {', '.join(exprs.get(k, k) for k in cols)} "
                           f"FROM partners WHERE id <= {top}"))
            for table, cols in tables.items():
                if table == "partners" or "partner_id" not in cols:
                    continue
                unique = {col for u in insp.get_unique_constraints(table) for col in u["column_names"]}
                unique |= {col for i in insp.get_indexes(table) if i.get("unique") for col in i["column_names"] if col}
                if "partner_id" in unique:
                    unique = set()  # unique per partner: the new partner_id keeps it unique
                fks = {col for fk in insp.get_foreign_keys(table) if fk["referred_table"] == "partners" for col in fk["constrained_columns"]}
                text_cols = {col["name"] for col in insp.get_columns(table) if "CHAR" in str(col["type"]).upper() or "TEXT" in str(col["type"]).upper()}
                keep = [k for k in cols if k != "id"]
                exprs = {k: f"{k} + {off}" for k in fks}
                exprs.update({k: f"{k} || ' {tag}'" for k in unique & text_cols})
                c.execute(text(f"INSERT INTO {table} ({', '.join(keep)}) SELECT {', '.join(exprs.get(k, k) for k in keep)} "
                               f"FROM {table} WHERE partner_id <= {top}"))
        if engine.dialect.name == "postgresql":
            c.execute(text("SELECT setval(pg_get_serial_sequence('partners', 'id'), (SELECT max(id) FROM partners))"))
