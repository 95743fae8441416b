from ninja import Router, Schema

from dispatch.core.events import last_seq
from dispatch.core.signed_in import SignedInRequest

router = Router(tags=["session"])


class MeOut(Schema):
    username: str
    role: str
    hospital: int | None
    unit: int | None
    last_seq: int


@router.get("/me", response=MeOut, summary="Who is signed in, and the latest event number")
def me(request: SignedInRequest) -> dict:
    user = request.user
    shift = user.shifts.current().first()
    return {
        "username": user.username,
        "role": user.role,
        "hospital": user.hospital_id,
        "unit": shift.unit_id if shift else None,
        "last_seq": last_seq(),
    }
