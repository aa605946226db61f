"""CDS Hooks benchmark: ``POST /cds-services/mmemd-patient-view`` with a full prefetch, in-process.

Each call carries a fresh ES384 client JWT (signed beforehand, so the figure includes verification but not signing)
and the full prefetch of an example patient (``mmemd.fhir.record_to_bundle``, one searchset per discovery key). The
figure covers JWT verification, FHIR validation and import, assessment with decision support and the card.

Run: ``python benchmarks/bench_cds.py [--calls N]``. Target: p99 <= 100 ms (the spec asks for about 500 ms).
Reported in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ISS = "https://ehr.example.org"
BASE = "http://testserver"


def _prefetch(record: dict[str, Any]) -> dict[str, Any]:
    from mmemd.fhir import record_to_bundle

    keys = {
        "Patient": "patient",
        "Condition": "conditions",
        "Observation": "observations",
        "MedicationStatement": "medications",
        "Procedure": "procedures",
        "BodyStructure": "bodyStructures",
    }
    by_key: dict[str, list[dict[str, Any]]] = {k: [] for k in keys.values()}
    for entry in record_to_bundle(record).get("entry", []):
        by_key[keys[entry["resource"]["resourceType"]]].append(entry["resource"])
    out: dict[str, Any] = {"patient": by_key.pop("patient")[0]}
    for key, resources in by_key.items():
        out[key] = (
            {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
            if resources
            else None
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-bench-"))

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec
    from fastapi.testclient import TestClient

    from mmemd.service import ServiceConfig, create_app
    from mmemd.service._cds_config import CdsHooksConfig, TrustedIssuer

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(jwt.get_algorithm_by_name("ES384").to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "alg": "ES384", "use": "sig"})
    config = ServiceConfig(cds_hooks=CdsHooksConfig(issuers=[TrustedIssuer(iss=ISS, jwks={"keys": [jwk]})]))
    aud = f"{BASE}/cds-services/mmemd-patient-view"

    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
    bodies = [
        {
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/dr-1", "patientId": r["id"]},
            "prefetch": _prefetch(r),
        }
        for r in records
    ]
    now = int(time.time())
    tokens = [
        jwt.encode(
            {"iss": ISS, "aud": aud, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())},
            key,
            algorithm="ES384",
            headers={"kid": "k1", "typ": "JWT"},
        )
        for _ in range(args.calls + 2 * len(bodies))
    ]
    sizes = [len(json.dumps(b)) for b in bodies]
    times: list[float] = []
    with TestClient(create_app(config)) as client:
        t_iter = iter(tokens)
        for body in bodies:  # warm-up: knowledge base, rules, fhir.resources models
            r = client.post(
                "/cds-services/mmemd-patient-view",
                json=body,
                headers={"Authorization": f"Bearer {next(t_iter)}"},
            )
            assert r.status_code == 200, r.text
        for i in range(args.calls):
            body = bodies[i % len(bodies)]
            t = time.perf_counter()
            r = client.post(
                "/cds-services/mmemd-patient-view",
                json=body,
                headers={"Authorization": f"Bearer {next(t_iter)}"},
            )
            times.append((time.perf_counter() - t) * 1e3)
            assert r.status_code == 200
    times.sort()
    print(
        json.dumps(
            {
                "calls": len(times),
                "patients": len(bodies),
                "prefetch_bytes_median": int(statistics.median(sizes)),
                "p50_ms": round(times[len(times) // 2], 2),
                "p90_ms": round(times[int(len(times) * 0.90)], 2),
                "p99_ms": round(times[int(len(times) * 0.99)], 2),
                "max_ms": round(times[-1], 2),
                "python": sys.version.split()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
