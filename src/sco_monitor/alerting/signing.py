"""Standard Webhooks signatures (https://www.standardwebhooks.com): what we send and how to check it.

signature = "v1," + base64(HMAC-SHA256(key, f"{webhook-id}.{webhook-timestamp}.{body}")), where the
key is the secret's bytes, or, for a secret of the form `whsec_<base64>`, the decoded base64 part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def secret_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str, *, now: int | None = None,
           tolerance: int = 300) -> bool:
    """True when one of the space-separated `v1,` signatures matches (and the timestamp is fresh)."""
    import time

    if abs((now if now is not None else int(time.time())) - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, part) for part in header.split())
