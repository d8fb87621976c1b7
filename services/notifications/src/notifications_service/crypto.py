"""Encryption at rest for what this service must store but nobody may read from the database:
the rendered letters (names and address) and the webhook signing secrets.

AES-256-GCM with ``LETTER_ENCRYPTION_KEY``; the record's id and purpose are the
associated data, so a ciphertext copied onto another record does not open.
Sub-keys per purpose are derived from the one configured key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_VERSION = "k1"


class Vault:
    def __init__(self, key_b64: str) -> None:
        master = base64.b64decode(key_b64)
        if len(master) != 32:
            raise ValueError("the encryption key must be 32 bytes, base64-encoded")
        self._master = master

    def _cipher(self, purpose: str) -> AESGCM:
        label = f"buurtsignaal/notifications/{purpose}/v1".encode()
        return AESGCM(hmac.new(self._master, label, hashlib.sha256).digest())

    def seal(self, purpose: str, record_id: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(purpose).encrypt(nonce, plaintext, record_id.encode())
        return KEY_VERSION.encode() + nonce + sealed

    def open(self, purpose: str, record_id: str, sealed: bytes) -> bytes:
        version, rest = sealed[:2], sealed[2:]
        if version != KEY_VERSION.encode():
            raise ValueError("sealed with an unknown key version")
        nonce, ciphertext = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
        return self._cipher(purpose).decrypt(nonce, ciphertext, record_id.encode())
