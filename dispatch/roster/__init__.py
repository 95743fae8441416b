"""The roster (排班): planned shifts per unit and crew member, supervisors' approvals to start a
shift without one, the rule that lets a crew member start a shift, and shifts ending by
themselves after their planned end (docs/decisions/0017-roster.md)."""
