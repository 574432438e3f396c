/* The comparison matrix of several runs (`mqttspec compare`): one row per scenario and
 * protocol version, grouped by area, one column per broker run and transport; each cell
 * the verdict, with a reference to its reason (and in HTML its trace); then per-broker
 * totals and the statements each broker breaks. */
#ifndef MQS_COMPARE_H
#define MQS_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include "conformance/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One run to compare: its report (read with mqs_report_load_json) and the file it came
 *  from (shown in the matrix; may be NULL). Both borrowed. */
typedef struct mqs_compare_input {
    const mqs_report *report;
    const char *source;
} mqs_compare_input;

/** Write the matrix of n runs (n >= 1) as Markdown (matrix.md) or as one self-contained
 *  HTML page (matrix.html). @return 0, or -1 on allocation or write failure. */
int mqs_compare_write_md(const mqs_compare_input *in, size_t n, FILE *out);
int mqs_compare_write_html(const mqs_compare_input *in, size_t n, FILE *out);

/** Creates dir (and parents) and writes matrix.md and/or matrix.html there, as selected
 *  by fmts (MQS_FMT_MD, MQS_FMT_HTML of conformance/report.h).
 *  @return 0, or -1 with one line in err. */
int mqs_compare_write_dir(const mqs_compare_input *in, size_t n, const char *dir, unsigned fmts,
                          char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_COMPARE_H */
