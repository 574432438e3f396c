/* Scenario files compiled into the binary (build/gen/scenarios_embedded.c). */
#ifndef MQS_EMBEDDED_H
#define MQS_EMBEDDED_H

#include <stddef.h>

typedef struct mqs_embedded_file {
    const char *path; /* relative to conformance/scenarios, e.g. "connect/basic.json" */
    const unsigned char *data;
    size_t len;
} mqs_embedded_file;

/** Terminated by an entry with path == NULL. */
extern const mqs_embedded_file mqs_embedded_scenarios[];
extern const unsigned mqs_embedded_scenarios_count;

#endif
