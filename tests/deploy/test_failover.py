"""Take one web server down: HAProxy stands in for the ALB (health check /ready, as the stack's
target group does) in front of two installed instances that share MariaDB and SeaweedFS. A
bounded load of gallery reads and uploads runs while an instance stops gracefully, while both are
updated in turn to a new bundle, and while one is killed hard."""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.conftest import missing
from tests.deploy.conftest import Instance
from tests.fixtures.servers import HOST, free_ports

# Two instances installed (~90 s) plus failover phases of up to 40 s each.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
PASSWORD = "correct horse battery staple"
LOAD_THREADS = 4  # three readers, one uploader: a bounded load on 2 cores
PHOTO_NUMBERS = itertools.count(1)  # every upload is a new photo (the same bytes would be a 409)


@dataclass
class Balancer:
    """HAProxy checking GET /ready every 250 ms: down after 2 failures, up after 2 passes."""

    port: int
    stats_port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def status(self, server: str) -> str:
        text = requests.get(f"http://{HOST}:{self.stats_port}/stats;csv", timeout=5).text
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return next(row["status"] for row in rows if row["svname"] == server)

    def wait_for(self, server: str, status: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.status(server) != status:
            assert time.monotonic() < deadline, f"{server} never became {status}"
            time.sleep(0.1)


HAPROXY_CONFIG = """
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option forwardfor
frontend site
    bind {host}:{port}
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Port {port}
    default_backend web
backend web
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 250ms fall 2 rise 2
    server a {host}:{a} check
    server b {host}:{b} check
listen stats
    bind {host}:{stats}
    stats enable
    stats uri /stats
"""


@pytest.fixture(scope="module")
def pair(instances):
    return instances


@pytest.fixture(scope="module")
def balancer(pair, tmp_path_factory):
    haproxy = shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")
    if not haproxy:
        missing("haproxy", "apt-get install haproxy")
    a, b = pair
    port, stats = free_ports(2)
    config = tmp_path_factory.mktemp("haproxy") / "haproxy.cfg"
    config.write_text(HAPROXY_CONFIG.format(host=HOST, port=port, stats=stats, a=a.port, b=b.port))
    process = subprocess.Popen([haproxy, "-f", str(config)], stderr=subprocess.PIPE)
    lb = Balancer(port, stats, process)
    deadline = time.monotonic() + 20
    while True:
        try:
            lb.wait_for("a", "UP", timeout=20)
            lb.wait_for("b", "UP", timeout=20)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "HAProxy did not start"
            time.sleep(0.2)
    yield lb
    process.terminate()
    process.wait(timeout=10)


@dataclass
class Person:
    """Someone signed in through the site (a session cookie) with a personal API token."""

    cookies: dict
    token: str


def sign_in(base: str, name: str) -> Person:
    requests.post(
        f"{base}/api/users", json={"username": name, "password": PASSWORD}, timeout=30
    ).raise_for_status()
    token = requests.post(f"{base}/api/tokens", auth=(name, PASSWORD), timeout=30).json()["token"]
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    browser.post(
        f"{base}/login",
        data={"csrf_token": csrf, "username": name, "password": PASSWORD},
        timeout=30,
    ).raise_for_status()
    return Person(browser.cookies.get_dict(), token)


def jpeg(n: int) -> bytes:
    """A small JPEG that no other n gives: n's bits as black and white squares."""
    image = Image.new("RGB", (320, 240), (n * 37 % 256, 90, 160))
    for bit in range(24):
        if n >> bit & 1:
            x, y = bit % 6 * 40, bit // 6 * 40
            image.paste((255, 255, 255), (x, y, x + 40, y + 40))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@dataclass
class Load:
    """Gallery reads and uploads through the balancer until stopped; counts every outcome."""

    base: str
    person: Person
    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    failed_at: list[float] = field(default_factory=list)  # time.monotonic() of each failure
    uploaded: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        self.threads = [
            threading.Thread(target=self._run, args=(i == 0,), daemon=True)
            for i in range(LOAD_THREADS)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=90)

    def _run(self, uploader: bool) -> None:
        http = requests.Session()
        http.cookies.update(self.person.cookies)
        deadline = time.monotonic() + 120  # bounded even if the test forgets to stop it
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._one(http, uploader)

    def _one(self, http: requests.Session, uploader: bool) -> None:
        try:
            if uploader:
                n = next(PHOTO_NUMBERS)
                response = http.post(
                    f"{self.base}/api/photos",
                    headers={"Authorization": f"Bearer {self.person.token}"},
                    files={"file": (f"p{n}.jpg", jpeg(n), "image/jpeg")},
                    timeout=60,
                )
                ok = response.status_code == 201
                if ok:
                    with self._lock:
                        self.uploaded.append(response.json()["photos"][0]["id"])
            else:
                response = http.get(f"{self.base}/", timeout=60, allow_redirects=False)
                ok = response.status_code == 200 and b"Sign out" in response.content
            outcome = f"{'upload' if uploader else 'gallery'} {response.status_code}"
        except requests.RequestException as exc:
            ok, outcome = False, f"error {type(exc).__name__}"
        with self._lock:
            self.outcomes[outcome] += 1
            if not ok:
                self.failures.append(outcome)
                self.failed_at.append(time.monotonic())

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.outcomes.values())

    def wait_for_requests(self, count: int = 20, timeout: float = 30) -> None:
        """Until ``count`` more requests have been answered: the load runs at this point."""
        target, deadline = self.total + count, time.monotonic() + timeout
        while self.total < target:
            assert time.monotonic() < deadline, f"the load stalled at {self.total} requests"
            time.sleep(0.05)


