/* Escaping, hex dumps and redaction shared by the report writers (report_internal.h). */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "conformance/alloc.h"
#include "conformance/report_internal.h"

static int in_range(unsigned char c, unsigned lo, unsigned hi)
{
    return c >= lo && c <= hi;
}

size_t mqs_utf8_seq_len(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (in_range(c, 0xc2, 0xdf))
        n = 2;
    else if (in_range(c, 0xe0, 0xef)) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        if (c == 0xed)
            hi = 0x9f; /* no surrogates U+D800..U+DFFF */
    } else if (in_range(c, 0xf0, 0xf4)) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f; /* nothing above U+10FFFF */
    } else
        return 0;
    if (len < n || !in_range(s[1], lo, hi))
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!in_range(s[i], 0x80, 0xbf))
            return 0;
    return n;
}

/* 1 when the valid sequence s[0..n) is shown as \xNN bytes: C0 controls but tab and
 * newline, DEL, C1 controls (U+0080..U+009F), and the non-characters U+FFFE/U+FFFF
 * that XML 1.0 forbids. */
static int shown_as_bytes(const unsigned char *s, size_t n)
{
    if (n == 1)
        return (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n') || s[0] == 0x7f;
    if (n == 2)
        return s[0] == 0xc2 && s[1] < 0xa0;
    return n == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf);
}

static void put_bytes_escaped(FILE *out, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "\\x%02x", s[i]);
}

/* Writes one ASCII character c escaped for mode. */
static void put_ascii(FILE *out, char c, mqs_esc mode)
{
    if (mode == MQS_ESC_XML || mode == MQS_ESC_XML_ATTR) {
        switch (c) {
        case '&': fputs("&amp;", out); return;
        case '<': fputs("&lt;", out); return;
        case '>': fputs("&gt;", out); return;
        case '"': fputs("&quot;", out); return;
        case '\'': fputs("&#39;", out); return;
        default: break;
        }
    }
    if (mode == MQS_ESC_XML_ATTR && (c == '\n' || c == '\t')) {
        fprintf(out, "&#%d;", c);
        return;
    }
    if (mode == MQS_ESC_MD) {
        if (c == '\n' || c == '\t') {
            fputc(' ', out);
            return;
        }
        /* CommonMark backslash escapes for what could start markup mid-line (callers
         * never start a line with broker text, so '#', '-', '+' need none) */
        if (strchr("\\`*_[]<>|~&", c))
            fputc('\\', out);
    }
    fputc(c, out);
}

void mqs_put_text(FILE *out, const char *s, mqs_esc mode)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    while (len > 0) {
        size_t n = mqs_utf8_seq_len(p, len);
        if (n == 0 || shown_as_bytes(p, n))
            put_bytes_escaped(out, p, n ? n : 1);
        else if (n == 1)
            put_ascii(out, (char)p[0], mode);
        else
            fwrite(p, 1, n, out);
        n = n ? n : 1;
        p += n;
        len -= n;
    }
}

char *mqs_text_clean(const char *s)
{
    if (!s)
        return NULL;
    const unsigned char *in = (const unsigned char *)s;
    size_t len = strlen(s), size = 0;
    for (size_t i = 0; i < len;) { /* first pass: the size */
        size_t n = mqs_utf8_seq_len(in + i, len - i);
        size += n == 0 ? 4 : shown_as_bytes(in + i, n) ? 4 * n : n;
        i += n ? n : 1;
    }
    char *out = mqs_malloc(size + 1), *o = out;
    for (size_t i = 0; out && i < len;) {
        size_t n = mqs_utf8_seq_len(in + i, len - i);
        if (n == 0 || shown_as_bytes(in + i, n)) {
            for (size_t k = 0; k < (n ? n : 1); k++, o += 4)
                snprintf(o, 5, "\\x%02x", in[i + k]);
        } else {
            memcpy(o, in + i, n);
            o += n;
        }
        i += n ? n : 1;
    }
    if (out)
        *o = '\0';
    return out;
}

void mqs_put_hex(FILE *out, const uint8_t *b, size_t len, size_t max, int spaced)
{
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++)
        fprintf(out, spaced && i ? " %02x" : "%02x", b[i]);
    if (n < len)
        fprintf(out, " ... (%zu bytes)", len);
}

