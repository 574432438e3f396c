/* Internal to the report writers (conformance/report_*.c, compare.c): escaping for each
 * output language, hex dumps, redaction of secrets, and the views every writer shares
 * (verdict counts, areas, statement verdicts). Not a public API.
 *
 * Text from the broker (reasons, decoded packets) can hold any byte. Every writer prints
 * it through mqs_put_text(), which keeps valid UTF-8 and shows everything else — invalid
 * UTF-8, C0/C1 control characters other than tab and newline, U+FFFE/U+FFFF — as the
 * ASCII text "\xNN" (one per byte), so the output is valid UTF-8, valid XML 1.0 and
 * harmless HTML whatever the broker sent.
 */
#ifndef MQS_REPORT_INTERNAL_H
#define MQS_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conformance/catalogue.h"
#include "conformance/result.h"

/* How mqs_put_text escapes. */
typedef enum mqs_esc {
    MQS_ESC_NONE,    /* only the byte clean-up above (plain text, Markdown code blocks) */
    MQS_ESC_XML,     /* XML/HTML text: & < > " ' as references */
    MQS_ESC_XML_ATTR,/* XML/HTML attribute value: as XML, and tab/CR/LF as &#9; &#13; &#10; */
    MQS_ESC_MD,      /* Markdown inline text: punctuation backslash-escaped, newlines as spaces */
} mqs_esc;

/* At most this many packet bytes are printed as hex in a report.json trace entry (the
 * entry's "len" keeps the full size), and in the human-readable reports. */
#define MQS_JSON_HEX_MAX 65536u
#define MQS_TEXT_HEX_MAX 256u

/** @return the length (1..4) of the valid UTF-8 sequence at s[0..len), or 0 if invalid
 *  (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t mqs_utf8_seq_len(const unsigned char *s, size_t len);

/** Writes s (NULL writes nothing) cleaned up and escaped for mode. */
void mqs_put_text(FILE *out, const char *s, mqs_esc mode);

/** printf for the writers: the text of fmt is written as is, and each conversion as:
 *  %s  a string (NULL: nothing) through mqs_put_text(esc) — for anything from a scenario
 *      or a broker; %r  a string written raw — only for the writer's own markup;
 *  %d %u %zu %lld %.Nf as printf. Nothing else is supported. */
void mqs_putf(FILE *out, mqs_esc esc, const char *fmt, ...);

/** "0 ms", "850 ms" or "12.3 s". */
void mqs_put_duration(FILE *out, double ms);

/** items joined by ", " through mqs_put_text(esc); none (raw) when there are none. */
void mqs_put_list(FILE *out, char *const *items, size_t n, mqs_esc esc, const char *none);

/** @return a copy of s cleaned up as mqs_put_text(MQS_ESC_NONE) does (valid UTF-8 with
 *  no control characters but tab and newline), or NULL (s NULL or out of memory).
 *  Free with mqs_free. */
char *mqs_text_clean(const char *s);

/** Writes up to max bytes of b as lowercase hex, a space between bytes when spaced,
 *  then " ... (N bytes)" if it had to stop early. */
void mqs_put_hex(FILE *out, const uint8_t *b, size_t len, size_t max, int spaced);

/** @return the longest run of c in s (0 for NULL). */
size_t mqs_longest_run(const char *s, char c);

/** @return a copy of target with any user:password@ removed from its authority, or
 *  NULL (target NULL or out of memory). Free with mqs_free. */
char *mqs_redact_target(const char *target);

/** @return a copy of a "key=value" option with the value replaced by "***" when the key
 *  names a secret (contains "pass" or "secret", any case), or NULL on allocation
 *  failure (or when opt is NULL). Free with mqs_free. */
char *mqs_redact_option(const char *opt);

/** @return e's bytes, or when they are a CONNECT mqttspec sent that carries a password,
 *  a copy with the password bytes replaced by '*' in *copy (free with mqs_free; *copy is
 *  NULL when no copy was needed). NULL when e has no bytes or the copy fails. */
const uint8_t *mqs_trace_bytes(const mqs_trace_entry *e, uint8_t **copy);

