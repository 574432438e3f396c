/* Scenario string templates: ${cid:NAME}, ${topic}, ${token}, ${username}, ${password},
 * ${bad_password}, ${hex:..}, ${repeat:N:TEXT}, ${var:NAME}, $$ (conformance/SCENARIOS.md).
 *
 * Expansion produces bytes (a template can hold any byte through ${hex:..}).
 */
#ifndef MQS_EXPAND_H
#define MQS_EXPAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest expansion of one template (a packet must still fit a Remaining Length). */
#define MQS_EXPAND_MAX (64u * 1024u * 1024u)
#define MQS_REPEAT_MAX 16777216u

/** A growable byte buffer allocated with the suite allocator. Zero-init is empty. */
typedef struct mqs_buf {
    uint8_t *p;
    size_t len, cap;
} mqs_buf;

/** Appends n bytes. @return 0, or -1 when out of memory. */
int mqs_buf_append(mqs_buf *b, const void *data, size_t n);
/** Appends a NUL-terminated string. @return 0 or -1. */
int mqs_buf_puts(mqs_buf *b, const char *s);
/** printf-appends (text only, truncated at 1024 bytes). @return 0 or -1. */
int mqs_buf_printf(mqs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Ensures p is NUL-terminated past len (not counted). @return 0 or -1. */
int mqs_buf_terminate(mqs_buf *b);
void mqs_buf_free(mqs_buf *b);

/* What a template uses (mqs_template_check). */
#define MQS_USES_USERNAME 0x01u
#define MQS_USES_PASSWORD 0x02u
#define MQS_USES_BAD_PASSWORD 0x04u

/** Checks a template's syntax without expanding it: known variable names, every
 *  ${cid:NAME} one of clients, valid hex, repeat counts in range, and an estimated
 *  size within MQS_EXPAND_MAX.
 *  @param[out] uses   MQS_USES_* bits or'ed in (may be NULL)
 *  @return 0, or -1 with one line in err. */
int mqs_template_check(const char *tmpl, const char *const *clients, size_t n_clients,
                       unsigned *uses, char *err, size_t errlen);

/** One saved value (${var:NAME}). */
typedef struct mqs_var {
    char *name;
    uint8_t *val;
    size_t len;
} mqs_var;

/** Values for one case run. Strings are borrowed (not freed by mqs_vars_free) except
 *  the saved variables, which mqs_vars_set copies. */
typedef struct mqs_vars {
    const char *token;
    const char *topic;
    const char *const *clients; /* client names */
    const char *const *cids;    /* client ids, same order */
    size_t n_clients;
    const char *username, *password, *bad_password; /* NULL when not given */
    mqs_var *saved;
    size_t n_saved;
} mqs_vars;

/** Sets (or replaces) ${var:NAME}. @return 0 or -1 (out of memory). */
int mqs_vars_set(mqs_vars *v, const char *name, const uint8_t *val, size_t len);
/** Frees the saved variables. */
void mqs_vars_free(mqs_vars *v);

/** Expands a template, appending the bytes to out.
 *  @return 0, or -1 with one line in err (undefined ${var:..}, credentials not given,
 *          expansion too large, out of memory, syntax). */
int mqs_expand(const char *tmpl, const mqs_vars *v, mqs_buf *out, char *err, size_t errlen);

/** Expands a template that must give a decimal integer in [min, max].
 *  @return 0 with *val, or -1 with err. */
int mqs_expand_int(const char *tmpl, const mqs_vars *v, int64_t min, int64_t max, int64_t *val,
                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* MQS_EXPAND_H */
