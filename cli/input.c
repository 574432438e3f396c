/* mqttspec CLI: input helpers (see input.h). */
#include "cli/input.h"

#include <ctype.h>
#include <string.h>

#include "conformance/alloc.h"

uint8_t *mqs_read_all(FILE *fp, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = mqs_malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            uint8_t *bigger = mqs_realloc(buf, cap * 2);
            if (bigger == NULL)
                break;
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp))
                break;
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    mqs_free(buf);
    return NULL;
}

static int hexdigit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_sep(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == ',';
}

int mqs_hex_append(const char *text, size_t n, uint8_t **buf, size_t *len, long *bad_at)
{
    uint8_t *out = mqs_realloc(*buf, *len + n / 2 + 1);
    int hi = -1;
    if (out == NULL) {
        *bad_at = -1;
        return -1;
    }
    *buf = out;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)text[i];
        bool at_group = i == 0 || is_sep((unsigned char)text[i - 1]);
        if (hi < 0 && at_group && c == '0' && i + 1 < n && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            i++; /* "0x" prefix */
            continue;
        }
        if (is_sep(c) && hi < 0)
            continue;
        int d = hexdigit(c);
        if (d < 0) {
            *bad_at = (long)i;
            return -1;
        }
        if (hi < 0) {
            hi = d;
        } else {
            out[(*len)++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    if (hi >= 0) {
        *bad_at = (long)n;
        return -1;
    }
    return 0;
}

bool mqs_looks_like_hex(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexdigit(bytes[i]) < 0 && !is_sep(bytes[i]) && bytes[i] != 'x' && bytes[i] != 'X')
            return false;
    return true;
}
