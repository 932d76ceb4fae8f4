"""The production setup of deploy/, as an administrator installs it: nginx in front of two
gunicorn processes and the worker, on PostgreSQL and Redis, browsers going through nginx.

The systemd units' ExecStart lines and the nginx site are used as they are; only the install
folder (/opt/library-desk: this checkout), the ports and the certificate are this test's own.
"""
import datetime
import http.client
import ipaddress
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import expect

from blueprints.chat.models import ChatQueue
from common.access import Role
from extensions import db
from tests.browser.conftest import HANG, confirm, log_in, needs_redis, wait_until_live
from tests.conftest import TEST_IDENTITY_ENCRYPTION_KEY, free_port
from tests.test_operations import env_example

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALLED_AT = "/opt/library-desk"
GRACE = 120  # seconds the first web process would keep its connections after SIGTERM


def unit_command(unit, instance=None):
    """The unit's ExecStart and WorkingDirectory, with %i and the install folder filled in."""
    text = (DEPLOY / "systemd" / unit).read_text()
    command = re.search(r"^ExecStart=(.+)$", text, re.M).group(1).replace(INSTALLED_AT, str(ROOT))
    if instance is not None:
        command = command.replace("%i", str(instance))
    directory = re.search(r"^WorkingDirectory=(.+)$", text, re.M).group(1).replace(INSTALLED_AT, str(ROOT))
    return shlex.split(command), directory


def self_signed_certificate(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def nginx_config(folder, web_ports, https_port):
    """deploy/nginx/library-desk.conf inside a minimal nginx.conf of the test's own."""
    site = (DEPLOY / "nginx" / "library-desk.conf").read_text()
    certificate, key = self_signed_certificate(folder)
    for old, new in [
        ("server 127.0.0.1:8001", f"server 127.0.0.1:{web_ports[0]}"),
        ("server 127.0.0.1:8002", f"server 127.0.0.1:{web_ports[1]}"),
        ("listen 80;", f"listen 127.0.0.1:{free_port()};"),
        ("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl"),
        ("/etc/ssl/certs/library-desk.pem", str(certificate)),
        ("/etc/ssl/private/library-desk.key", str(key)),
        ("/var/log/nginx/library-desk.access.log", str(folder / "site-access.log")),
        (INSTALLED_AT, str(ROOT)),
    ]:
        assert old in site, old
        site = site.replace(old, new)
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)  # loopback only in the test
    temp = folder / "temp"
    temp.mkdir()
    config = folder / "nginx.conf"
    config.write_text(f"""
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
""")
    return config