/** "sent", "received" or "event" for a trace entry's dir (anything else: "event"). */
const char *mqs_trace_dir_name(int dir);

/** Lower-case verdict name ("pass"...) for CSS classes and anchors. */
const char *mqs_verdict_css(int v);

/** @return NULL-safe s ("" for NULL). */
const char *mqs_str(const char *s);

/** Writes c's trace as text, one line per entry ("  12 ms  client  ->  decoded"), the
 *  hex of its bytes (password masked, capped at MQS_TEXT_HEX_MAX) on the next line.
 *  @return 0, or -1 when out of memory. */
int mqs_put_trace(FILE *out, const mqs_case_result *c, mqs_esc mode);

/** Counts the cases of r per verdict (the writers trust the cases, not r->counts). */
void mqs_report_count(const mqs_report *r, size_t counts[MQS_VERDICT_COUNT]);

/** The distinct areas of r's cases in order of first appearance.
 *  @param[out] areas array of borrowed strings (free the array with mqs_free).
 *  @return 0, or -1 when out of memory. */
int mqs_report_areas(const mqs_report *r, const char ***areas, size_t *n);

/** One statement cited by the cases of a run. */
typedef struct mqs_run_statement {
    const char *id;             /* borrowed from the report */
    const mqs_statement *st;    /* catalogue row, NULL for MQTT31-/MQS-/unknown ids */
    mqs_verdict verdict;        /* the worst verdict of the cases citing it */
    size_t counts[MQS_VERDICT_COUNT];
} mqs_run_statement;

/** Statement verdicts of a run: every statement some case cites, catalogue statements
 *  first in catalogue order, then the others sorted by id.
 *  @param[out] out array (free with mqs_free); @return 0, or -1 when out of memory. */
int mqs_run_statements(const mqs_report *r, mqs_run_statement **out, size_t *n);

/** The inline CSS of report.html and matrix.html (no external reference). Verdict
 *  filter: a checkbox input#show-<verdict> placed before <main> hides main's tr/article
 *  elements of class <verdict> when unchecked. */
extern const char mqs_report_html_style[];

/** An HTML verdict badge: a <span>, or with anchor a link to #ANCHOR-NUMBER, with title
 *  (escaped; may be NULL) as its tooltip. */
void mqs_html_badge(FILE *out, int v, const char *anchor, size_t number, const char *title);

/** Writes c's trace as an HTML table (decoded text, then hex; password masked).
 *  @return 0, or -1 when out of memory. */
int mqs_html_trace(FILE *out, const mqs_case_result *c);

/** mkdir -p: creates dir and its missing parents. @return 0, or -1 with errno set. */
int mqs_make_dirs(const char *dir);

/** Writes dir/file with write(ctx, out) through dir/file.tmp and a rename, so no reader
 *  ever sees half a file. @return 0, or -1 with "PATH: reason" in err. */
int mqs_write_file(const char *dir, const char *file, int (*write)(const void *ctx, FILE *out),
                   const void *ctx, char *err, size_t errlen);

/** The statement coverage of a run, as report.md and report.html show it. */
typedef struct mqs_run_coverage {
    mqs_run_statement *rows; /* mqs_run_statements() */
    size_t n;
    size_t per_obs[MQS_OBS_COUNT]; /* catalogue statements checked, per observability */
    size_t outside;                /* ids outside the catalogue */
} mqs_run_coverage;

/** Fills cov (free cov->rows with mqs_free). @return 0, or -1 when out of memory. */
int mqs_run_coverage_get(const mqs_report *r, mqs_run_coverage *cov);

/** Writes the sentence that introduces the coverage table (plain ASCII, no markup). */
void mqs_put_coverage_intro(FILE *out, const mqs_run_coverage *cov);

/** @return the number of cases a statement row counts. */
size_t mqs_run_statement_cases(const mqs_run_statement *row);

/** @return how many catalogue statements with observability obs exist. */
size_t mqs_catalogue_count_obs(mqs_observability obs);

#endif /* MQS_REPORT_INTERNAL_H */
