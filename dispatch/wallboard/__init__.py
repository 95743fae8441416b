"""The control room's wallboard (大屏, /wallboard/): today's figures for a big screen.

Every figure comes from the reports' own functions (dispatch.reports: summary, answering,
response_by_priority) over today's local day, so the wall and the report never disagree; the
board adds only what is live now (calls ringing, free units, diversion, open alarms). Nothing it
shows names a patient, a caller or an address: its screen account (Role.WALLBOARD) may open
this page and nothing else, and its live socket tells it only that the log moved on.
"""
