"""Alarms the console cannot miss: raised and cleared from the database state by a scanner
loop, listed and acknowledged through the API, announced on the live socket to the control room."""
