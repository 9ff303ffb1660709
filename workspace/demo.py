"""A realistic demo exchange: Kenya learning from Colombia and Portugal about the creative economy."""

from __future__ import annotations

from datetime import timedelta

from .agenda.models import AgendaItem
from .auth.models import User
from .demo_board import seed_board
from .exchanges.models import Exchange, Membership
from .extensions import db
from .feedback.models import FeedbackForm, FeedbackQuestion, FeedbackResponder, FeedbackResponse, FormState
from .feedback.templates import questions_of
from .sessions.models import ExchangeSession, new_join_code
from .timeutil import utcnow

DEMO_PASSWORD = "demo-baraza-2026"  # noqa: S105 (printed by the command; demo accounts only)
DEMO_TITLE = "Creative economy policy: Kenya, Colombia and Portugal"

PEOPLE = [
    # email, name, organisation, country, role, side, locale, zone, gender
    (
        "amina@demo.baraza",
        "Amina Odhiambo",
        "Ministry of Youth, Creative Economy and Sports",
        "KE",
        "coordinator",
        "seeking",
        "en",
        "Africa/Nairobi",
        "woman",
    ),
    (
        "lucia@demo.baraza",
        "Lucía Restrepo",
        "Ministerio de las Culturas, las Artes y los Saberes",
        "CO",
        "moderator",
        "providing",
        "es",
        "America/Bogota",
        "woman",
    ),
    (
        "joao@demo.baraza",
        "João Ferreira",
        "Direção-Geral das Artes",
        "PT",
        "note_taker",
        "providing",
        "pt",
        "Europe/Lisbon",
        "man",
    ),
    (
        "wanjiru@demo.baraza",
        "Wanjiru Kamau",
        "Kenya Copyright Board",
        "KE",
        "participant",
        "seeking",
        "en",
        "Africa/Nairobi",
        "woman",
    ),
    (
        "otieno@demo.baraza",
        "Otieno Mwangi",
        "Nairobi Creative Hubs Network",
        "KE",
        "participant",
        "seeking",
        "en",
        "Africa/Nairobi",
        None,
    ),
    (
        "carlos@demo.baraza",
        "Carlos Mejía",
        "Ministerio de las Culturas",
        "CO",
        "participant",
        "providing",
        "es",
        "America/Bogota",
        "man",
    ),
    (
        "sofia@demo.baraza",
        "Sofia Almeida",
        "GDA — Cooperativa de Gestão dos Direitos dos Artistas",
        "PT",
        "participant",
        "providing",
        "pt",
        "Europe/Lisbon",
        "woman",
    ),
    (
        "claire@demo.baraza",
        "Claire Dubois",
        "Peer-learning facility",
        "FR",
        "observer",
        "facilitator",
        "fr",
        "Europe/Paris",
        "woman",
    ),
]

SESSIONS = [
    # title, method, phase, mode, status, start offset (days), hour UTC, minutes, zone, outcomes, agenda
    (
        "Diagnostic meeting: where Kenya's creative economy policy stands",
        "diagnostic",
        "preparation",
        "closed",
        "ended",
        -20,
        8,
        120,
        "Africa/Nairobi",
        "A shared picture of the gaps in the draft strategy and the questions for the peers.",
        [
            ("Welcome and purpose of the exchange", 10, "Amina Odhiambo"),
            ("The draft National Creative Economy Strategy", 30, "Wanjiru Kamau"),
            ("Gaps and open questions, in small groups", 50, ""),
            ("Agreeing the learning questions", 30, "Lucía Restrepo"),
        ],
    ),
    (
        "Open forum: what artists expect from the strategy",
        "webinar",
        "preparation",
        "open",
        "ended",
        -12,
        14,
        90,
        "Africa/Nairobi",
        "Artists' and hubs' priorities gathered and shared with the peers.",
        [
            ("Opening", 10, "Amina Odhiambo"),
            ("Voices from the hubs", 40, "Otieno Mwangi"),
            ("Questions from the public", 40, ""),
        ],
    ),
    (
        "Focus group with Nairobi creative hubs",
        "focus_group",
        "implementation",
        "open",
        "live",
        0,
        None,
        90,
        "Africa/Nairobi",
        "Three proposals on financing creative hubs, tested against Colombia's experience.",
        [
            ("How hubs are financed today", 20, "Otieno Mwangi"),
            ("Colombia's creative districts (Áreas de Desarrollo Naranja)", 30, "Carlos Mejía"),
            ("What could work in Nairobi", 30, ""),
            ("Wrap-up", 10, "Lucía Restrepo"),
        ],
    ),
    (
        "Round table: Colombia's creative economy law, ten years on",
        "round_table",
        "implementation",
        "closed",
        "scheduled",
        3,
        14,
        120,
        "America/Bogota",
        "Lessons from the law's implementation: what to copy, what to avoid, what it cost.",
        [
            ("The law and its institutions", 25, "Carlos Mejía"),
            ("Financing instruments", 35, "Lucía Restrepo"),
            ("Frank talk: what did not work", 40, ""),
            ("Questions from Kenya", 20, "Wanjiru Kamau"),
        ],
    ),
    (
        "Webinar: Portugal's statute of cultural professionals",
        "webinar",
        "implementation",
        "open",
        "scheduled",
        6,
        12,
        75,
        "Europe/Lisbon",
        "Understanding social protection for artists and how it was negotiated.",
        [
            ("The statute in ten minutes", 15, "João Ferreira"),
            ("How it was negotiated", 25, "Sofia Almeida"),
            ("Questions and answers", 35, ""),
        ],
    ),
    (
        "Exchange visit to Lisbon: creative hubs and the artists' registry",
        "visit",
        "implementation",
        "closed",
        "scheduled",
        21,
        9,
        360,
        "Europe/Lisbon",
        "First-hand view of registry operations and two creative hubs.",
        [
            ("Visit to the registry", 120, "João Ferreira"),
            ("Lunch with hub managers", 90, ""),
            ("Debrief", 60, "Claire Dubois"),
        ],
    ),
    (
        "Feedback session: lessons learned",
        "feedback",
        "wrap_up",
        "closed",
        "draft",
        35,
        13,
        90,
        "Africa/Nairobi",
        "Agreed key learning points and follow-up actions for the strategy.",
        [("What we learned", 40, "Amina Odhiambo"), ("Follow-up actions", 35, ""), ("Evaluation", 15, "")],
    ),
    (
        "Public presentation of the revised strategy",
        "webinar",
        "wrap_up",
        "open",
        "scheduled",
        42,
        12,
        60,
        "Africa/Nairobi",
        "The revised strategy presented to the public, with the peers' contributions acknowledged.",
        [
            ("Presentation", 30, "Amina Odhiambo"),
            ("Responses from Colombia and Portugal", 15, ""),
            ("Questions", 15, ""),
        ],
    ),
]


