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

/** Each writes one report to out. Text from the broker is escaped for the format (and
 *  invalid UTF-8 / control bytes shown as "\xNN"); the target loses any user:password@,
 *  options whose key names a secret ("pass", "secret") show "***", and the password of
 *  any CONNECT in a trace is masked with '*'.
 *  @return 0, or -1 on allocation / write failure. */
int mqs_report_write_json(const mqs_report *r, FILE *out);
int mqs_report_write_junit(const mqs_report *r, FILE *out);
int mqs_report_write_md(const mqs_report *r, FILE *out);
int mqs_report_write_html(const mqs_report *r, FILE *out);

/** Parses report.json text strictly (docs/report-schema.json): unknown, duplicate or
 *  missing keys, wrong types, non-integral counts, unknown verdicts and a summary that
 *  disagrees with the cases are errors.
 *  @param[in] buf the text (need not be NUL-terminated), len its length.
 *  @param[out] out the report (owned by the caller: mqs_report_free); zeroed on failure.
 *  @return 0, or -1 with "JSON.path: reason" (or "line L, column C: ...") in err. */
int mqs_report_parse_json(const char *buf, size_t len, mqs_report *out, char *err,
                          size_t errlen);

/** Reads the file at path and parses it as mqs_report_parse_json does.
 *  @return 0, or -1 with "PATH: reason" in err. */
int mqs_report_load_json(const char *path, mqs_report *out, char *err, size_t errlen);

/** Creates dir (and parents) and writes report.json, junit.xml, report.md, report.html
 *  as selected. @return 0, or -1 with one line in err. */
int mqs_report_write_dir(const mqs_report *r, const char *dir, unsigned formats, char *err,
                         size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_REPORT_H */
