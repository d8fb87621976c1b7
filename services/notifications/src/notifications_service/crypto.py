"""Encryption at rest for what this service must store but nobody may read from the database:
the rendered letters (names and address) and the webhook signing secrets.

AES-256-GCM with ``LETTER_ENCRYPTION_KEY``; the record's id and purpose are the
associated data, so a ciphertext copied onto another record does not open.
Sub-keys per purpose are derived from the one configured key.

What is about a person (the letter PDF) is sealed with a data key of that
person instead (``seal_for_person``), stored wrapped by the configured key
(``store/persons.py``). ``subject-erased`` destroys the wrapped key: every copy
of the person's letters, backups included, no longer opens (crypto-shredding).
Per-person ciphertexts start with ``p1``, those sealed with the configured key
itself with ``k1``, so letters stored before per-person keys still open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_VERSION = "k1"
PERSON_KEY_VERSION = "p1"
DATA_KEY_PURPOSE = "person-data-key"


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

    # --- per-person data keys (crypto-shredding) -------------------------------------------

    def new_data_key(self, person: str) -> tuple[bytes, bytes]:
        """A fresh data key for the person, and that key wrapped for storage."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self.seal(DATA_KEY_PURPOSE, person, data_key)

    def unwrap_data_key(self, person: str, wrapped: bytes) -> bytes:
        return self.open(DATA_KEY_PURPOSE, person, wrapped)

    @staticmethod
    def seal_for_person(data_key: bytes, purpose: str, record_id: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        associated = f"{purpose}:{record_id}".encode()
        return (
            PERSON_KEY_VERSION.encode()
            + nonce
            + AESGCM(data_key).encrypt(nonce, plaintext, associated)
        )

    @staticmethod
    def open_for_person(data_key: bytes, purpose: str, record_id: str, sealed: bytes) -> bytes:
        if not is_sealed_for_person(sealed):
            raise ValueError("not sealed with a person's data key")
        nonce, ciphertext = sealed[2 : 2 + NONCE_BYTES], sealed[2 + NONCE_BYTES :]
        return AESGCM(data_key).decrypt(nonce, ciphertext, f"{purpose}:{record_id}".encode())


def is_sealed_for_person(sealed: bytes) -> bool:
    return sealed[:2] == PERSON_KEY_VERSION.encode()
