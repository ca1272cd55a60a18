"""What a gallery page costs the database (two statements on one connection, no ping), and that
the page made cheaply is the page the straightforward code made, byte for byte."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from photogallery.data import photos as photo_data
from photogallery.data.models import Photo, PhotoLabel
from photogallery.data.schema import photo_labels, photos, users
from photogallery.web import present
from tests.conftest import Auth, insert_photo_row

LABELS = [  # names a link or a page must escape, parents folded into chips, a tie of confidence
    PhotoLabel("Cat", 97.04, ("Pet", "Animal")),
    PhotoLabel("Pet", 97.0, ("Animal",)),
    PhotoLabel("Animal", 97.0),
    PhotoLabel("Fish & Chips", 90.0, ("Food",)),
    PhotoLabel('<b>"Q"</b> a+b', 80.0),
    PhotoLabel("Café crème", 70.0),
]


def library(app, count: int = 5) -> int:
    """Alice's photos with labels of every kind (one unlabelled, one failed); her client."""
    client = app.test_client()
    assert Auth(client).signup().status_code == 302
    engine = app.extensions["photogallery"].engine
    start = datetime(2026, 1, 31, 12)
    with engine.begin() as conn:
        owner = conn.execute(select(users.c.id).where(users.c.username == "alice")).scalar()
        for n in range(count):
            photo = insert_photo_row(
                conn, owner, n, created_at=start + timedelta(days=n * 10), description=""
            )
            if n % 5 == 1:
                photo_data.mark_label_attempt(conn, photo.id, error="x", final=True)
            elif n % 5 != 2:
                photo_data.set_labels(conn, photo.id, LABELS[n % 3 :], model="test")
            if n % 5 == 3:
                photo_data.add_owner_label(conn, photo.id, "Grandma's <cat>")
    return client


def count_database_work(engine):
    counts = {"statements": 0, "checkouts": 0, "pings": 0}

    def bump(name):
        return lambda *_args, **_kw: counts.__setitem__(name, counts[name] + 1)

    event.listen(engine, "before_cursor_execute", bump("statements"))
    event.listen(engine.pool, "checkout", bump("checkouts"))
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda conn: bump("pings")() or real_ping(conn)
    return counts


@pytest.mark.parametrize("stack", ["sqlite", "mysql"], indirect=True)
def test_a_gallery_or_search_page_is_two_statements_on_one_connection_without_a_ping(make_app):
    app = make_app(PAGE_SIZE=2)
    client = library(app)
    second = re.search(r'href="(/\?cursor=[\w-]+)"', client.get("/").text).group(1)
    counts = count_database_work(app.extensions["photogallery"].engine)

    for url in ("/", "/?q=cat", "/?q=animal+pet", second):
        before = dict(counts)
        assert client.get(url).status_code == 200
        work = {name: counts[name] - before[name] for name in counts}
        assert work == {"statements": 2, "checkouts": 1, "pings": 0}, url


REFERENCE = """\
{% for month, group in groups %}
  <section class="month" data-month="{{ month }}">
  <h2>{{ month }}</h2>
  <ul class="grid">
  {% for photo, thumbnail_url, preview_url, alt in group %}
    <li data-id="{{ photo.id }}" data-status="{{ photo.label_status }}">
      <a class="thumb" href="{{ photos_url }}{{ photo.id }}">
        <img src="{{ thumbnail_url }}" srcset="{{ thumbnail_url }} 400w, {{ preview_url }} 1600w" \
sizes="{{ thumb_sizes }}" alt="{{ alt }}" loading="lazy" width="400" height="400">
      </a>
      <p class="chips">
      {% if photo.labels %}
        {% for label in label_chips(photo.labels)[:3] %}<a class="chip" href="{{ index_url }}?\
{{ {'q': label.name} | urlencode }}">{{ label.name }}</a>{% endfor %}
      {% elif photo.label_status == 'done' %}<span class="muted">Nothing recognised</span>
      {% elif photo.label_status == 'failed' %}<span class="muted">Could not be labelled</span>
      {% else %}<span class="muted">Not labelled yet</span>{% endif %}
      </p>
    </li>
  {% endfor %}
  </ul>
  </section>
  {% endfor %}"""
GRID = re.compile(r'<section class="month".*</section>', re.S)


