/*
 * d120_lease: the primary's lease, checked by PostgreSQL itself at the start of every statement
 * (ops/ha/RUNBOOK.md, "The lease in every statement").
 *
 * The leader watch on the primary's machine (ops/ha/leader_watch.py) touches a heartbeat file
 * each time etcd's quorum confirms that this node holds the leader key; the file's mtime is when
 * that read began. Loaded through shared_preload_libraries, this module refuses every statement of
 * a non-superuser session, at executor start (after the statement's snapshot is taken), when the
 * heartbeat is older than dispatch120.lease_s: SQLSTATE 57L01, class 57 "operator intervention",
 * which psycopg and Django raise as OperationalError and the app retries on a fresh connection
 * (dispatch/core/failover.py). A primary frozen past the moment another node may be promoted
 * therefore answers no query when it resumes, even before its own watch (resuming with it) has
 * run: a statement that passes the check took its snapshot while this node still led.
 *
 * Off when dispatch120.lease_s is 0 or dispatch120.lease_file is empty (the defaults), on a server
 * in recovery, and for superusers (Patroni, pg_rewind, the operator). Both settings are
 * PGC_SIGHUP: only the server's configuration sets them, no session can switch the check off.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <time.h>

#include "access/xlog.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static char *lease_file = NULL;
static double lease_s = 0.0;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;

#define ERRCODE_LEASE_LAPSED MAKE_SQLSTATE('5', '7', 'L', '0', '1')

static void
lease_check(void)
{
	struct stat st;
	struct timespec now;
	double		age;

	if (lease_s <= 0.0 || lease_file == NULL || lease_file[0] == '\0')
		return;
	if (RecoveryInProgress() || superuser())
		return;
	if (stat(lease_file, &st) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_LEASE_LAPSED),
				 errmsg("this server's lease as primary has lapsed: no heartbeat at \"%s\"", lease_file),
				 errhint("Another node may have been promoted; reconnect (target_session_attrs=read-write).")));
	clock_gettime(CLOCK_REALTIME, &now);
	age = (double) (now.tv_sec - st.st_mtim.tv_sec) + (double) (now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
	if (age > lease_s)
		ereport(ERROR,
				(errcode(ERRCODE_LEASE_LAPSED),
				 errmsg("this server's lease as primary has lapsed: etcd last confirmed it %.3f s ago", age),
				 errhint("Another node may have been promoted; reconnect (target_session_attrs=read-write).")));
}

static void
lease_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		lease_check();
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
_PG_init(void)
{
	DefineCustomStringVariable("dispatch120.lease_file",
							   "Heartbeat file the leader watch touches while etcd confirms this node leads.",
							   NULL, &lease_file, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("dispatch120.lease_s",
							 "Refuse statements when the heartbeat is older than this many seconds (0: off).",
							 NULL, &lease_s, 0.0, 0.0, 3600.0, PGC_SIGHUP, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("dispatch120");
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = lease_ExecutorStart;
}
