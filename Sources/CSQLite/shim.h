#ifndef FIELDSYNC_CSQLITE_SHIM_H
#define FIELDSYNC_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT and SQLITE_STATIC are cast macros that Swift cannot import.
static inline sqlite3_destructor_type fieldsync_sqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type fieldsync_sqlite_static(void) { return SQLITE_STATIC; }

#endif