def seed(reset: bool = False, echo=print) -> None:
    existing = db.session.execute(db.select(Exchange).filter_by(title=DEMO_TITLE)).scalar_one_or_none()
    if existing and reset:
        db.session.delete(existing)
        db.session.commit()
        existing = None
    if existing is None:
        _create()
    echo("Demo exchange ready: " + DEMO_TITLE)
    echo(f"Sign in as the coordinator: {PEOPLE[0][0]}  password: {DEMO_PASSWORD}")
    echo(f"Other demo accounts (same password): {', '.join(p[0] for p in PEOPLE[1:4])}, ...")


def _create() -> None:
    users = {}
    for email, name, org, country, _role, _side, locale, zone, gender in PEOPLE:
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is None:
            user = User(
                email=email,
                display_name=name,
                organisation=org,
                country=country,
                locale=locale,
                timezone=zone,
                gender=gender,
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        users[email] = user
    exchange = Exchange(
        title=DEMO_TITLE,
        goal=(
            "Kenya is drafting its National Creative Economy Strategy. Its team learns from Colombia's "
            "creative economy law and Portugal's statute of cultural professionals, to write a strategy "
            "that finances creative hubs and protects artists."
        ),
        seeking_country="KE",
        providing_countries=["CO", "PT"],
        working_languages=["en", "es", "pt"],
    )
    db.session.add(exchange)
    for email, _n, _o, _c, role, side, *_rest in PEOPLE:
        db.session.add(Membership(exchange=exchange, user=users[email], role=role, side=side))
    now = utcnow().replace(second=0, microsecond=0)
    for title, method, phase, mode, status, days, hour, minutes, zone, outcomes, agenda in SESSIONS:
        starts = (
            now - timedelta(minutes=10) if hour is None else (now + timedelta(days=days)).replace(hour=hour, minute=0)
        )
        session = ExchangeSession(
            exchange=exchange,
            title=title,
            method=method,
            phase=phase,
            mode=mode,
            status=status,
            starts_at=starts,
            host_timezone=zone,
            duration_minutes=minutes,
            online_url="https://meet.example.org/baraza-demo" if method != "visit" else "",
            venue="Rua da Rosa 12, Lisbon" if method == "visit" else "",
            working_languages=["en", "es", "pt"],
            expected_outcomes=outcomes,
            join_code=new_join_code(),
        )
        for position, (item_title, item_minutes, presenter) in enumerate(agenda):
            session.agenda_items.append(
                AgendaItem(position=position, title=item_title, minutes=item_minutes, presenter=presenter)
            )
        db.session.add(session)
    db.session.flush()
    live_now = next(s for s in exchange.sessions if s.status == "live")
    seed_board(live_now, users, {p[0]: p[5] for p in PEOPLE})
    exchange.created_by_id = users[PEOPLE[0][0]].id
    _feedback(db.session.execute(db.select(ExchangeSession).filter_by(title=SESSIONS[0][0])).scalar_one(), now)
    db.session.commit()


# The diagnostic meeting's evaluation: relevance, outcomes, moderation, peers, what I will apply, suggestions.
FEEDBACK = [
    (5, "yes", 4, 5, "Map the gaps in the strategy against the learning questions.", ""),
    (4, "partly", 4, 3, "", "More time for the small groups."),
    (4, "yes", 5, 4, "Ask Colombia how creative districts are financed.", "Share the draft a week before."),
    (3, "partly", 3, 4, "", ""),
]


def _feedback(session: ExchangeSession, now) -> None:
    """An anonymous session evaluation with a few answers, so the results page has something to show."""
    form = FeedbackForm(session=session, template="session", anonymous=True, state=FormState.OPEN)
    form.closes_at = now + timedelta(days=7)
    db.session.add(form)
    for position, fields in enumerate(questions_of("session")):
        form.questions.append(FeedbackQuestion(position=position, **fields))
    db.session.flush()
    ids = [str(q.id) for q in form.questions]
    for n, values in enumerate(FEEDBACK):
        answers = {qid: value for qid, value in zip(ids, values, strict=True) if value}
        answered_on = (now - timedelta(days=19)).date()
        db.session.add(FeedbackResponse(form_id=form.id, answers=answers, submitted_on=answered_on))
        # Who responded is a keyed hash in the app; demo answers stand for people who are not accounts.
        db.session.add(FeedbackResponder(form_id=form.id, key=f"demo-{n}", submitted=True))
