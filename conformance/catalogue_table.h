/* Internal to conformance/catalogue.c: the tables scripts/embed-catalogue.sh generates
 * into build/gen/catalogue_table.c. Use conformance/catalogue.h instead. */
#ifndef MQS_CATALOGUE_TABLE_H
#define MQS_CATALOGUE_TABLE_H

#include "conformance/catalogue.h"

typedef struct mqs_uncovered_reason {
    const char *id;
    const char *reason;
} mqs_uncovered_reason;

/* Both are terminated by a row whose id is NULL. */
extern const mqs_statement mqs_catalogue_table[];
extern const mqs_uncovered_reason mqs_uncovered_table[];

#endif /* MQS_CATALOGUE_TABLE_H */
