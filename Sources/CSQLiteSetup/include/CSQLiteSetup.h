#ifndef CSQLITESETUP_H
#define CSQLITESETUP_H

/// Process-wide SQLite settings that only `sqlite3_config` can make, a variadic C function
/// Swift cannot call. Call before the first connection opens (before SQLite initializes
/// itself); later calls change nothing and return SQLite's SQLITE_MISUSE.
///
/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS): with them on, every
/// sqlite3_malloc and sqlite3_free takes a process-wide mutex, which was 7 % of jobd's CPU
/// under W1 (docs/benchmarks.md). jobd never reads those statistics.
///
/// Returns SQLite's result code (0: SQLITE_OK).
int jobd_sqlite_setup(void);

#endif
