/* Scenario packets at run time: build the bytes of a structured packet (send /
 * connect), match a decoded packet against an expectation, and describe both in
 * one readable line for reasons and traces. Internal to conformance/. */
#ifndef MQS_PKTSPEC_H
#define MQS_PKTSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mqtt.h"
#include "conformance/expand.h"
#include "conformance/scenario.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a build needs besides the packet spec. */
typedef struct mqs_build_ctx {
    const mqs_vars *vars;
    mqs_version version;
    const char *client_id; /* CONNECT default client id (the client's ${cid:..}) */
    const char *username;  /* CONNECT default credentials (the run's), may be NULL */
    const char *password;
} mqs_build_ctx;

/** What a built packet leaves on the broker, for the cleanup, and where its secret is. */
typedef struct mqs_built {
    uint8_t type;         /* type nibble written */
    bool connect;         /* a CONNECT was built: the fields below are set */
    bool clean_session;   /* CONNECT: the clean session bit written */
    mqs_buf client_id;    /* CONNECT: the client id written */
    mqs_buf retain_topic; /* PUBLISH with the RETAIN bit, or a CONNECT with a retained will */
    bool has_retain_topic;
    size_t secret_off; /* bytes [secret_off, secret_off + secret_len) hold a password */
    size_t secret_len;
} mqs_built;

void mqs_built_free(mqs_built *b);

/** Builds a structured packet (defaults per SCENARIOS.md, raw overrides through
 *  mqs_encode_unchecked) and appends its bytes to out.
 *  @return 0, or -1 with one line in err (expansion error, out of memory). */
int mqs_spec_build(const mqs_sc_packet *spec, const mqs_build_ctx *ctx, mqs_buf *out,
                   mqs_built *info, char *err, size_t errlen);

/** The payload_size pattern: byte i of a generated payload. */
uint8_t mqs_spec_pattern_byte(size_t i);

/** Matches a decoded packet against an expectation.
 *  @return 1 match, 0 mismatch (why: which field differs), -1 error (why: expansion error). */
int mqs_spec_match(const mqs_sc_packet *spec, const mqs_packet *pkt, const mqs_vars *v, char *why,
                   size_t whylen);

/** "SUBACK id=1 codes=[1]": the expectation in the same words as mqs_packet_describe. */
void mqs_spec_describe(const mqs_sc_packet *spec, const mqs_vars *v, mqs_buf *out);

/** "PUBLISH qos=1 id=7 topic=\"a/b\" payload=\"hello\"": one line, long values cut,
 *  non-printable bytes as \xHH. A CONNECT password is shown as ***. */
void mqs_packet_describe(const mqs_packet *p, mqs_buf *out);

/** Appends bytes escaped, unquoted: printable ASCII as is (\" and \\ for the quote and
 *  the backslash), every other byte as \xHH. */
void mqs_escape_bytes(mqs_buf *out, const uint8_t *p, size_t n);

/** Appends bytes as a quoted, escaped (mqs_escape_bytes), possibly shortened string. */
void mqs_describe_bytes(mqs_buf *out, const uint8_t *p, size_t n, size_t max);

/** The value a save takes from a packet (decimal text for numbers). @return 0 or -1 (oom). */
int mqs_spec_save_value(mqs_sc_field f, const mqs_packet *p, mqs_buf *out);

#ifdef __cplusplus
}
#endif

#endif
