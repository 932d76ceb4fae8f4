"""The production setup of deploy/, as an administrator installs it: nginx in front of two
gunicorn processes and the worker, on PostgreSQL and Redis, browsers going through nginx.

The systemd units' ExecStart lines and the nginx site are used as they are; only the install
folder (/opt/library-desk: this checkout), the ports and the certificate are this test's own.
"""
import datetime
import ipaddress
import os
import re
import shlex
import signal
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
from tests.browser.conftest import log_in, wait_until_live
from tests.browser.test_several_processes import needs_redis
from tests.conftest import TEST_IDENTITY_ENCRYPTION_KEY, free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALLED_AT = "/opt/library-desk"
GRACE = 45  # seconds the first web process keeps its connections after SIGTERM


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
    now = datetime.datetime.now(datetime.timezone.utc)
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
        context.set_default_timeout(15_000)
        return context.new_page()

    # Only the first web process runs: the customer's and the registrar's live connections
    # reach it through nginx.
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

    # The second starts, and the first is told to stop (SIGTERM, as systemctl stop sends): it
    # takes no new connection but keeps those it has for its graceful period. So every new
    # request, and the agent's live connection, goes to the second process.
    deployment.start_web(1)
    first.send_signal(signal.SIGTERM)
    agent = page()
    agent.on("dialog", lambda dialog: dialog.accept())
    log_in(agent, "aino")
    agent.goto("/chat/")
    agent.get_by_label("Neuvonta", exact=False).check()
    agent.get_by_role("button", name="Log in to customer service").click()
    wait_until_live(agent)
    agent.get_by_role("link", name="Neuvonta").click()
    agent.get_by_role("link", name="Toni").click()
    agent.get_by_role("button", name="Start text chat").click()

    # A chat end to end: the customer's live events arrive on the first process, the agent's on the second.
    expect(customer.get_by_text("You are chatting with Aino.")).to_be_visible()
    agent.locator("#chat-body").fill("Hei Toni!")
    agent.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent")).to_contain_text("Hei Toni!")
    customer.locator("#chat-body").fill("Miten uusin lainani?")
    customer.locator("#chat-body").press("Enter")
    expect(agent.locator(".chat-line-customer").last).to_contain_text("Miten uusin lainani?")

    # A notice published on the second process reaches the registrar's page on the first.
    admin = page()
    log_in(admin, "sirpa")
    admin.goto("/admin/notices")
    admin.fill("#text", "Published on the other process")
    admin.click("button[type=submit].primary")
    expect(reader.locator(".notice-banner")).to_contain_text("Published on the other process")

    # The first process's graceful period ends in the middle of the chat and it goes, with the
    # customer's connection: the page reconnects through nginx to the second, reads its chat
    # again and carries on, and no line acknowledged before is lost on either page.
    first.wait(GRACE + 30)
    customer.locator("#chat-body").fill("Oletko vielä siellä?")
    customer.locator("#chat-body").press("Enter")
    expect(agent.locator(".chat-line-customer").last).to_contain_text("Oletko vielä siellä?")
    agent.locator("#chat-body").fill("Olen!")
    agent.locator("#chat-body").press("Enter")
    expect(customer.locator(".chat-line-agent").last).to_contain_text("Olen!")
    for line in ("Hei Toni!", "Miten uusin lainani?", "Oletko vielä siellä?", "Olen!"):
        expect(customer.locator(".chat-line", has_text=line)).to_have_count(1)
        expect(agent.locator(".chat-line", has_text=line)).to_have_count(1)
    assert deployment.processes["worker"].poll() is None, (deployment.folder / "worker.log").read_text()
    for opened in (customer, reader, agent, admin):
        opened.context.close()