def straightforward_page(conn, owner_id: int, query: str) -> list[Photo]:
    """The page's photos as the code before did it: a row a photo, labels by a second query."""
    if query:
        ids = [p.id for p in photo_data.list_photos(conn, owner_id, query_terms=[query])]
        where = photos.c.id.in_(ids)
    else:
        where = photos.c.owner_id == owner_id
    rows = conn.execute(
        select(photos).where(where).order_by(photos.c.created_at.desc(), photos.c.id.desc())
    ).all()
    found = []
    for row in rows:
        labels = [
            PhotoLabel(r.name, r.confidence, tuple(p for p in r.parents.split("|") if p), r.source)
            for r in conn.execute(select(photo_labels).where(photo_labels.c.photo_id == row.id))
            if r.source != "removed"
        ]
        labels.sort(key=lambda lb: (-round(lb.confidence, 1), -len(lb.parents), lb.name))
        found.append(Photo(**row._mapping, labels=tuple(labels)))
    return found


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize("query", ["", "cat"])
def test_the_page_is_the_one_the_straightforward_code_renders(make_app, query):
    app = make_app()
    client = library(app, count=10)
    page = client.get("/", query_string={"q": query} if query else None).text
    backends = app.extensions["photogallery"]
    with backends.engine.connect() as conn:
        owner = conn.execute(select(users.c.id).where(users.c.username == "alice")).scalar()
        found = straightforward_page(conn, owner, query)
    shared = present.shared_descriptions(found)
    items = [
        (p, backends.store.url(p.thumbnail_key), backends.store.url(p.preview_key),
         present.alt_text(p, shared))
        for p in found
    ]  # fmt: skip
    with app.test_request_context("/"):
        expected = app.jinja_env.from_string(REFERENCE).render(
            groups=present.month_groups(items),
            photos_url="/photos/",
            index_url="/",
            thumb_sizes="(max-width: 643px) 33vw, 240px",
            label_chips=present.chips,
        )

    assert len(found) > 3 and "Fish%20" not in page and "Fish+%26+Chips" in page
    assert GRID.search(page).group(0) == GRID.search(expected).group(0)


class CountingPings:
    """mysql-connector's C connection, its pings counted."""

    def __init__(self, real) -> None:
        self.real, self.pings = real, 0

    def ping(self, *args):
        self.pings += 1
        return self.real.ping(*args)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.parametrize("stack", ["mysql"], indirect=True)
def test_a_mysql_statement_is_one_round_trip_without_the_drivers_ping(app):
    with app.extensions["photogallery"].engine.connect() as conn:
        driver = conn.connection.dbapi_connection
        driver._cmysql = counting = CountingPings(driver._cmysql)
        for _ in range(3):
            assert conn.execute(text("SELECT 1")).scalar() == 1
        driver._cmysql = counting.real

    assert counting.pings == 0


def test_chips_remembered_by_the_process_keep_the_search_url_they_were_made_for():
    """Apps under two URL prefixes in one process (or one app behind two) each get their own
    links, though chips are built once per name and URL."""
    labels = (PhotoLabel("Fish & Chips", 90.0),)
    at_root = present.ChipLinks("/").for_labels(labels)
    under_prefix = present.ChipLinks("/photos/").for_labels(labels)
    assert at_root == '<a class="chip" href="/?q=Fish+%26+Chips">Fish &amp; Chips</a>'
    assert under_prefix == '<a class="chip" href="/photos/?q=Fish+%26+Chips">Fish &amp; Chips</a>'
    assert present.ChipLinks("/").for_labels(labels) == at_root


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_chips_remembered_for_a_page_change_with_its_labels(make_app):
    """A page seen again reuses its photos' chips; a label added or removed shows at once."""
    app = make_app()
    client = library(app, count=3)
    engine = app.extensions["photogallery"].engine
    client.get("/")  # the sign-up's welcome shows once
    first = client.get("/").text
    assert client.get("/").text == first
    with engine.begin() as conn:
        newest = conn.execute(select(photos.c.id).order_by(photos.c.id.desc())).scalar()
        photo_data.add_owner_label(conn, newest, "Zebra crossing")
        photo_data.remove_label(conn, newest, "Fish & Chips")
    changed = client.get("/").text
    chips = re.search(rf'data-id="{newest}".*?<p class="chips">(.*?)</p>', changed, re.S).group(1)
    assert "Zebra crossing" in chips and "Fish" not in chips
