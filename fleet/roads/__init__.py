"""The road network: reading files, storing networks in PostGIS, and the in-memory router."""
