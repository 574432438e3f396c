/* Plain main() for the fuzz harnesses: runs LLVMFuzzerTestOneInput once per
 * file, so a harness builds without libFuzzer (gcc + ASan/UBSan in
 * `make check-fuzz`, clang + coverage in `make fuzz-coverage`) and replays a
 * corpus or a crash reproducer.
 *
 *   replay FILE|DIR ...     directories are walked recursively, in name order
 *
 * Each input is copied into a heap block of exactly its size, so a read one
 * byte past the end is caught by ASan as it would be under libFuzzer. A
 * harness reports a broken invariant by abort(); the run then ends with
 * "replay: crashed on input FILE" (MQS_REPLAY_VERBOSE=1 prints every name).
 * Exit status: 0 all inputs ran, 1 a file could not be read, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Provided by ASan/UBSan runtimes when linked in; called before a sanitizer exits. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static const char *mqs_replay_current; /* input being run, for the crash note */

/* Names the input that crashed (async-signal-safe: write(2) only). */
static void mqs_replay_note_crash(void)
{
    const char *p = mqs_replay_current;
    if (p == NULL)
        return;
    static const char head[] = "replay: crashed on input ";
    ssize_t w = write(2, head, sizeof head - 1);
    w = write(2, p, strlen(p));
    w = write(2, "\n", 1);
    (void)w;
}

static void mqs_replay_on_signal(int sig)
{
    mqs_replay_note_crash();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int mqs_replay_path(const char *path, unsigned long *count, int verbose);

/* Reads a whole file into a malloc'd block of exactly its size (NULL data for
 * an empty file). Returns 0 or -1 with errno set. */
static int mqs_replay_read(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = n ? malloc(n) : NULL;
    if (n && buf == NULL) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    if (n && fread(buf, 1, n, f) != n) {
        free(buf);
        fclose(f);
        errno = EIO;
        return -1;
    }
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}

static int mqs_replay_file(const char *path, unsigned long *count, int verbose)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (mqs_replay_read(path, &data, &size) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (verbose) {
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    }
    mqs_replay_current = path; /* named by the crash handlers if the harness dies */
    LLVMFuzzerTestOneInput(data, size);
    mqs_replay_current = NULL;
    free(data);
    ++*count;
    return 0;
}

static int mqs_replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int mqs_replay_dir(const char *path, unsigned long *count, int verbose)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., hidden files such as .gitkeep */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (grown == NULL) {
                rc = 1;
                break;
            }
            names = grown;
        }
        size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(len);
        if (names[n] == NULL) {
            rc = 1;
            break;
        }
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, mqs_replay_cmp);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = mqs_replay_path(names[i], count, verbose);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int mqs_replay_path(const char *path, unsigned long *count, int verbose)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (S_ISDIR(st.st_mode))
        return mqs_replay_dir(path, count, verbose);
    return mqs_replay_file(path, count, verbose);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, mqs_replay_on_signal);
    signal(SIGSEGV, mqs_replay_on_signal);
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(mqs_replay_note_crash);
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    const char *v = getenv("MQS_REPLAY_VERBOSE");
    int verbose = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
    unsigned long count = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++)
        rc = mqs_replay_path(argv[i], &count, verbose);
    fprintf(stderr, "replay: %s: %lu inputs%s\n", argv[0], count, rc ? ", with errors" : "");
    return rc;
}