def wait_for_health(url, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the process ended with {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


class Deployment:
    def __init__(self, folder):
        self.folder = folder
        self.web_ports = [free_port(), free_port()]
        self.https_port = free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.env = dict(
            os.environ,
            SECRET_KEY="deployment-test-secret", IDENTITY_HMAC_KEY="00" * 32,
            IDENTITY_ENCRYPTION_KEY=TEST_IDENTITY_ENCRYPTION_KEY,
            EXTERNAL_URL=self.url, TRUSTED_HOSTS="127.0.0.1", TRUSTED_PROXIES="1", WEB_THREADS="50",
        )
        self.env.pop("DEVELOPMENT", None)  # as in production: Secure cookies, over nginx's https
        self.processes = {}

    def start(self, name, command, directory, **env):
        log = open(self.folder / f"{name}.log", "w")
        self.processes[name] = subprocess.Popen(command, cwd=directory, env={**self.env, **env},
                                                stdout=log, stderr=subprocess.STDOUT)
        return self.processes[name]

    def start_web(self, n, **env):
        port = self.web_ports[n]
        process = self.start(f"web{n}", *unit_command("library-desk-web@.service", port), **env)
        wait_for_health(f"http://127.0.0.1:{port}", process)
        return process

    def start_nginx(self):
        config = nginx_config(self.folder, self.web_ports, self.https_port)
        self.start("nginx", ["nginx", "-c", str(config)], str(self.folder))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(self.folder / "nginx.pid"):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError((self.folder / "error.log").read_text())

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def deployment(tmp_path):
    deployment = Deployment(tmp_path)
    deployment.start_nginx()
    deployment.start("worker", *unit_command("library-desk-worker.service"))
    yield deployment
    deployment.stop_all()


@needs_redis
def test_two_web_processes_and_the_worker_behind_nginx(app, browser, deployment, make_unit, make_user):
    library = make_unit()
    make_user("aino", (Role.CHAT_AGENT, library))
    make_user("riikka", (Role.REGISTRAR, library))
    make_user("sirpa", (Role.SERVICE_ADMIN, None))
    with app.app_context():
        db.session.add(ChatQueue(unit_id=library, name="Neuvonta", is_open=True, waiting_message=""))
        db.session.commit()

    def page():
        context = browser.new_context(base_url=deployment.url, locale="en", ignore_https_errors=True)
        context.set_default_timeout(HANG)
        return context.new_page()

    # Only the first web process runs: every page and its live connection reach it through nginx.
    first = deployment.start_web(0, WEB_GRACEFUL_SECONDS=str(GRACE))
    customer = page()
    customer.goto("/chat/customer/")
    customer.get_by_label("Your name").fill("Toni")
    customer.get_by_role("button", name="Join the queue").click()
    expect(customer.locator(".chat-position")).to_be_visible()
    wait_until_live(customer)
    reader = page()
    log_in(reader, "riikka")
    wait_until_live(reader)
    agent = page()
    log_in(agent, "aino")
    agent.goto("/chat/")
    agent.get_by_label("Neuvonta", exact=False).check()
    agent.get_by_role("button", name="Log in to customer service").click()
    wait_until_live(agent)
    agent.get_by_role("link", name="Neuvonta").click()
    agent.get_by_role("link", name="Toni").click()
    agent.get_by_role("button", name="Start text chat").click()
    confirm(agent)
    expect(customer.get_by_text("You are chatting with Aino.")).to_be_visible()
    agent.locator("#chat-body").fill("Hei Toni!")
    agent.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text("Hei Toni!")

    # The second starts, and the first is told to stop (SIGTERM, as systemctl restart sends): it
    # takes no new connection and tells its pages to move now. Each reconnects through nginx to
    # the second without a "Reconnecting…" (nothing was lost to say so), and the first, left
    # with no connection, ends long before its graceful period.
    deployment.start_web(1)
    for opened in (customer, reader, agent):
        opened.evaluate("""() => { window.moved = 0; window.bannerShown = false;
          document.body.addEventListener("live:connected", () => { window.moved += 1; });
          new MutationObserver(() => { window.bannerShown ||= !document.getElementById("connection-status").hidden; })
            .observe(document.getElementById("connection-status"), {attributes: true}); }""")
    first.send_signal(signal.SIGTERM)
    for opened in (customer, reader, agent):
        opened.wait_for_function("() => window.moved >= 1")
    first.wait(GRACE / 2)
    for opened in (customer, reader, agent):
        assert opened.evaluate("() => window.bannerShown") is False
        expect(opened.locator("body")).to_have_attribute("data-live", "connected")

    # The chat goes on on the second process, and no line acknowledged before is lost on either page.
    customer.locator("#chat-body").fill("Oletko vielä siellä?")
    customer.locator("#chat-body").press("Enter")
    expect(agent.locator(".chat-line-customer").last).to_contain_text("Oletko vielä siellä?")
    agent.locator("#chat-body").fill("Olen!")
    agent.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent").last).to_contain_text("Olen!")
    for line in ("Hei Toni!", "Oletko vielä siellä?", "Olen!"):
        expect(customer.locator(".chat-line", has_text=line)).to_have_count(1)
        expect(agent.locator(".chat-line", has_text=line)).to_have_count(1)

    # A notice published now reaches the registrar's page that moved.
    admin = page()
    log_in(admin, "sirpa")
    admin.goto("/admin/notices")
    admin.fill("#text", "Published after the restart")
    admin.click("button[type=submit].primary")
    expect(reader.locator(".notice-banner")).to_contain_text("Published after the restart")
    assert deployment.processes["worker"].poll() is None, (deployment.folder / "worker.log").read_text()
    for opened in (customer, reader, agent, admin):
        opened.context.close()


def logged_line(path, wanted, timeout=5):
    """The first line of the log at `path` that is `wanted`, once it is written (a server logs a
    request after answering it)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in path.read_text().splitlines() if wanted(line)] if path.exists() else []
        if found or time.monotonic() > deadline:
            assert found, f"{path}:\n{path.read_text() if path.exists() else ''}"
            return found[0]
        time.sleep(0.05)


def test_one_web_process_behind_nginx_as_env_example_sets_it_up_logs_the_client_and_the_request_id(tmp_path):
    """With deploy/env.example's TRUSTED_HOSTS and TRUSTED_PROXIES: monitoring's
    `curl http://127.0.0.1:8001/healthz` on the machine answers (start_web waits for it), and a
    request through nginx has the same request id in nginx's log and in gunicorn's access log,
    which names the client (not nginx) and the process. Needs neither Redis nor PostgreSQL."""
    settings = env_example()
    deployment = Deployment(tmp_path)
    deployment.env.update(TRUSTED_HOSTS=settings["TRUSTED_HOSTS"], TRUSTED_PROXIES=settings["TRUSTED_PROXIES"])
    if not os.environ.get("DATABASE_URL"):
        deployment.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"  # /healthz needs no tables
    try:
        deployment.start_nginx()
        deployment.start_web(0)
        # From another loopback address than nginx's own, so that the two can be told apart.
        connection = http.client.HTTPSConnection("127.0.0.1", deployment.https_port, timeout=10,
                                                 context=ssl._create_unverified_context(),
                                                 source_address=("127.0.0.2", 0))
        connection.request("GET", "/healthz", headers={"Host": settings["TRUSTED_HOSTS"]})
        answer = connection.getresponse()
        assert answer.status == 200 and b'"database":"ok"' in answer.read()
        connection.close()

        nginx_line = logged_line(tmp_path / "site-access.log", lambda line: "/healthz" in line)
        request_id = re.search(r" id=([0-9a-f]{32}) ", nginx_line).group(1)
        assert nginx_line.startswith("127.0.0.2 - ") and f"upstream=127.0.0.1:{deployment.web_ports[0]}" in nginx_line
        port = deployment.web_ports[0]
        gunicorn_line = logged_line(tmp_path / "web0.log", lambda line: f"id={request_id}" in line)
        assert gunicorn_line.startswith("127.0.0.2 - ") and '"GET /healthz HTTP/1.0" 200' in gunicorn_line
        worker = re.search(r"Booting worker with pid: (\d+)", (tmp_path / "web0.log").read_text()).group(1)
        assert gunicorn_line.endswith(f" port={port} pid=<{worker}>"), gunicorn_line
    finally:
        deployment.stop_all()


def test_neither_log_keeps_the_token_of_a_password_link(tmp_path):
    """A password link's first request holds its token in the path (it is exchanged at once for
    a token-free page): nginx's log and gunicorn's access log write it as [redacted], in the
    request and in a Referer. On an SQLite database of the test's own: needs neither Redis nor
    PostgreSQL."""
    deployment = Deployment(tmp_path)
    deployment.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"
    migrated = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "db", "upgrade"], cwd=ROOT,
                              env=deployment.env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    token = "Zq3-Token_ofa-OneTimeLink-8f9a0b1c2d3e4f5a6b7c8d9"
    try:
        deployment.start_nginx()
        deployment.start_web(0)
        for path in (f"/password/reset/{token}", f"/registration/credentials/{token}?from=mail"):
            connection = http.client.HTTPSConnection("127.0.0.1", deployment.https_port, timeout=10,
                                                     context=ssl._create_unverified_context())
            connection.request("GET", path, headers={"Referer": f"{deployment.url}{path}"})
            assert connection.getresponse().status == 410  # no such link; the log is what is checked
            connection.close()
        lines = [logged_line(tmp_path / "site-access.log", lambda line, p=p: p in line)
                 for p in ("/password/reset/[redacted] HTTP", "/registration/credentials/[redacted]?from=mail HTTP")]
        for line in lines:
            assert token not in line and line.count("[redacted]") == 2, line
        request_ids = [re.search(r" id=([0-9a-f]{32}) ", line).group(1) for line in lines]
        for request_id in request_ids:
            gunicorn_line = logged_line(tmp_path / "web0.log", lambda line, r=request_id: f"id={r}" in line)
            assert token not in gunicorn_line and gunicorn_line.count("[redacted]") == 2, gunicorn_line
        assert token not in (tmp_path / "site-access.log").read_text() + (tmp_path / "web0.log").read_text()
    finally:
        deployment.stop_all()


# Loaded into the web process by the test below (PYTHONPATH): before the app module is imported,
# say so and wait until the test lets the loading go on.
HOLD_THE_APP = """
import os
import sys


class Hold:
    def find_spec(self, name, path=None, target=None):
        if name == "app":
            sys.meta_path.remove(self)
            open(os.environ["APP_LOADING"], "w").close()
            with open(os.environ["APP_GATE"]) as gate:
                gate.read()
        return None


if os.environ.get("APP_GATE"):
    sys.meta_path.insert(0, Hold())
"""


def test_a_starting_web_process_refuses_connections_until_it_can_answer_them(tmp_path):
    """While the app of a freshly started process is loading, a connection to its port is refused
    (nginx then sends the request to another process), not accepted into a backlog where it would
    wait until the loading ends; once loaded, the process answers. Needs neither Redis nor PostgreSQL."""
    deployment = Deployment(tmp_path)
    if not os.environ.get("DATABASE_URL"):
        deployment.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"  # /healthz needs no tables
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HOLD_THE_APP)
    gate, loading = tmp_path / "gate", tmp_path / "loading"
    os.mkfifo(gate)
    port = deployment.web_ports[0]
    try:
        process = deployment.start("web0", *unit_command("library-desk-web@.service", port),
                                   PYTHONPATH=str(hooks), APP_GATE=str(gate), APP_LOADING=str(loading))
        deadline = time.monotonic() + HANG / 1000
        while not loading.exists():
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "web0.log").read_text()
            time.sleep(0.05)
        # (gunicorn binds the port in its master process; the app is loaded either there, before,
        # or in the worker it forks after binding.)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with open(gate, "w") as opened:
            opened.write("go")
        wait_for_health(f"http://127.0.0.1:{port}", process, timeout=HANG / 1000)
    finally:
        try:  # a loading still held goes on, so that the process can stop
            held = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
            os.write(held, b"go")
            os.close(held)
        except OSError:
            pass
        deployment.stop_all()
