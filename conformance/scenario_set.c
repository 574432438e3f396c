/* Scenario sets: the built-in scenarios, user files and directories, and --filter. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance/alloc.h"
#include "conformance/embedded.h"
#include "conformance/scenario.h"

#define MQS_SCENARIO_FILE_MAX (64u * 1024u * 1024u)

static int set_push(mqs_scenario_set *set, mqs_scenario *s, char *err, size_t errlen)
{
    mqs_scenario **items = mqs_realloc(set->items, (set->n + 1) * sizeof *items);
    if (!items) {
        mqs_scenario_free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    set->items = items;
    set->items[set->n++] = s;
    return 0;
}

int mqs_scenario_set_add_builtin(mqs_scenario_set *set, char *err, size_t errlen)
{
    for (const mqs_embedded_file *f = mqs_embedded_scenarios; f->path; f++) {
        char name[300];
        snprintf(name, sizeof name, "builtin:%s", f->path);
        mqs_scenario *s;
        if (mqs_scenario_load_buf(name, f->data, f->len, &s, err, errlen) < 0 ||
            set_push(set, s, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int mqs_scenario_load_file(const char *path, mqs_scenario **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *p = cap <= MQS_SCENARIO_FILE_MAX ? mqs_realloc(data, cap) : NULL;
            if (!p) {
                snprintf(err, errlen, "%s: %s", path,
                         cap > MQS_SCENARIO_FILE_MAX ? "file larger than 64 MiB" : "out of memory");
                mqs_free(data);
                fclose(fp);
                return -1;
            }
            data = p;
        }
        size_t got = fread(data + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        mqs_free(data);
        return -1;
    }
    int rc = mqs_scenario_load_buf(path, data, len, out, err, errlen);
    mqs_free(data);
    return rc;
}

int mqs_scenario_set_add_file(mqs_scenario_set *set, const char *path, char *err, size_t errlen)
{
    mqs_scenario *s;
    if (mqs_scenario_load_file(path, &s, err, errlen) < 0)
        return -1;
    return set_push(set, s, err, errlen);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every *.json below dir, in sorted order per directory. */
