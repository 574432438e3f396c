/* mqttspec CLI: reading command input (files, stdin) and hex text. */
#ifndef MQS_CLI_INPUT_H
#define MQS_CLI_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Reads the whole stream into a new NUL-terminated buffer (free with mqs_free).
 *  @return the buffer, or NULL on a read error or out of memory (*len undefined). */
uint8_t *mqs_read_all(FILE *fp, size_t *len);

/** Appends the bytes of hex text to *buf (grown with mqs_realloc). Accepts
 *  spaces, tabs, newlines, ':' and ',' between bytes and an optional "0x"/"0X"
 *  before each group of digits.
 *  @return 0, or -1 with *bad_at = index in text of the offending character
 *          (or strlen(text) for an odd number of digits) or out of memory (*bad_at = -1). */
int mqs_hex_append(const char *text, size_t n, uint8_t **buf, size_t *len, long *bad_at);

/** True when every byte is hex text material (digits, separators, 0x). */
bool mqs_looks_like_hex(const uint8_t *bytes, size_t n);

#endif
