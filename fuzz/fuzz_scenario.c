/* scenario: the scenario-file loader (mqs_scenario_load_buf) on arbitrary
 * bytes. Byte 0 picks an allocation budget: with its high bit set, only the
 * first (byte0 & 0x7f) allocations succeed, so the out-of-memory paths run
 * too. The rest is the file. Invariants: no crash and no leak (LeakSanitizer);
 * a load either gives a scenario (freed here) or returns -1 with NULL and a
 * one-line error that starts with the file name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/scenario.h"
#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char name[] = "fuzz/x.json";
    char err[512];
    memset(err, 0, sizeof err);
    mqs_scenario *sc = NULL;
    bool starve = data[0] & 0x80u;
    if (starve)
        mqs_alloc_fail_after((long)(data[0] & 0x7fu));
    int rc = mqs_scenario_load_buf(name, data + 1, size - 1, &sc, err, sizeof err);
    if (starve)
        mqs_alloc_fail_after(-1);
    MQS_FZ_ASSERT(rc == 0 || rc == -1);
    if (rc == 0) {
        MQS_FZ_ASSERT(sc != NULL);
        mqs_scenario_free(sc);
        return 0;
    }
    MQS_FZ_ASSERT(sc == NULL);
    MQS_FZ_ASSERT(err[0] != '\0' && err[sizeof err - 1] == '\0');
    MQS_FZ_ASSERT(strncmp(err, name, sizeof name - 1) == 0);
    MQS_FZ_ASSERT(strchr(err, '\n') == NULL);
    return 0;
}
