"""Test session: a real `latchkey serve` and the real tasks API (uvicorn), on 127.0.0.1.

Everything lives in one temporary folder (Latchkey's SQLite database, keys, outbox, logs,
the API's database). Users and clients are made with Latchkey's CLI; access tokens are
real ones, obtained the way a web app gets them: /authorize -> /login form -> code ->
/token (PKCE S256, client_secret_basic). Every process is stopped by its PID and every wait
is bounded.

LATCHKEY_BIN  the binary (default: ../../target/debug/latchkey from this folder)
KEEP_TMP=1    keep the temporary folder
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import pytest

HERE = Path(__file__).resolve().parent.parent
LATCHKEY_BIN = Path(os.environ.get("LATCHKEY_BIN") or HERE / "../../target/debug/latchkey").resolve()
API_AUDIENCE = "http://127.0.0.1/tasks-api"  # an identifier; not where the API listens
PASSWORD_A = "alpha correct horse battery"
PASSWORD_B = "bravo correct horse battery"
JWKS_REFRESH_COOLDOWN = 1.0  # the API's least time between unknown-kid refetches
READY_TIMEOUT = 20.0
CLI_TIMEOUT = 20.0

# Variables Latchkey reads: none may leak in from the caller's shell.
_LK_VARS = re.compile(
    r"^(LATCHKEY_|OIDC_|GOOGLE_|GITHUB_)|^(DATABASE_URL|SMTP_URL|MAIL_FROM|RUST_LOG|"
    r"ACCESS_TOKEN_TTL|REFRESH_TOKEN_TTL|ID_TOKEN_TTL|SESSION_TTL|EMAIL_VERIFY_TTL)$"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, name: str) -> None:
    """SIGTERM by PID, SIGKILL after 5 s."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print(f"{name} (pid {proc.pid}) ignored SIGTERM for 5 s: SIGKILL", file=sys.stderr)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = READY_TIMEOUT) -> None:
    until = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}"
        except httpx.HTTPError as err:
            last = repr(err)
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {timeout} s (last: {last}):\n{log.read_text()[-3000:]}")


@dataclass
class Latchkey:
    issuer: str
    env: dict
    tmp: Path
    proc: subprocess.Popen
    client_id: str
    client_secret: str
    redirect_uri: str
    users: dict  # email -> (id, password)

    def cli(self, *args: str, stdin: str = "") -> dict:
        out = subprocess.run(
            [str(LATCHKEY_BIN), *args],
            input=stdin,
            env=self.env,
            cwd=self.tmp,  # so no .env from the working tree is read
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
        if out.returncode != 0:
            raise RuntimeError(f"latchkey {' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
        return json.loads(out.stdout) if "--json" in args else {}

    def keys_dir(self) -> Path:
        return self.tmp / "keys"

    def token(self, email: str, *, resource: str | None = API_AUDIENCE) -> dict:
        """A real token response for a user: authorization code flow with PKCE."""
        password = self.users[email][1]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid email profile offline_access",
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            # a fresh browser per call: never reuse another user's session
            "prompt": "login",
        }
        if resource:
            params["resource"] = resource
        with httpx.Client(base_url=self.issuer, timeout=10, follow_redirects=False) as browser:
            r = browser.get("/authorize", params=params)
            for _ in range(5):
                if r.status_code not in (302, 303):
                    break
                r = browser.get(urljoin(str(r.url), r.headers["location"]))
            assert r.status_code == 200 and "/login" in str(r.url), f"no login page: {r.status_code} {r.url}"
            csrf = html.unescape(re.search(r'name="csrf_token" value="([^"]*)"', r.text).group(1))
            request = html.unescape(re.search(r'name="request" value="([^"]*)"', r.text).group(1))
            r = browser.post(
                "/login",
                data={"csrf_token": csrf, "request": request, "email": email, "password": password},
            )
            for _ in range(5):
                assert r.status_code in (302, 303), f"login did not redirect: {r.status_code} {r.text[:300]}"
                location = urljoin(str(r.url), r.headers["location"])
                if location.startswith(self.redirect_uri):
                    break
                r = browser.get(location)
            query = parse_qs(urlparse(location).query)
            assert query.get("state") == [state], f"bad callback: {location}"
            code = query["code"][0]
            r = browser.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(self.client_id, self.client_secret),
            )
            assert r.status_code == 200, f"/token: {r.status_code} {r.text}"
            return r.json()


@pytest.fixture(scope="session")
def workdir():
    tmp = Path(tempfile.mkdtemp(prefix="latchkey-fastapi-"))
    yield tmp
    if os.environ.get("KEEP_TMP") == "1":
        print(f"\nwork folder kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def latchkey(workdir: Path):
    if not os.access(LATCHKEY_BIN, os.X_OK):
        pytest.exit(f"no latchkey binary at {LATCHKEY_BIN}: run `cargo build` or set LATCHKEY_BIN", returncode=2)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not _LK_VARS.search(k)}
    env.update(
        LATCHKEY_BIND=f"127.0.0.1:{port}",
        LATCHKEY_ISSUER=issuer,
        DATABASE_URL=f"sqlite://{workdir}/data/latchkey.db",
        LATCHKEY_DATA_DIR=str(workdir / "data"),
        LATCHKEY_KEYS_DIR=str(workdir / "keys"),
        RUST_LOG="warn",
        # the suite signs in ~20 times within seconds from one IP; the default (30/min)
        # would leave little room
        LATCHKEY_LOGIN_RATE="600",
    )
    lk = Latchkey(issuer, env, workdir, None, "", "", "http://127.0.0.1:9/callback", {})  # type: ignore[arg-type]
    for email, password in (("alice@example.com", PASSWORD_A), ("bob@example.com", PASSWORD_B)):
        user = lk.cli("user", "create", "--email", email, "--password-stdin", "--verified", "--json", stdin=password + "\n")
        lk.users[email] = (user["id"], password)
    client = lk.cli(
        "client", "create", "--name", "Tasks web app", "--redirect-uri", lk.redirect_uri,
        "--skip-consent", "--grant", "authorization_code", "--grant", "refresh_token",
        "--resource", API_AUDIENCE, "--json",
    )
    lk.client_id, lk.client_secret = client["client_id"], client["client_secret"]

    log = workdir / "latchkey.log"
    with open(log, "wb") as out:
        lk.proc = subprocess.Popen(
            [str(LATCHKEY_BIN), "serve"], env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_http(f"{issuer}/readyz", lk.proc, log)
        yield lk
    finally:
        stop(lk.proc, "latchkey serve")


@dataclass
class Api:
    url: str
    proc: subprocess.Popen

    def get(self, token: str | None, path: str = "/tasks") -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.url + path, headers=headers, timeout=10)

    def post(self, token: str | None, title: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(self.url + "/tasks", json={"title": title}, headers=headers, timeout=10)


@pytest.fixture(scope="session")
def api(latchkey: Latchkey, workdir: Path):
    """The tasks API as a real process (uvicorn), configured by environment."""
    port = free_port()
    env = dict(
        os.environ,
        LATCHKEY_ISSUER=latchkey.issuer,
        API_AUDIENCE=API_AUDIENCE,
        DATABASE_PATH=str(workdir / "tasks.db"),
        JWKS_REFRESH_COOLDOWN_SECONDS=str(JWKS_REFRESH_COOLDOWN),
    )
    log = workdir / "api.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=HERE, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield Api(f"http://127.0.0.1:{port}", proc)
    finally:
        stop(proc, "uvicorn")
