/* Ctrl-C / SIGTERM handling shared by the long-running subcommands (cli/interrupt.h).
 * The handler only touches lock-free atomics and calls write(2) and _exit(2), which
 * are async-signal-safe (C11 7.14.1.1, POSIX signal-safety(7)). */
#include "cli/interrupt.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#if ATOMIC_INT_LOCK_FREE != 2
#error "the signal handler needs a lock-free atomic int"
#endif

#define MQS_DEFAULT_NOTE                                                                           \
    "finishing the running cases and their cleanup, then writing the reports "                     \
    "(press Ctrl-C again to exit at once)"

static atomic_int g_signal;         /* the first signal's number, 0 before it */
static const char *g_note;          /* set before the handlers are installed */
static void (*g_on_first)(int sig); /* idem */

/* Writes the parts that are not NULL and a newline to stderr. */
static void say(const char *a, const char *b, const char *c, const char *d)
{
    const char *parts[] = {a, b, c, d, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        ssize_t rc = parts[i] ? write(STDERR_FILENO, parts[i], strlen(parts[i])) : 0;
        (void)rc; /* nothing to do about a failed write in a signal handler */
    }
}

static const char *name_of(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

static void on_signal(int sig)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_signal, &expected, sig)) {
        say("\nmqttspec: interrupted again (", name_of(sig),
            "): exiting now, without cleanup or reports", NULL);
        _exit(128 + sig);
    }
    int saved = errno; /* the interrupted code may be about to read it */
    if (!g_note || *g_note)
        say("\nmqttspec: interrupted (", name_of(sig), "): ", g_note ? g_note : MQS_DEFAULT_NOTE);
    if (g_on_first)
        g_on_first(sig);
    errno = saved;
}

static void set_handlers(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void mqs_interrupt_install(const char *note, void (*on_first)(int sig))
{
    atomic_store(&g_signal, 0);
    g_note = note;
    g_on_first = on_first;
    set_handlers(on_signal);
}

void mqs_interrupt_uninstall(void)
{
    set_handlers(SIG_DFL);
}

int mqs_interrupt_signal(void)
{
    return atomic_load(&g_signal);
}

bool mqs_interrupt_cancelled(void *ud)
{
    (void)ud;
    return atomic_load(&g_signal) != 0;
}

int mqs_interrupt_exit_code(void)
{
    int sig = atomic_load(&g_signal);
    return sig ? 128 + sig : 0;
}

const char *mqs_interrupt_name(void)
{
    return name_of(atomic_load(&g_signal));
}
