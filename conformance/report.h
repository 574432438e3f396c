/* mqttspec report writers: JSON (canonical), JUnit XML, Markdown, self-contained HTML. */
#ifndef MQS_REPORT_H
#define MQS_REPORT_H

#include <stdio.h>

#include "conformance/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Format bits for mqs_report_write_dir. */
#define MQS_FMT_JSON 0x01u
#define MQS_FMT_JUNIT 0x02u
#define MQS_FMT_MD 0x04u
#define MQS_FMT_HTML 0x08u
#define MQS_FMT_ALL 0x0fu

/** Parses "json,junit,md,html" / "all". @return 0, or -1 (unknown name) with err set. */
int mqs_report_parse_formats(const char *list, unsigned *out, char *err, size_t errlen);

/** Each writes one report to out. @return 0, or -1 on allocation / write failure. */
int mqs_report_write_json(const mqs_report *r, FILE *out);
int mqs_report_write_junit(const mqs_report *r, FILE *out);
int mqs_report_write_md(const mqs_report *r, FILE *out);
int mqs_report_write_html(const mqs_report *r, FILE *out);

/** Creates dir (and parents) and writes report.json, junit.xml, report.md, report.html
 *  as selected. @return 0, or -1 with one line in err. */
int mqs_report_write_dir(const mqs_report *r, const char *dir, unsigned formats, char *err,
                         size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_REPORT_H */
