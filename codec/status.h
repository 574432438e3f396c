/* mqttspec status codes: one X-macro table, stable numbers, append only.
 *
 * X(name, value, rule_id, text)
 *   0-9     progress
 *   10-99   API misuse / caller errors
 *   100-899 malformed packet: one code per rule; rule_id is the MQTT 3.1.1
 *           statement id (OASIS Errata 01) or a stable mqttspec id "MQS-..."
 *           / "MQTT31-..." for rules without a statement id
 *   900+    internal
 * The numbers end up in JSON reports and corpora: never renumber.
 */
#ifndef MQS_STATUS_H
#define MQS_STATUS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MQS_STATUS_MAP(X)                                                                        \
    X(OK, 0, NULL, "success")                                                                    \
    X(NEED_MORE, 1, NULL, "incomplete input")                                                    \
    X(E_BAD_PARAM, 10, NULL, "invalid argument")                                                 \
    X(E_BUFFER_TOO_SMALL, 11, NULL, "output buffer too small")                                   \
    X(E_TOO_MANY_ITEMS, 12, NULL, "caller item array too small")                                 \
    X(E_INTERNAL, 900, NULL, "internal error")

typedef enum mqs_status {
#define MQS_STATUS_ENUM(name, value, rule, text) MQS_##name = value,
    MQS_STATUS_MAP(MQS_STATUS_ENUM)
#undef MQS_STATUS_ENUM
} mqs_status;

/** "MQS_OK" style name; "MQS_UNKNOWN" for values outside the table. Never NULL. */
const char *mqs_status_name(int status);
/** Human text; "unknown status" for values outside the table. Never NULL. */
const char *mqs_status_str(int status);
/** Statement id such as "MQTT-3.1.2-3", or NULL when the status has none. */
const char *mqs_status_rule(int status);
/** True for 100..899 codes that are in the table. */
bool mqs_status_is_malformed(int status);
/** Status value for a name with or without the MQS_ prefix; -1 when unknown. */
int mqs_status_from_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* MQS_STATUS_H */