size_t mqs_longest_run(const char *s, char c)
{
    size_t best = 0, run = 0;
    for (; s && *s; s++) {
        run = *s == c ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

char *mqs_redact_target(const char *target)
{
    if (!target)
        return NULL;
    const char *scheme_end = strstr(target, "://");
    size_t auth = scheme_end ? (size_t)(scheme_end - target) + 3 : 0;
    size_t auth_end = auth + strcspn(target + auth, "/?#");
    size_t at = (size_t)-1;
    for (size_t i = auth; i < auth_end; i++)
        if (target[i] == '@')
            at = i;
    if (at == (size_t)-1)
        return mqs_strdup(target);
    size_t len = strlen(target);
    char *r = mqs_malloc(len + 1);
    if (!r)
        return NULL;
    memcpy(r, target, auth);
    memcpy(r + auth, target + at + 1, len - at); /* includes the NUL */
    return r;
}

/* 1 when the key part of "key=value" names a secret. */
static int secret_key(const char *opt, size_t keylen)
{
    static const char *const words[] = {"pass", "secret"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= keylen; i++) {
            size_t k = 0;
            while (k < wl && tolower((unsigned char)opt[i + k]) == words[w][k])
                k++;
            if (k == wl)
                return 1;
        }
    }
    return 0;
}

char *mqs_redact_option(const char *opt)
{
    if (!opt)
        return NULL;
    const char *eq = strchr(opt, '=');
    if (!eq || !eq[1] || !secret_key(opt, (size_t)(eq - opt)))
        return mqs_strdup(opt);
    size_t keylen = (size_t)(eq - opt) + 1;
    char *r = mqs_malloc(keylen + 4);
    if (!r)
        return NULL;
    memcpy(r, opt, keylen);
    memcpy(r + keylen, "***", 4);
    return r;
}

/* Reads a 2-byte length at *pos and skips the field; @return 0 when b is too short. */
static int skip_field(const uint8_t *b, size_t len, size_t *pos, size_t *start, size_t *flen)
{
    if (*pos + 2 > len)
        return 0;
    *flen = (size_t)b[*pos] << 8 | b[*pos + 1];
    *start = *pos + 2;
    *pos = *start + *flen;
    return 1;
}

/* Finds the password of a CONNECT (MQTT 3.1 and 3.1.1 share the layout):
 * @return 1 with [*start, *start + *plen) clipped to len, 0 when there is none. */
static int connect_password(const uint8_t *b, size_t len, size_t *start, size_t *plen)
{
    size_t pos = 1, s, n;
    while (pos < len && pos < 5 && (b[pos] & 0x80)) /* remaining length, at most 4 bytes */
        pos++;
    pos++;
    if (!skip_field(b, len, &pos, &s, &n) || pos + 4 > len) /* protocol name */
        return 0;
    uint8_t flags = b[pos + 1];
    pos += 4; /* level, flags, keep alive */
    if (!(flags & 0x40) || !skip_field(b, len, &pos, &s, &n)) /* client id */
        return 0;
    int fields = ((flags & 0x04) ? 2 : 0) + ((flags & 0x80) ? 1 : 0); /* will, user name */
    for (int i = 0; i < fields; i++)
        if (!skip_field(b, len, &pos, &s, &n))
            return 0;
    if (!skip_field(b, len, &pos, start, plen) || *start >= len)
        return 0;
    if (*plen > len - *start)
        *plen = len - *start;
    return 1;
}

const uint8_t *mqs_trace_bytes(const mqs_trace_entry *e, uint8_t **copy)
{
    *copy = NULL;
    if (!e->bytes || e->len == 0)
        return NULL;
    size_t start, plen;
    if (e->dir != 0 || (e->bytes[0] >> 4) != 1 ||
        !connect_password(e->bytes, e->len, &start, &plen))
        return e->bytes;
    *copy = mqs_malloc(e->len);
    if (!*copy)
        return NULL;
    memcpy(*copy, e->bytes, e->len);
    memset(*copy + start, '*', plen);
    return *copy;
}

const char *mqs_trace_dir_name(int dir)
{
    return dir == 0 ? "sent" : dir == 1 ? "received" : "event";
}

const char *mqs_verdict_css(int v)
{
    static const char *const names[MQS_VERDICT_COUNT] = {"pass", "info", "skip",
                                                         "warn", "fail", "error"};
    return v >= 0 && v < MQS_VERDICT_COUNT ? names[v] : "unknown";
}

const char *mqs_str(const char *s)
{
    return s ? s : "";
}

/* Writes one numeric conversion spec[0..len) (e.g. "%zu", "%.1f") taking its argument. */
static void put_number(FILE *out, const char *spec, size_t len, va_list *ap)
{
    char f[16];
    snprintf(f, sizeof f, "%.*s", (int)len, spec);
    char conv = spec[len - 1];
    if (conv == 'f')
        fprintf(out, f, va_arg(*ap, double));
    else if (len >= 3 && spec[len - 2] == 'z')
        fprintf(out, f, va_arg(*ap, size_t));
    else if (len >= 4 && spec[len - 2] == 'l')
        fprintf(out, f, va_arg(*ap, long long));
    else if (conv == 'u')
        fprintf(out, f, va_arg(*ap, unsigned));
    else
        fprintf(out, f, va_arg(*ap, int));
}

void mqs_putf(FILE *out, mqs_esc esc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            fputc(*p, out);
            continue;
        }
        size_t len = 1 + strspn(p + 1, ".0123456789zl");
        if (p[len] == 's')
            mqs_put_text(out, va_arg(ap, const char *), esc);
        else if (p[len] == 'r')
            fputs(mqs_str(va_arg(ap, const char *)), out);
        else if (p[len] == '%')
            fputc('%', out);
        else if (p[len] && strchr("duf", p[len]))
            put_number(out, p, len + 1, &ap);
        p += len;
    }
    va_end(ap);
}

void mqs_put_duration(FILE *out, double ms)
{
    if (!(ms > 0))
        fputs("0 ms", out);
    else if (ms < 1000)
        fprintf(out, "%.0f ms", ms);
    else
        fprintf(out, "%.1f s", ms / 1000);
}

void mqs_put_list(FILE *out, char *const *items, size_t n, mqs_esc esc, const char *none)
{
    for (size_t i = 0; i < n; i++)
        mqs_putf(out, esc, i ? ", %s" : "%s", items[i]);
    if (n == 0)
        fputs(none, out);
}
