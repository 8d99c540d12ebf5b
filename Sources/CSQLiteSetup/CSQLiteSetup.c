#include "CSQLiteSetup.h"

#include <sqlite3.h>

int jobd_sqlite_setup(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
