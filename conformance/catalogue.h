/* The statement catalogue: every normative statement of MQTT 3.1.1 (OASIS, Errata 01),
 * compiled into the binary from conformance/statements-311.tsv, with whether a black-box
 * client can observe a server's conformance to it. conformance/uncovered.tsv (also
 * compiled in) says why an observable statement has no scenario.
 *
 * All returned pointers refer to static, read-only data: never free them.
 */
#ifndef MQS_CATALOGUE_H
#define MQS_CATALOGUE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Can a client see a server keep (or break) the statement?  Ordered: NO < PARTLY < YES. */
typedef enum mqs_observability {
    MQS_OBS_NO = 0,     /* a client obligation, or invisible from outside */
    MQS_OBS_PARTLY = 1, /* only some of it, or only some ways of breaking it */
    MQS_OBS_YES = 2,
} mqs_observability;

#define MQS_OBS_COUNT 3

/** One catalogue row. */
typedef struct mqs_statement {
    const char *id;         /* "MQTT-3.1.2-3" */
    const char *section;    /* "3.1.2.3" */
    const char *paraphrase; /* one sentence in our own words */
    const char *binds;      /* "server", "client" or "both" */
    mqs_observability observable;
    const char *note;       /* how a black-box client observes it, or why it cannot */
} mqs_statement;

/** What kind of statement id a scenario cites. */
typedef enum mqs_statement_id_kind {
    MQS_STID_UNKNOWN = 0,   /* looks like nothing we know: a typo, or a rule not in 3.1.1 */
    MQS_STID_CATALOGUE = 1, /* a statement of the 3.1.1 catalogue */
    MQS_STID_OWN = 2,       /* the project's own ids: "MQTT31-..." (MQTT 3.1) or "MQS-..." */
} mqs_statement_id_kind;

/** @return the number of catalogue statements (141 for MQTT 3.1.1). */
size_t mqs_catalogue_count(void);

/** @param[in] i index below mqs_catalogue_count(), in the order of the spec.
 *  @return the statement, or NULL when i is out of range. */
const mqs_statement *mqs_catalogue_at(size_t i);

/** @param[in] id statement id, e.g. "MQTT-3.1.2-3" (case-sensitive); NULL is allowed.
 *  @return the statement, or NULL when the catalogue has no such id. */
const mqs_statement *mqs_catalogue_find(const char *id);

/** @return the catalogue index of id, or (size_t)-1 when it is not in the catalogue. */
size_t mqs_catalogue_index(const char *id);

/** Classifies an id a scenario cites, so the loader can warn on unknown ones.
 *  @param[in] id any string, or NULL (→ MQS_STID_UNKNOWN). */
mqs_statement_id_kind mqs_statement_id_classify(const char *id);

/** @return "no", "partly", "yes"; "unknown" outside the enum. */
const char *mqs_observability_name(int obs);

/** @return the reason conformance/uncovered.tsv gives for leaving the statement without
 *          a scenario, or NULL when it lists none. */
const char *mqs_catalogue_uncovered_reason(const char *id);

/** Iterates over the rows of conformance/uncovered.tsv.
 *  @param[in] i index from 0; @param[out] id,reason set on success.
 *  @return 1 when row i exists, 0 past the end. */
int mqs_catalogue_uncovered_at(size_t i, const char **id, const char **reason);

#ifdef __cplusplus
}
#endif

#endif /* MQS_CATALOGUE_H */
