/* Report formats and writing a report directory (see conformance/report.h). */
#include "conformance/report.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance/alloc.h"
#include "conformance/report_internal.h"

typedef struct mqs_format {
    const char *name;
    unsigned bit;
    const char *file;
    int (*write)(const mqs_report *r, FILE *out);
} mqs_format;

static const mqs_format formats[] = {
    {"json", MQS_FMT_JSON, "report.json", mqs_report_write_json},
    {"junit", MQS_FMT_JUNIT, "junit.xml", mqs_report_write_junit},
    {"md", MQS_FMT_MD, "report.md", mqs_report_write_md},
    {"html", MQS_FMT_HTML, "report.html", mqs_report_write_html},
};

#define N_FORMATS (sizeof formats / sizeof formats[0])

/* One name of a comma-separated list: a format, "all", or an alias. */
static unsigned format_bits(const char *name, size_t len)
{
    static const struct {
        const char *name;
        unsigned bits;
    } aliases[] = {{"all", MQS_FMT_ALL}, {"xml", MQS_FMT_JUNIT}, {"markdown", MQS_FMT_MD}};
    for (size_t i = 0; i < N_FORMATS; i++)
        if (strlen(formats[i].name) == len && !strncmp(formats[i].name, name, len))
            return formats[i].bit;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strlen(aliases[i].name) == len && !strncmp(aliases[i].name, name, len))
            return aliases[i].bits;
    return 0;
}

int mqs_report_parse_formats(const char *list, unsigned *out, char *err, size_t errlen)
{
    *out = 0;
    if (!list || !*list) {
        snprintf(err, errlen, "empty format list (use json, junit, md, html or all)");
        return -1;
    }
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        unsigned bits = format_bits(p, len);
        if (!bits) {
            snprintf(err, errlen, "unknown report format '%.*s' (use json, junit, md, html or all)",
                     (int)len, p);
            return -1;
        }
        *out |= bits;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

int mqs_make_dirs(const char *dir)
{
    char *path = mqs_strdup(dir);
    if (!path) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (char *p = path + 1; rc == 0; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            rc = -1;
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (rc == 0 && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        rc = -1;
    }
    mqs_free(path);
    return rc;
}

int mqs_write_file(const char *dir, const char *file, int (*write)(const void *ctx, FILE *out),
                   const void *ctx, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    errno = 0;
    int rc = write(ctx, out);
    int saved = errno;
    if (fclose(out) != 0 && rc == 0) {
        saved = errno;
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        saved = errno;
        rc = -1;
    }
    if (rc != 0) {
        remove(tmp);
        snprintf(err, errlen, "%s: cannot write (%s)", path,
                 saved ? strerror(saved) : "out of memory");
    }
    return rc;
}

/* Adapts a report writer to mqs_write_file. */
typedef struct write_ctx {
    const mqs_report *r;
    int (*write)(const mqs_report *r, FILE *out);
} write_ctx;

static int write_report(const void *ctx, FILE *out)
{
    const write_ctx *w = ctx;
    return w->write(w->r, out);
}

int mqs_report_write_dir(const mqs_report *r, const char *dir, unsigned fmts, char *err,
                         size_t errlen)
{
    if (!dir || !*dir) {
        snprintf(err, errlen, "no report directory given");
        return -1;
    }
    if (mqs_make_dirs(dir) != 0) {
        snprintf(err, errlen, "%s: cannot create directory (%s)", dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < N_FORMATS; i++) {
        write_ctx w = {r, formats[i].write};
        if ((fmts & formats[i].bit) &&
            mqs_write_file(dir, formats[i].file, write_report, &w, err, errlen))
            return -1;
    }
    return 0;
}
