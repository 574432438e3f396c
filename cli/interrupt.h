/* Ctrl-C / SIGTERM for the long-running subcommands (run, fuzz): the first signal asks
 * the work to stop cleanly (finish or abort what runs, clean up, write what was found),
 * a second one ends the process at once.
 *
 * Usage: mqs_interrupt_install(NULL) before the work; pass mqs_interrupt_cancelled as
 * the work's cancel callback (or poll mqs_interrupt_signal()); afterwards, when
 * mqs_interrupt_signal() != 0, exit with mqs_interrupt_exit_code(). A subcommand whose
 * engine has its own stop function (mqs_lf_stop) passes it as on_first.
 */
#ifndef MQS_CLI_INTERRUPT_H
#define MQS_CLI_INTERRUPT_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Installs handlers for SIGINT and SIGTERM (SA_RESTART) and forgets any earlier signal.
 *  First signal: records it, writes note (or a default line) to stderr and calls
 *  on_first(sig) when not NULL. on_first runs inside the signal handler: it must be
 *  async-signal-safe (set a lock-free atomic or a volatile sig_atomic_t, write(2)).
 *  Second signal: writes one line to stderr and _exit(128 + sig) at once: no cleanup,
 *  no reports.
 *  @param[in] note  static text for the first signal ("" for none, NULL for a default
 *                   line that says a second Ctrl-C exits at once). */
void mqs_interrupt_install(const char *note, void (*on_first)(int sig));

/** Puts back the default actions for SIGINT and SIGTERM (the recorded signal stays). */
void mqs_interrupt_uninstall(void);

/** @return 0 while no signal came, else the first one's number (SIGINT, SIGTERM).
 *  Thread-safe (reads a lock-free atomic). */
int mqs_interrupt_signal(void);

/** Cancel callback for the runner (mqs_cancel_fn): true once a signal came. ud unused. */
bool mqs_interrupt_cancelled(void *ud);

/** The exit code after a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM),
 *  the shell convention; 0 when none came. */
int mqs_interrupt_exit_code(void);

/** @return "SIGINT", "SIGTERM", or "a signal". */
const char *mqs_interrupt_name(void);

#ifdef __cplusplus
}
#endif

#endif
