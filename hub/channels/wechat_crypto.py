"""WeChat's message-push signature and "safe mode" decryption (WXBizMsgCrypt), as WeChat documents it.

Why its own module: the rule is the platform's, byte for byte, and is checked against WeChat's own
published vectors (tests/channels/test_wechat.py); keeping it apart from the HTTP client keeps it
small enough to read against the documentation.

Sources (docs/channels.md, "wechat"):

* URL check and push signature: developers.weixin.qq.com/doc/channels/API/basics/message_push.html
  (视频号小店 pushes are always safe mode and JSON): ``signature = sha1(sort(token, timestamp,
  nonce))``; in safe mode ``msg_signature = sha1(sort(token, timestamp, nonce, Encrypt))`` —
  the strings sorted as strings and concatenated.
* Decryption: developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md and the
  official sample code (``WXBizMsgCrypt``): AESKey = Base64_Decode(EncodingAESKey + "="), 32 bytes;
  AES-256-CBC with IV = AESKey[:16]; PKCS#7 padding to a multiple of 32 bytes; the plaintext is
  ``random(16) + msg_len (4 bytes, network order) + msg + appid``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: WXBizMsgCrypt pads to a multiple of 32 bytes (not AES's 16), PKCS#7 style.
_PAD_BLOCK = 32


class CryptoError(ValueError):
    """The push cannot be opened: bad key, not base64, wrong padding or length, foreign appid."""


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: the parts sorted as strings, concatenated, SHA-1, lower-case hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of two hex signatures (case-insensitive, as hex is)."""
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode("utf-8", "replace"))


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey set in the shop's push settings."""
    if len(encoding_aes_key) != 43:
        raise CryptoError("the EncodingAESKey must be 43 characters (as shown in the shop's push settings)")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the EncodingAESKey is not valid base64 text") from None
    if len(key) != 32:
        raise CryptoError("the EncodingAESKey does not decode to a 32-byte key")
    return key


def decrypt(encoding_aes_key: str, encrypt: str) -> tuple[bytes, str]:
    """Open an ``Encrypt`` field: the message bytes and the appid WeChat appended (who it is for).

    Raises :class:`CryptoError` for anything that is not a well-formed WXBizMsgCrypt ciphertext
    made with this key.
    """
    key = aes_key(encoding_aes_key)
    try:
        raw = base64.b64decode(encrypt, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the Encrypt field is not base64") from None
    if not raw or len(raw) % 16:
        raise CryptoError("the Encrypt field is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= _PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("the Encrypt field does not decrypt with this EncodingAESKey (bad padding)")
    content = plain[16:-pad]
    if len(content) < 4:
        raise CryptoError("the decrypted message is too short")
    (length,) = struct.unpack(">I", content[:4])
    if length > len(content) - 4:
        raise CryptoError("the decrypted message length is wrong")
    msg = content[4:4 + length]
    try:
        receive_id = content[4 + length:].decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("the decrypted message does not end with an appid") from None
    return msg, receive_id
