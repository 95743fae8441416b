"""Coverage: which demand free units reach within the target time, and the two policies built on
it (coverage-aware choice between near-equal units, move-up of idle units). Pure functions over
travel-time matrices; no database (docs/coverage-study.md)."""
