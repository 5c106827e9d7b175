"""The tasks API against a real Latchkey: who may call it, and whose tasks they see."""

from __future__ import annotations

import os
import signal
import time
import uuid

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import API_AUDIENCE, JWKS_REFRESH_COOLDOWN

ALICE = "alice@example.com"
BOB = "bob@example.com"


def claims_like(token: str, **override) -> tuple[dict, dict]:
    """Header and claims of a real token, with some claims changed."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(override)
    return header, claims


def real_private_key(latchkey, kid: str):
    pem = (latchkey.keys_dir() / f"{kid}.pem").read_bytes()
    return serialization.load_pem_private_key(pem, password=None)


def test_no_token_is_401(api):
    r = api.get(None)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert api.post(None, "sneaky").status_code == 401


def test_garbage_token_is_401(api):
    assert api.get("not-a-jwt").status_code == 401


def test_real_token_is_accepted(api, latchkey):
    tokens = latchkey.token(ALICE)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] in (API_AUDIENCE, [API_AUDIENCE])
    assert claims["sub"] == latchkey.users[ALICE][0]
    r = api.get(tokens["access_token"])
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)


def test_forged_token_is_401(api, latchkey):
    """Same claims and kid as a real token, signed with a key Latchkey never had."""
    real = latchkey.token(ALICE)["access_token"]
    header, claims = claims_like(real)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for kid in (header["kid"], "forged-" + uuid.uuid4().hex):
        forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})
        r = api.get(forged)
        assert r.status_code == 401, (kid, r.text)


def test_alg_none_and_hs256_are_401(api, latchkey):
    real = latchkey.token(ALICE)["access_token"]
    header, claims = claims_like(real)
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]})
    assert api.get(unsigned).status_code == 401
    hs = jwt.encode(claims, "a shared secret nobody else has, 32+ bytes", algorithm="HS256", headers={"kid": header["kid"]})
    assert api.get(hs).status_code == 401


def test_expired_token_is_401(api, latchkey):
    """Signed with Latchkey's own key, but past its exp: only the expiry is wrong."""
    real = latchkey.token(ALICE)["access_token"]
    header, claims = claims_like(real)
    key = real_private_key(latchkey, header["kid"])
    now = int(time.time())
    headers = {"kid": header["kid"], "typ": header.get("typ", "at+jwt")}
    # Control: the same key and claims, still valid, are accepted...
    fresh = jwt.encode(dict(claims, iat=now, nbf=now, exp=now + 300), key, algorithm="RS256", headers=headers)
    assert api.get(fresh).status_code == 200
    # ...so the refusal below is about exp alone.
    expired = jwt.encode(dict(claims, iat=now - 3600, nbf=now - 3600, exp=now - 1800), key, algorithm="RS256", headers=headers)
    r = api.get(expired)
    assert r.status_code == 401
    assert "expired" in r.json()["detail"].lower()


def test_wrong_issuer_is_401(api, latchkey):
    real = latchkey.token(ALICE)["access_token"]
    header, claims = claims_like(real, iss="http://127.0.0.1:1/evil")
    key = real_private_key(latchkey, header["kid"])
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": header["kid"], "typ": "at+jwt"})
    assert api.get(token).status_code == 401


def test_wrong_audience_is_401(api, latchkey):
    """A real token without resource=: its aud is the client id, not this API."""
    tokens = latchkey.token(ALICE, resource=None)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] in (latchkey.client_id, [latchkey.client_id])
    r = api.get(tokens["access_token"])
    assert r.status_code == 401
    assert "audience" in r.json()["detail"].lower()


def test_id_token_is_not_an_access_token(api, latchkey):
    tokens = latchkey.token(ALICE)
    assert api.get(tokens["id_token"]).status_code == 401


def test_users_see_only_their_own_tasks(api, latchkey):
    alice = latchkey.token(ALICE)["access_token"]
    bob = latchkey.token(BOB)["access_token"]
    tag = uuid.uuid4().hex[:8]

    r = api.post(alice, f"alice task {tag}")
    assert r.status_code == 201, r.text
    assert api.post(bob, f"bob task {tag}").status_code == 201

    alice_titles = [t["title"] for t in api.get(alice).json()]
    bob_titles = [t["title"] for t in api.get(bob).json()]
    assert f"alice task {tag}" in alice_titles
    assert f"bob task {tag}" not in alice_titles
    assert f"bob task {tag}" in bob_titles
    assert f"alice task {tag}" not in bob_titles
    assert all("bob" not in t for t in alice_titles)


def test_refreshed_token_still_works(api, latchkey):
    tokens = latchkey.token(ALICE)
    assert "refresh_token" in tokens
    r = httpx.post(
        f"{latchkey.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(latchkey.client_id, latchkey.client_secret),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert api.get(r.json()["access_token"]).status_code == 200


def test_key_rotation_is_picked_up(api, latchkey):
    """After `latchkey keys rotate`, a token with the new kid is accepted (JWKS refetch)."""
    old = latchkey.token(ALICE)["access_token"]
    old_kid = jwt.get_unverified_header(old)["kid"]
    assert api.get(old).status_code == 200  # the API has the JWKS cached now

    latchkey.cli("keys", "rotate")
    os.kill(latchkey.proc.pid, signal.SIGHUP)  # the server re-reads its keys at once

    new = None
    until = time.monotonic() + 10
    while time.monotonic() < until:
        candidate = latchkey.token(ALICE)["access_token"]
        if jwt.get_unverified_header(candidate)["kid"] != old_kid:
            new = candidate
            break
        time.sleep(0.5)
    assert new is not None, "Latchkey still signs with the old key 10 s after rotate + SIGHUP"

    # Another test may have made the API refetch (a made-up kid) just now: a refetch for
    # an unknown kid happens at most once per cooldown, so let one pass first.
    time.sleep(JWKS_REFRESH_COOLDOWN + 0.2)
    r = api.get(new)
    assert r.status_code == 200, r.text
    # Tokens signed before the rotation stay valid until they expire.
    assert api.get(old).status_code == 200
    # And the new key is used for real work.
    assert api.post(new, "after rotation").status_code == 201
    assert "after rotation" in [t["title"] for t in api.get(old).json()]
