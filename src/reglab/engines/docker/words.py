"""What the Docker daemon says, in reglab's words: its errors about a registry become the
sentence reglab's own client says for the same failure (:mod:`reglab.errors`), whichever
engine met it; and its formats (RFC 3339 times) read as Python values."""

from __future__ import annotations

from datetime import datetime

import docker

from ... import errors
from ...reference import parse


def _message(exc: Exception) -> str:
    if isinstance(exc, docker.errors.APIError):
        return str(exc.explanation or exc)
    return str(exc)


def _first_line(exc: Exception) -> str:
    text = _message(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _registry_trouble(text: str, reference: str, credentials: bool = False,
                      upstream: str | None = None) -> Exception | None:
    """Turn a daemon's words about a registry into the sentence reglab's own client would say.

    ``credentials``: whether the daemon was given a login for the registry (then a 401 means
    they were refused, not missing). ``upstream``: the registry is a pull-through cache of it."""
    ref = parse(reference)
    host = ref.registry
    low = text.lower()
    if "blob upload unknown" in low or "blob upload invalid" in low:  # an upload another replica started
        return errors.upload_lost(host)
    if "unexpected eof" in low:  # a blob's body stopped half-way: the registry promised bytes it lost
        return errors.blob_cut_short(host, ref.digest or f"{ref.repository}:{ref.tag_or_default}")
    if "connection refused" in low or "no such host" in low or "i/o timeout" in low or "eof" in low.split():
        return errors.unreachable(host)
    if low.strip().rstrip(".") == "unsupported" or low.startswith("unsupported:"):  # a cache's 405 UNSUPPORTED
        return errors.proxy_refuses(host, upstream)
    if upstream and ("manifest unknown" in low or "not found" in low):
        sep = "@" if ref.digest else ":"
        return errors.not_cached(host, f"{ref.repository}{sep}{ref.digest or ref.tag_or_default}", upstream)
    if "manifest unknown" in low or "not found" in low:
        return errors.manifest_unknown(host, ref.repository, ref.digest or ref.tag_or_default)
    if "server gave http response to https client" in low:
        return errors.plain_http_refused(host)
    if "certificate signed by unknown authority" in low:
        return errors.untrusted_certificate(host)
    if "relies on legacy common name" in low:
        return errors.legacy_common_name(host)
    if "x509" in low:
        return errors.certificate_mismatch(host, "x509: " + text.split("x509: ", 1)[-1].strip().rstrip("."))
    if "405" in low and "method not allowed" in low:
        return errors.read_only_refused(host)
    if "failed with status: 401" in low:  # docker login's words
        return errors.login_refused(host)
    if "unauthorized" in low or "authentication required" in low or "no basic auth credentials" in low:
        return errors.login_refused(host) if credentials else errors.login_needed(host)
    return None


def _timestamp(text: str | None) -> float:
    """Docker's RFC 3339 time (nanoseconds, ``Z``) as Unix time; 0 for "never" (year 1)."""
    if not text or text.startswith("0001-"):
        return 0.0
    main, _, rest = text.partition(".")
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    zone = rest[len("".join(ch for ch in rest if ch.isdigit())):] if rest else main[19:]
    stamp = main[:19] + (f".{fraction}" if fraction else "") + (zone.replace("Z", "+00:00") or "+00:00")
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return 0.0
