"""Dispatcher seats (席位) and the shift handover (交班) page: what the outgoing team leaves open,
its notes for the next team, and the incoming team's acknowledgement (decision 17)."""
