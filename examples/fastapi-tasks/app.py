"""Tasks API: a FastAPI backend that accepts Latchkey access tokens.

Every request carries `Authorization: Bearer <access token>`. The token is checked locally,
without calling Latchkey per request: the signature against Latchkey's JWKS (fetched once,
cached, and refetched when a token names a `kid` the cache does not know, e.g. after
`latchkey keys rotate`), then `iss`, `aud` and `exp`. A task belongs to the token's `sub`.

Configuration (environment):
  LATCHKEY_ISSUER  Latchkey's issuer URL, e.g. https://id.example.com (required)
  API_AUDIENCE     this API's identifier: the client's `--resource`, asked for as
                   `resource=` at /authorize, so it is the token's `aud` (required)
  DATABASE_PATH    SQLite file (default: tasks.db)
  JWKS_CACHE_SECONDS  how long a fetched JWKS is trusted before a refetch (default: 300)
  JWKS_REFRESH_COOLDOWN_SECONDS  least time between two refetches caused by an unknown
                   `kid` (default: 5), so tokens with made-up kids cannot make the API
                   hammer Latchkey
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from functools import lru_cache

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field


class Settings:
    def __init__(self) -> None:
        issuer = os.environ.get("LATCHKEY_ISSUER", "").rstrip("/")
        audience = os.environ.get("API_AUDIENCE", "")
        if not issuer or not audience:
            raise RuntimeError("LATCHKEY_ISSUER and API_AUDIENCE must be set")
        self.issuer = issuer
        self.audience = audience
        self.database_path = os.environ.get("DATABASE_PATH", "tasks.db")
        self.jwks_cache_seconds = int(os.environ.get("JWKS_CACHE_SECONDS", "300"))
        self.jwks_refresh_cooldown = float(os.environ.get("JWKS_REFRESH_COOLDOWN_SECONDS", "5"))


@lru_cache
def get_settings() -> Settings:
    return Settings()


@lru_cache
def get_jwks_client() -> jwt.PyJWKClient:
    settings = get_settings()
    # PyJWKClient caches the key set (cache_jwk_set, lifespan) and, when a token's `kid` is
    # not in the cached set, fetches the JWKS again once before giving up: a key rotated in
    # Latchkey is picked up by the first token it signed. Such refetches are at least
    # `cooldown_duration` apart (PyJWT's default is 30 s; a key rotated in Latchkey with
    # LATCHKEY_KEY_PREPUBLISH=0 would be refused that long, so it is shorter here).
    return jwt.PyJWKClient(
        f"{settings.issuer}/.well-known/jwks.json",
        cache_jwk_set=True,
        lifespan=settings.jwks_cache_seconds,
        cooldown_duration=settings.jwks_refresh_cooldown,
        timeout=5,
    )


bearer = HTTPBearer(auto_error=False)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def get_current_user_id(
    creds: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> str:
    """The `sub` of a valid Latchkey access token, or 401."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise unauthorized("missing bearer token")
    settings = get_settings()
    token = creds.credentials
    try:
        signing_key = get_jwks_client().get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWKClientConnectionError:
        # Latchkey's JWKS could not be fetched: not the caller's fault.
        raise HTTPException(status_code=503, detail="cannot fetch signing keys")
    except jwt.PyJWTError as err:
        raise unauthorized(f"invalid token: {err}")
    if jwt.get_unverified_header(token).get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
        raise unauthorized("not an access token")
    return claims["sub"]


# ---------------------------------------------------------------------------------------
# storage: the stdlib's sqlite3, one connection per request

_schema_lock = threading.Lock()


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(get_settings().database_path, timeout=5)
    conn.row_factory = sqlite3.Row
    return conn


def init_db() -> None:
    with _schema_lock, connect() as conn:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS tasks (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 owner TEXT NOT NULL,
                 title TEXT NOT NULL,
                 done INTEGER NOT NULL DEFAULT 0,
                 created_at TEXT NOT NULL
               )"""
        )
        conn.execute("CREATE INDEX IF NOT EXISTS tasks_owner ON tasks (owner, id)")


def get_db():
    conn = connect()
    try:
        yield conn
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# API


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class Task(BaseModel):
    id: int
    title: str
    done: bool
    created_at: str


@asynccontextmanager
async def lifespan(_app: FastAPI):
    get_settings()  # fail at start, not at the first request, when misconfigured
    init_db()
    yield


app = FastAPI(title="Tasks API (Latchkey example)", lifespan=lifespan)


@app.get("/healthz")
def healthz() -> dict:
    return {"ok": True}


@app.get("/tasks", response_model=list[Task])
def list_tasks(user_id: str = Depends(get_current_user_id), db: sqlite3.Connection = Depends(get_db)):
    rows = db.execute(
        "SELECT id, title, done, created_at FROM tasks WHERE owner = ? ORDER BY id", (user_id,)
    ).fetchall()
    return [Task(id=r["id"], title=r["title"], done=bool(r["done"]), created_at=r["created_at"]) for r in rows]


@app.post("/tasks", response_model=Task, status_code=201)
def create_task(
    body: TaskIn, user_id: str = Depends(get_current_user_id), db: sqlite3.Connection = Depends(get_db)
):
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with db:
        cur = db.execute(
            "INSERT INTO tasks (owner, title, created_at) VALUES (?, ?, ?)", (user_id, body.title, now)
        )
    return Task(id=cur.lastrowid, title=body.title, done=False, created_at=now)
