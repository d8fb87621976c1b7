"""Keys of the signals service: pseudonyms, lookup hashes and encryption at rest.

- Pseudonym: ``ps-`` + HMAC-SHA256(pseudonym key, person id), truncated to 128
  bits. It is computed once when a person is first registered and stored, so
  it never changes for that person; it is the only person reference that
  leaves this service.
- Lookup hashes: HMAC-SHA256(lookup key, normalised BSN or name+birth date+
  postcode+house number). They let the service find a person again without
  storing those values in clear. Prefixed with the key version.
- Encryption: every person has a random data key; the identifying fields and
  the free-text descriptions of that person are encrypted with it (AES-256-GCM,
  authenticated with the person id as associated data). The data key is stored
  wrapped by the master encryption key. Destroying a person's data key makes
  every copy of their data unreadable, backups included (crypto-shredding).

Both subkeys derive from PSEUDONYM_KEY with distinct labels, so one secret is
configured but a lookup hash can never be mistaken for a pseudonym.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_VERSION = "k1"
NONCE_BYTES = 12


def _derive(secret: bytes, label: str) -> bytes:
    return hmac.new(secret, label.encode(), hashlib.sha256).digest()


class Keyring:
    def __init__(self, pseudonym_secret: str, encryption_key_b64: str) -> None:
        if len(pseudonym_secret) < 32:
            raise ValueError("PSEUDONYM_KEY must be at least 32 characters")
        master = base64.b64decode(encryption_key_b64)
        if len(master) != 32:
            raise ValueError("ENCRYPTION_KEY must be 32 bytes, base64-encoded")
        secret = pseudonym_secret.encode()
        self._pseudonym_key = _derive(secret, "buurtsignaal/pseudonym/v1")
        self._lookup_key = _derive(secret, "buurtsignaal/lookup/v1")
        self._master = AESGCM(master)

    def pseudonym(self, person_id: str) -> str:
        digest = hmac.new(self._pseudonym_key, person_id.encode(), hashlib.sha256).hexdigest()
        return f"ps-{digest[:32]}"

    def lookup_hash(self, plain_key: str) -> str:
        digest = hmac.new(self._lookup_key, plain_key.encode(), hashlib.sha256).hexdigest()
        return f"{KEY_VERSION}:{digest}"

    def new_data_key(self, person_id: str) -> tuple[bytes, bytes]:
        """A fresh data key, and that key wrapped by the master key for storage."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self._seal(self._master, data_key, person_id)

    def unwrap(self, wrapped: bytes, person_id: str) -> bytes:
        return self._open(self._master, wrapped, person_id)

    def encrypt(self, data_key: bytes, plaintext: bytes, person_id: str) -> bytes:
        return self._seal(AESGCM(data_key), plaintext, person_id)

    def decrypt(self, data_key: bytes, sealed: bytes, person_id: str) -> bytes:
        return self._open(AESGCM(data_key), sealed, person_id)

    @staticmethod
    def _seal(cipher: AESGCM, plaintext: bytes, person_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + cipher.encrypt(nonce, plaintext, person_id.encode())

    @staticmethod
    def _open(cipher: AESGCM, sealed: bytes, person_id: str) -> bytes:
        return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], person_id.encode())
