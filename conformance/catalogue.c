/* The statement catalogue (see conformance/catalogue.h). The tables themselves are
 * generated at build time from conformance/statements-311.tsv and uncovered.tsv. */
#include "conformance/catalogue.h"

#include <string.h>

#include "conformance/catalogue_table.h"

size_t mqs_catalogue_count(void)
{
    size_t n = 0;
    while (mqs_catalogue_table[n].id)
        n++;
    return n;
}

const mqs_statement *mqs_catalogue_at(size_t i)
{
    return i < mqs_catalogue_count() ? &mqs_catalogue_table[i] : NULL;
}

size_t mqs_catalogue_index(const char *id)
{
    if (!id)
        return (size_t)-1;
    for (size_t i = 0; mqs_catalogue_table[i].id; i++)
        if (!strcmp(mqs_catalogue_table[i].id, id))
            return i;
    return (size_t)-1;
}

const mqs_statement *mqs_catalogue_find(const char *id)
{
    size_t i = mqs_catalogue_index(id);
    return i == (size_t)-1 ? NULL : &mqs_catalogue_table[i];
}

/* "PREFIX" followed by at least one character of [A-Za-z0-9.-]. */
static int has_own_prefix(const char *id, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(id, prefix, n) || !id[n])
        return 0;
    return strspn(id + n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") ==
           strlen(id + n);
}

mqs_statement_id_kind mqs_statement_id_classify(const char *id)
{
    if (!id)
        return MQS_STID_UNKNOWN;
    if (mqs_catalogue_find(id))
        return MQS_STID_CATALOGUE;
    if (has_own_prefix(id, "MQTT31-") || has_own_prefix(id, "MQS-"))
        return MQS_STID_OWN;
    return MQS_STID_UNKNOWN;
}

const char *mqs_observability_name(int obs)
{
    switch (obs) {
    case MQS_OBS_NO: return "no";
    case MQS_OBS_PARTLY: return "partly";
    case MQS_OBS_YES: return "yes";
    default: return "unknown";
    }
}

const char *mqs_catalogue_uncovered_reason(const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; mqs_uncovered_table[i].id; i++)
        if (!strcmp(mqs_uncovered_table[i].id, id))
            return mqs_uncovered_table[i].reason;
    return NULL;
}

int mqs_catalogue_uncovered_at(size_t i, const char **id, const char **reason)
{
    for (size_t k = 0; k < i; k++)
        if (!mqs_uncovered_table[k].id)
            return 0;
    if (!mqs_uncovered_table[i].id)
        return 0;
    *id = mqs_uncovered_table[i].id;
    *reason = mqs_uncovered_table[i].reason;
    return 1;
}
