"""GET /v1/keys (no auth)."""

from __future__ import annotations

from fastapi import APIRouter

from sync.central.api.http import CanonicalJSON, CentralDep

router = APIRouter(tags=["keys"])


@router.get("/v1/keys", response_class=CanonicalJSON)
async def get_keys(central: CentralDep) -> CanonicalJSON:
    return CanonicalJSON(central.keyring.keys.wire())
