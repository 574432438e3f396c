/* Scenario coverage of the statement catalogue (`mqttspec coverage`): for every statement
 * of MQTT 3.1.1, the scenarios that cite it; totals per observability; the observable
 * statements no scenario covers, with the reason conformance/uncovered.tsv gives; and the
 * ids scenarios cite that are not in the catalogue.
 *
 * Works on a plain list of scenarios (id + statement ids), so it needs nothing from the
 * scenario loader but that list.
 */
#ifndef MQS_COVERAGE_H
#define MQS_COVERAGE_H

#include <stddef.h>
#include <stdio.h>

#include "conformance/catalogue.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One scenario as coverage sees it (all borrowed from the caller). */
typedef struct mqs_scenario_ref {
    const char *id;
    const char *const *statements;
    size_t n;
} mqs_scenario_ref;

/** One statement and the scenarios citing it. */
typedef struct mqs_coverage_row {
    const char *id;            /* the catalogue's id, or the scenario's string for others */
    const mqs_statement *st;   /* catalogue row; NULL for ids outside the catalogue */
    mqs_statement_id_kind kind;
    size_t *scenarios;         /* indices into the scenario array, ascending, each once */
    size_t n_scenarios;
    const char *reason;        /* uncovered.tsv's reason, for catalogue rows only, or NULL */
} mqs_coverage_row;

/** The whole picture. */
typedef struct mqs_coverage {
    mqs_coverage_row *rows;   /* rows[0..n_catalogue): the catalogue in spec order; then the
                                 ids outside it (own MQTT31-/MQS- ids and unknown ones) by id */
    size_t n_rows;
    size_t n_catalogue;
    size_t total[MQS_OBS_COUNT];   /* catalogue statements per observability */
    size_t covered[MQS_OBS_COUNT]; /* of those, cited by at least one scenario */
    size_t n_unknown;              /* rows of kind MQS_STID_UNKNOWN (typos: fix them) */
    size_t n_stale_reasons;        /* covered statements uncovered.tsv still gives a reason for */
    const mqs_scenario_ref *scenarios; /* borrowed: the input */
    size_t n_scenarios;
} mqs_coverage;

/** Computes coverage of the catalogue by the scenarios.
 *  @param[in] sc,n the scenarios; they (and their strings) must outlive *out.
 *  @param[out] out free with mqs_coverage_free.
 *  @return 0, or -1 when out of memory (out is then empty). */
int mqs_coverage_compute(const mqs_scenario_ref *sc, size_t n, mqs_coverage *out);

void mqs_coverage_free(mqs_coverage *cov);

/** @return 1 when a row is an observable (yes/partly) catalogue statement no scenario cites. */
int mqs_coverage_row_missing(const mqs_coverage_row *row);

/** Writes the coverage as text: one line per statement, then the ids outside the
 *  catalogue, the totals, and the observable statements left uncovered with the reason.
 *  @return 0, or -1 on a write error. */
int mqs_coverage_write_text(const mqs_coverage *cov, FILE *out);

/** Writes the coverage as JSON (documented in docs/REPORTS.md).
 *  @return 0, or -1 on allocation or write failure. */
int mqs_coverage_write_json(const mqs_coverage *cov, FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* MQS_COVERAGE_H */
