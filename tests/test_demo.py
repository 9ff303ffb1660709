"""The demo seed: realistic, idempotent, and it says how to sign in."""

from workspace.exchanges.models import Exchange
from workspace.extensions import db
from workspace.sessions.models import ExchangeSession


def test_seed_demo(runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "amina@demo.baraza" in result.output and "password" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert db.session.execute(db.select(db.func.count(Exchange.id))).scalar() == 1

    exchange = db.session.execute(db.select(Exchange)).scalar_one()
    assert len(exchange.providing_countries) >= 1 and len(exchange.memberships) >= 5
    sessions = list(db.session.execute(db.select(ExchangeSession)).scalars())
    assert {s.phase for s in sessions} == {"preparation", "implementation", "wrap_up"}
    for phase in ("preparation", "implementation", "wrap_up"):
        assert {s.mode for s in sessions if s.phase == phase} == {"open", "closed"}, phase
    assert all(s.agenda_items for s in sessions)

    client.post("/login", data={"email": "amina@demo.baraza", "password": "demo-baraza-2026"})
    page = client.get("/").get_data(as_text=True)
    assert exchange.title in page

    results = client.get("/sessions/1/feedback/results").get_data(as_text=True)
    assert 'data-responses="4"' in results

    reset = runner.invoke(args=["seed-demo", "--reset"])
    assert reset.exit_code == 0
