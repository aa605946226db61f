"""Where the service may send a request on a CDS client's behalf (the ``fhirServer`` of a hook request).

Without this, the caller chose both the host and the path: any host on the network could be probed through the
service (and the answer told open from closed ports), and a ``patientId`` of ``../../v1/…`` made the service fetch
its own API. Three rules, checked before any connection is made:

1. the ``fhirServer`` is one of the FHIR base URLs allow-listed for the calling issuer (``fhir_servers`` of its
   ``cds_hooks.issuers`` entry; the EHR's FHIR base, exchanged out of band like its keys) or lies under one;
2. every URL fetched — each query and each ``next`` link — stays under that base: same scheme, host and port, a path
   below the base's, no dot segments (plain or percent-encoded), no backslash;
3. a refused ``fhirServer`` gets one answer, whatever was tried, and nothing is fetched.

The total time of a fetch is bounded by one deadline (:mod:`._fhir_fetch`), not per read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

_DOT_SEGMENT: Final = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)


def _origin(url: str) -> tuple[str, str, int | None]:
    u = urlsplit(url)
    port = u.port or {"https": 443, "http": 80}.get(u.scheme)
    return u.scheme.lower(), (u.hostname or "").lower(), port


def _base_path(url: str) -> str:
    return urlsplit(url).path.rstrip("/") + "/"


def within_base(url: str, base: str) -> bool:
    """True when ``url`` is ``base`` itself or a resource under it (see rule 2)."""
    try:
        if _origin(url) != _origin(base):
            return False
        path = urlsplit(url).path
    except ValueError:  # a malformed port or host
        return False
    if "\\" in path or _DOT_SEGMENT.search(path) or "%2f" in path.lower():
        return False
    return (path.rstrip("/") + "/").startswith(_base_path(base))


def allowed_fhir_server(fhir_server: str, allowed: Iterable[str]) -> str | None:
    """The allow-listed base that ``fhir_server`` is, or lies under; None when it is not allow-listed."""
    for base in allowed:
        if within_base(fhir_server, base):
            return base
    return None
