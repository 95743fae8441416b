"""Running report queries: read-only, with the memory a year's sorts need."""

import psycopg
from django.db import connection, transaction

# Ten exact percentiles over a year sort ten columns of a million values each: with the default
# 4 MB they spill to disk. This is per sort, for the report's transaction only. JIT compiles
# for longer (about 0.8 s) than the query then runs.
REPORT_WORK_MEM = "64MB"


def fetch(
    sql: str, params: list | tuple | dict = (), workers: int = 0, index_only: bool = False
) -> list[tuple]:
    """All rows of one report query, in its own (sub)transaction with report settings.
    `workers`: parallel workers the query may use (see figures.summary). `index_only`: the
    query reads only columns of the covering index incident_report_created."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [REPORT_WORK_MEM]
        )
        if workers > 1:
            # Parallel Append hands each UNION ALL part to a worker; without this small
            # parts would be judged not worth a worker.
            cursor.execute(
                "SELECT set_config('max_parallel_workers_per_gather', %s, true), "
                "set_config('parallel_setup_cost', '0', true)",
                [str(workers)],
            )
        if index_only:
            # The planner prefers the heap for a whole year, but the index holds a tenth of the
            # bytes: measured, a sixth less CPU per pass over a million incidents.
            cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_binary(sql: str, params: dict) -> list[tuple]:
    """As fetch, the answer in PostgreSQL's binary format (a server-side bound cursor on the same
    connection): bytea arrives as its bytes, not as hex text of twice the size to decode. The
    rollups' packed counts of a year are a hundred megabytes (dispatch.reports.rollups)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [REPORT_WORK_MEM]
        )
        with psycopg.Cursor(connection.connection) as binary:
            binary.execute(sql, params, binary=True)
            return binary.fetchall()


def fetch_one(sql: str, params: list | tuple = ()) -> tuple:
    return fetch(sql, params)[0]