static int add_dir_rec(mqs_scenario_set *set, const char *dir, int depth, char *err, size_t errlen)
{
    if (depth > 16) {
        snprintf(err, errlen, "%s: directories nested too deep", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open directory: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *full = mqs_asprintf("%s/%s", dir, e->d_name);
        char **grown = full ? mqs_realloc(names, (n + 1) * sizeof *names) : NULL;
        if (!grown) {
            mqs_free(full);
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        names = grown;
        names[n++] = full;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct stat st;
        size_t len = strlen(names[i]);
        if (stat(names[i], &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = add_dir_rec(set, names[i], depth + 1, err, errlen);
        else if (S_ISREG(st.st_mode) && len > 5 && !strcmp(names[i] + len - 5, ".json"))
            rc = mqs_scenario_set_add_file(set, names[i], err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        mqs_free(names[i]);
    mqs_free(names);
    return rc;
}

int mqs_scenario_set_add_dir(mqs_scenario_set *set, const char *dir, char *err, size_t errlen)
{
    return add_dir_rec(set, dir, 0, err, errlen);
}

static int cmp_scenario(const void *a, const void *b)
{
    const mqs_scenario *x = *(mqs_scenario *const *)a, *y = *(mqs_scenario *const *)b;
    return strcmp(x->id, y->id);
}

int mqs_scenario_set_finish(mqs_scenario_set *set, char *err, size_t errlen)
{
    if (set->n > 1)
        qsort(set->items, set->n, sizeof *set->items, cmp_scenario);
    for (size_t i = 1; i < set->n; i++) {
        if (!strcmp(set->items[i - 1]->id, set->items[i]->id)) {
            snprintf(err, errlen, "scenario id \"%s\" is defined twice: in %s and in %s",
                     set->items[i]->id, set->items[i - 1]->file, set->items[i]->file);
            return -1;
        }
    }
    return 0;
}

void mqs_scenario_set_free(mqs_scenario_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        mqs_scenario_free(set->items[i]);
    mqs_free(set->items);
    set->items = NULL;
    set->n = 0;
}

bool mqs_scenario_matches(const mqs_scenario *s, const char *pattern)
{
    if (!fnmatch(pattern, s->id, 0) || !strcmp(pattern, s->area))
        return true;
    for (size_t i = 0; i < s->n_statements; i++)
        if (!fnmatch(pattern, s->statements[i], 0))
            return true;
    return false;
}

int mqs_scenario_set_load(mqs_scenario_set *set, bool builtin, const char *const *files,
                          size_t n_files, const char *const *dirs, size_t n_dirs, char *err,
                          size_t errlen)
{
    if (builtin && mqs_scenario_set_add_builtin(set, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n_files; i++)
        if (mqs_scenario_set_add_file(set, files[i], err, errlen) < 0)
            return -1;
    for (size_t i = 0; i < n_dirs; i++)
        if (mqs_scenario_set_add_dir(set, dirs[i], err, errlen) < 0)
            return -1;
    return mqs_scenario_set_finish(set, err, errlen);
}

static bool any_filter(const mqs_scenario *s, const char *const *filters, size_t n)
{
    if (!n)
        return true;
    for (size_t i = 0; i < n; i++)
        if (mqs_scenario_matches(s, filters[i]))
            return true;
    return false;
}

static cJSON *string_array(const char *const *items, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *s = cJSON_CreateString(items[i]);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *scenario_json(const mqs_scenario *s)
{
    static const char *const reqs[] = {"credentials", "bad-credentials", "tls",
                                       "ws",          "client-cert",     "no-anonymous"};
    const char *protos[2], *req[6];
    size_t np = 0, nr = 0;
    if (s->protocols & MQS_PROTO_31)
        protos[np++] = "3.1";
    if (s->protocols & MQS_PROTO_311)
        protos[np++] = "3.1.1";
    for (size_t i = 0; i < 6; i++)
        if (s->requires & (1u << i))
            req[nr++] = reqs[i];
    cJSON *o = cJSON_CreateObject();
    cJSON *p = string_array(protos, np), *st = string_array(s->statements, s->n_statements),
          *r = string_array(req, nr);
    bool ok = o && p && st && r && cJSON_AddStringToObject(o, "id", s->id) &&
              cJSON_AddStringToObject(o, "title", s->title) &&
              cJSON_AddStringToObject(o, "area", s->area) &&
              cJSON_AddStringToObject(o, "level", mqs_level_name((int)s->level)) &&
              cJSON_AddItemToObject(o, "protocols", p);
    if (!ok) {
        cJSON_Delete(p);
        cJSON_Delete(st);
        cJSON_Delete(r);
        cJSON_Delete(o);
        return NULL;
    }
    if (!cJSON_AddItemToObject(o, "statements", st)) {
        cJSON_Delete(st);
        cJSON_Delete(r);
        cJSON_Delete(o);
        return NULL;
    }
    if (!cJSON_AddItemToObject(o, "requires", r)) {
        cJSON_Delete(r);
        cJSON_Delete(o);
        return NULL;
    }
    if (!cJSON_AddStringToObject(o, "file", s->file)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

long mqs_scenario_list_json(const mqs_scenario_set *set, const char *const *filters,
                            size_t n_filters, FILE *out)
{
    cJSON *root = cJSON_CreateArray();
    long n = 0;
    for (size_t i = 0; root && i < set->n; i++) {
        if (!any_filter(set->items[i], filters, n_filters))
            continue;
        cJSON *o = scenario_json(set->items[i]);
        if (!o || !cJSON_AddItemToArray(root, o)) {
            cJSON_Delete(o);
            cJSON_Delete(root);
            return -1;
        }
        n++;
    }
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return -1;
    int rc = fprintf(out, "%s\n", text);
    cJSON_free(text);
    return rc < 0 ? -1 : n;
}
