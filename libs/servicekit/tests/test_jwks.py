"""Production token verification against an issuer's JWKS, served over real HTTP on loopback.

The issuer here is a small HTTP server in a thread that serves the public halves
of RSA keys made for the test; tokens are signed with the private halves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from servicekit.auth import AuthenticationError, JwksKeys, KeysUnavailable, Role, TokenVerifier
from servicekit.testing import token_for
from servicekit.testing.sample import Probe, kit_definition
from servicekit.testing.service import running_service

ISSUER, AUDIENCE = "https://idp.test.example/realms/schiedam", "buurtsignaal"


@dataclass
class Issuer:
    """The JWKS endpoint: serves ``keys`` (kid -> private key), counts requests."""

    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    requests: int = 0
    delay: float = 0.0
    url: str = ""

    def jwks(self) -> bytes:
        entries = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            entries.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return json.dumps({"keys": entries}).encode()

    def token(self, kid: str, *, ttl: int = 300, **claims: object) -> str:
        now = int(time.time())
        body = {
            "sub": "w-17",
            "roles": ["worker"],
            "teams": ["wot-west"],
            "org": "bs",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    state = Issuer(keys={"k1": new_key()})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            time.sleep(state.delay)
            body = state.jwks()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/protocol/openid-connect/certs"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def verifier_for(issuer: Issuer, **options: float) -> TokenVerifier:
    keys = JwksKeys(issuer.url, **options)  # type: ignore[arg-type]
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=keys)


async def test_a_good_rs256_token_is_verified_with_one_fetch_of_the_keys(issuer):
    verifier = verifier_for(issuer)
    principal = await verifier.verify(issuer.token("k1"))
    assert principal.sub == "w-17" and principal.roles == {Role.WORKER}
    await verifier.verify(issuer.token("k1", sub="w-18"))
    assert issuer.requests == 1, "the keys are cached"
    await verifier.aclose()


async def test_the_fetch_does_not_block_the_event_loop_and_happens_once(issuer):
    issuer.delay = 0.3
    verifier = verifier_for(issuer)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    running = asyncio.create_task(ticker())
    tokens = [issuer.token("k1", sub=f"w-{i}") for i in range(20)]
    principals = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    running.cancel()
    assert [p.sub for p in principals] == [f"w-{i}" for i in range(20)]
    assert issuer.requests == 1, "twenty waiting requests, one fetch"
    assert ticks >= 10, f"the loop ran on while the keys were fetched ({ticks} ticks)"
    await verifier.aclose()


async def test_an_unknown_key_id_is_refused_after_one_fresh_look(issuer):
    verifier = verifier_for(issuer, refresh_interval=0)
    await verifier.verify(issuer.token("k1"))
    stranger = Issuer(keys={"k9": new_key()})
    with pytest.raises(AuthenticationError, match="key id"):
        await verifier.verify(stranger.token("k9"))
    assert issuer.requests == 2, "an unknown kid makes the verifier look again"


async def test_unknown_key_ids_cannot_make_it_hammer_the_issuer(issuer):
    verifier = verifier_for(issuer, refresh_interval=60)
    await verifier.verify(issuer.token("k1"))
    stranger = Issuer(keys={"k9": new_key()})
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            await verifier.verify(stranger.token("k9"))
    assert issuer.requests == 1, "no new fetch within the refresh interval"


async def test_a_rotated_key_is_fetched_and_the_retired_one_refused(issuer):
    verifier = verifier_for(issuer, refresh_interval=0)
    old = issuer.token("k1")
    await verifier.verify(old)
    issuer.keys = {"k2": new_key()}  # the issuer rotates: k1 retired
    principal = await verifier.verify(issuer.token("k2", sub="w-rotated"))
    assert principal.sub == "w-rotated"
    with pytest.raises(AuthenticationError):
        await verifier.verify(old)


def _hs256_with_public_key(issuer: Issuer, kid: str) -> str:
    """The classic confusion: HMAC-"signed" with the issuer's public key as the secret."""
    public_pem = (
        issuer.keys[kid]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    now = int(time.time())
    claims = {"sub": "x", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60}
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


@pytest.mark.parametrize(
    "forge",
    [
        lambda issuer: _hs256_with_public_key(issuer, "k1"),
        lambda issuer: jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
            key=None,
            algorithm="none",
            headers={"kid": "k1"},
        ),
        lambda issuer: issuer.token("k1", ttl=-30),
        lambda issuer: issuer.token("k1", iss="https://other-idp.example"),
        lambda issuer: issuer.token("k1", aud="another-api"),
        lambda issuer: issuer.token("k1")[:-6] + "AAAAAA",
        lambda issuer: jwt.encode(
            {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
            new_key(),
            algorithm="RS256",
        ),
    ],
    ids=[
        "hs256-with-public-key",
        "alg-none",
        "expired",
        "wrong-issuer",
        "wrong-audience",
        "bad-signature",
        "no-kid",
    ],
)
async def test_forged_and_wrong_tokens_are_refused(issuer, forge):
    verifier = verifier_for(issuer)
    with pytest.raises(AuthenticationError):
        await verifier.verify(forge(issuer))


async def test_an_unreachable_issuer_without_cached_keys_is_unavailable_not_unauthorised():
    keys = JwksKeys("http://127.0.0.1:9/certs", timeout=1.0)  # discard port: refused
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=keys)
    signer = Issuer(keys={"k1": new_key()})
    with pytest.raises(KeysUnavailable):
        await verifier.verify(signer.token("k1"))
    await verifier.aclose()


async def test_a_service_configured_with_a_jwks_url_takes_rs256_and_refuses_the_dev_secret(
    issuer, amqp_url, mongodb_url, database_name
):
    definition = kit_definition(
        amqp_url,
        mongodb_url,
        database_name,
        Probe(),
        auth_jwks_url=issuer.url,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
    )
    async with running_service(definition) as service:
        good = {"Authorization": f"Bearer {issuer.token('k1')}"}
        created = await service.client.post("/things", json={"kind": "a", "size": 1}, headers=good)
        assert created.status_code == 201
        development = token_for("w-1", "worker", issuer=ISSUER, audience=AUDIENCE)
        refused = await service.client.post(
            "/things", json={"kind": "a", "size": 1}, headers=development
        )
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
