/* mqttspec status codes: name, text and rule lookups generated from MQS_STATUS_MAP. */
#include "codec/status.h"

#include <string.h>

typedef struct mqs_status_info {
    int value;
    const char *name;
    const char *rule;
    const char *text;
} mqs_status_info;

static const mqs_status_info mqs_status_table[] = {
#define MQS_STATUS_ROW(name, value, rule, text) {value, "MQS_" #name, rule, text},
    MQS_STATUS_MAP(MQS_STATUS_ROW)
#undef MQS_STATUS_ROW
};

#define MQS_STATUS_COUNT (sizeof mqs_status_table / sizeof mqs_status_table[0])

/* Linear search: the table is small and lookups happen only on errors. */
static const mqs_status_info *status_find(int status)
{
    for (size_t i = 0; i < MQS_STATUS_COUNT; i++)
        if (mqs_status_table[i].value == status)
            return &mqs_status_table[i];
    return NULL;
}

const char *mqs_status_name(int status)
{
    const mqs_status_info *s = status_find(status);
    return s ? s->name : "MQS_UNKNOWN";
}

const char *mqs_status_str(int status)
{
    const mqs_status_info *s = status_find(status);
    return s ? s->text : "unknown status";
}

const char *mqs_status_rule(int status)
{
    const mqs_status_info *s = status_find(status);
    return s ? s->rule : NULL;
}

bool mqs_status_is_malformed(int status)
{
    return status >= 100 && status <= 899 && status_find(status) != NULL;
}

int mqs_status_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    if (strncmp(name, "MQS_", 4) == 0)
        name += 4;
    for (size_t i = 0; i < MQS_STATUS_COUNT; i++)
        if (strcmp(mqs_status_table[i].name + 4, name) == 0)
            return mqs_status_table[i].value;
    return -1;
}

size_t mqs_status_count(void)
{
    return MQS_STATUS_COUNT;
}

int mqs_status_at(size_t i)
{
    return i < MQS_STATUS_COUNT ? mqs_status_table[i].value : -1;
}
