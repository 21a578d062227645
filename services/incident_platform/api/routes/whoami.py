"""``GET /api/v1/whoami``: who the presented API token is and what its role may do.

The web UI asks once at sign-in to show only the actions the token is allowed.
"""

from fastapi import APIRouter
from pydantic import BaseModel

from incident_platform.api.deps import ViewerDep
from incident_platform.auth.rules import Role

router = APIRouter(prefix="/api/v1/whoami", tags=["tokens"])


class WhoAmI(BaseModel):
    name: str
    role: Role


@router.get("", response_model=WhoAmI)
async def whoami(principal: ViewerDep) -> WhoAmI:
    return WhoAmI(name=principal.name, role=principal.role)
