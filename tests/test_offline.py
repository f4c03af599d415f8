"""The offline paths: console, demo, CSV import and export."""

import csv
import io

from sqlalchemy import func, select

from bot.console import console
from bot.transfer import ImportError_, export, import_partners
from storage import demo
from storage.db import unit_of_work
from storage.models import Interaction, Partner
from tests import cli


def count(model):
    with unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))


def run_console(settings, lines, user="U0DEMO1"):
    out = io.StringIO()
    assert console(settings, user_id=user, stdin=io.StringIO(lines), stdout=out) == 0
    return out.getvalue()


def test_console_runs_commands_and_renders_text(settings):
    output = run_console(settings, 'add "Acme Corp" type:channel tier:Gold\nlog acme call <!channel> & co\nstatus acme\n')
    assert "/partner status acme" in output
    assert "Acme Corp\n=========" in output
    assert "Tier: Gold" in output
    assert "*call* by @U0DEMO1: <!channel> & co" in output
    assert "&lt;" not in output and "&amp;" not in output


def test_console_accepts_typed_user_ids(settings):
    output = run_console(settings, "add Globex type:alliance owner:@U0DEMO2\nlist owner:@U0DEMO2\n")
    assert "owner @U0DEMO2" in output
    assert "Globex" in output.split("/partner list")[1]


def test_console_shows_errors_without_traceback(settings):
    output = run_console(settings, "status nobody\nadd\n")
    assert "No partner is called `nobody`" in output
    assert "Traceback" not in output


def test_demo_seeds_partners_of_every_type_with_history(settings):
    with unit_of_work() as s:
        counts = demo.seed(session=s, partners=12, seed=3)
    assert counts["partners"] == 12 == count(Partner)
    assert counts["interactions"] == count(Interaction) > 0
    with unit_of_work() as s:
        assert set(s.scalars(select(Partner.type).distinct())) == {"channel", "alliance", "technology"}
    output = run_console(settings, "status\n", user="U0DEMO1")
    assert "Portfolio · 6 partners" in output


def write_csv(path, rows):
    path.write_text("name,type,tier,owner,stage\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def test_import_partners_then_export(settings, tmp_path):
    path = write_csv(tmp_path / "p.csv", ["Acme Corp,channel,Gold,U0AAA,active", '"Hooli, Inc",technology,,U0BBB,'])
    assert import_partners(path) == (2, 0)
    out = io.StringIO()
    assert export("partners", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["name"], r["type"], r["tier"], r["owner"], r["stage"]) for r in rows] == [
        ("Acme Corp", "channel", "Gold", "U0AAA", "active"),
        ("Hooli, Inc", "technology", "", "U0BBB", "onboarding"),
    ]


def test_bad_row_reports_line_and_imports_nothing(settings, tmp_path):
    path = write_csv(tmp_path / "p.csv", ["Acme,channel,Gold,U0AAA,active", "Bad,reseller,,U0AAA,", "Acme,alliance,,U0AAA,"])
    try:
        import_partners(path)
    except ImportError_ as error:
        message = str(error)
    else:
        raise AssertionError("import should fail")
    assert "line 3: type must be channel, alliance or technology" in message
    assert "line 4: Acme is already on line 2" in message
    assert count(Partner) == 0


def test_import_refuses_names_that_exist(settings, tmp_path):
    import_partners(write_csv(tmp_path / "a.csv", ["Acme,channel,,U0AAA,"]))
    try:
        import_partners(write_csv(tmp_path / "b.csv", ["Beta,channel,,U0AAA,", "ACME,channel,,U0AAA,"]))
    except ImportError_ as error:
        assert "line 3: ACME already exists; use --update to change existing partners" in str(error)
    else:
        raise AssertionError("import should fail")
    assert count(Partner) == 1


def test_cli_import_bad_file_exits_1_with_message(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["Acme,channel,,alice,"])
    result = cli.run("import", "partners", str(path), env=cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/cli.db"),
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "line 2: owner must be a Slack user ID" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_console_reads_piped_stdin(tmp_path):
    result = cli.run("console", "--user", "U0ME", input="add Acme type:channel\nstatus\n",
                     env=cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/cli.db"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Added *Acme*" in result.stdout
    assert "Portfolio · 1 partner" in result.stdout


def test_export_kpis_keeps_sourced_and_influenced_apart(settings):
    from datetime import datetime, timezone
    from decimal import Decimal

    from storage import kpis, partners

    now = datetime.now(timezone.utc)
    with unit_of_work() as s:
        p = partners.create(session=s, name="Acme", type="channel", tier=None, owner_id="U1", stage="active", created_by="U1", now=now)
        kpis.set_kpi(session=s, partner_id=p.id, metric="revenue", month="2026-10", value=Decimal("1200.50"), user_id="U1", now=now)
        kpis.set_kpi(session=s, partner_id=p.id, metric="revenue", month="2026-10", value=Decimal("300"), user_id="U1", now=now, attribution="influenced")
    out = io.StringIO()
    assert export("kpis", out) == 2
    assert out.getvalue().splitlines() == [
        "partner,metric,month,source,attribution,value",
        "Acme,revenue,2026-10,manual,influenced,300.00",
        "Acme,revenue,2026-10,manual,sourced,1200.50",
    ]