def report(capsys, name: str, load: Load, seconds: float) -> None:
    """Print the figures even when pytest captures output (the closing note quotes them)."""
    with capsys.disabled():
        print(
            f"\n[failover] {name}: {load.total} requests in {seconds:.1f} s, "
            f"{len(load.failures)} failed; {dict(load.outcomes)}"
        )


def storage_check(instance: Instance) -> subprocess.CompletedProcess:
    """`flask storage check` with the instance's own settings file."""
    env = {**instance.world.env(), "PHOTOS_CONFIG": str(instance.prefix / "etc" / "app.ini")}
    flask = instance.prefix / "venv" / "bin" / "flask"
    app = instance.prefix / "current" / "FlaskApp" / "application.py"
    return subprocess.run(
        [str(flask), "--app", str(app), "storage", "check"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def person(balancer):
    return sign_in(balancer.url, "fay")


@pytest.fixture(scope="module")
def acknowledged() -> list[int]:
    """Ids of every upload answered 201 during the load phases."""
    return []


def test_a_person_signed_in_on_one_instance_is_signed_in_on_the_other(pair, person):
    for instance in pair:
        page = requests.get(f"{instance.url}/", cookies=person.cookies, timeout=30)
        assert page.status_code == 200 and b"Sign out" in page.content


def test_stopping_one_instance_gracefully_fails_no_request(
    pair, balancer, person, acknowledged, capsys
):
    a, _ = pair
    started = time.monotonic()
    with Load(balancer.url, person) as load:
        load.wait_for_requests()
        a.stop()  # SIGTERM: /ready 503, HAProxy drains it, requests in flight finish
        assert balancer.status("a") != "UP"
        load.wait_for_requests()
    report(capsys, "(a) graceful stop of one instance", load, time.monotonic() - started)
    acknowledged.extend(load.uploaded)
    assert load.total > 20 and load.uploaded
    assert load.failures == []
    a.install("v1")  # the same installer brings it back
    balancer.wait_for("a", "UP")


def test_rolling_update_to_a_new_bundle_fails_no_request(
    pair, balancer, person, acknowledged, capsys
):
    started = time.monotonic()
    with Load(balancer.url, person) as load:
        for instance, name in zip(pair, ("a", "b"), strict=True):
            load.wait_for_requests()  # some served by the instance updated before this one
            instance.install("v2")
            assert re.search(r"done: release test-v2-\w+ \(changed:\s*app", instance.last_output)
            balancer.wait_for(name, "UP")
        load.wait_for_requests()
    report(capsys, "(b) rolling update, one instance at a time", load, time.monotonic() - started)
    acknowledged.extend(load.uploaded)
    assert load.total > 20 and load.uploaded
    assert load.failures == []
    for instance in pair:
        assert Path(instance.prefix / "current").resolve().name.startswith("test-v2-")
        page = requests.get(f"{instance.url}/", cookies=person.cookies, timeout=30)
        assert b"Sign out" in page.content  # still signed in after the update


def test_killing_one_instance_hard_fails_only_until_the_balancer_sees_it(
    pair, balancer, person, acknowledged, capsys
):
    a, _ = pair
    started = time.monotonic()
    with Load(balancer.url, person) as load:
        load.wait_for_requests()
        a.kill_hard()
        balancer.wait_for("a", "DOWN")
        down_at = time.monotonic()
        time.sleep(1.5)
    report(capsys, "(c) one instance killed hard", load, time.monotonic() - started)
    acknowledged.extend(load.uploaded)
    # Requests sent to the dead instance fail (its nginx answers 502) until the balancer's health
    # check takes it out (2 failed checks, 250 ms apart); from then on nothing fails.
    assert set(load.failures) <= {"gallery 502", "upload 502"}, load.failures
    assert all(t <= down_at + 0.5 for t in load.failed_at)
    assert load.total - len(load.failures) > 20
    a.install("v2")
    balancer.wait_for("a", "UP")


def test_every_acknowledged_upload_is_there_afterwards(pair, person, acknowledged):
    a, b = pair
    api = f"{b.url}/api/photos"
    headers = {"Authorization": f"Bearer {person.token}"}
    listed, cursor = set(), None
    while True:
        page = requests.get(
            api, headers=headers, params={"limit": 100, "cursor": cursor or ""}, timeout=30
        ).json()
        listed |= {p["id"] for p in page["photos"]}
        if not (cursor := page["next_cursor"]):
            break
    assert acknowledged and set(acknowledged) <= listed
    for photo_id in sorted(acknowledged):
        response = requests.get(f"{a.url}/api/photos/{photo_id}", headers=headers, timeout=30)
        assert response.status_code == 200
    check = storage_check(a)
    assert check.returncode == 0, check.stdout + check.stderr
