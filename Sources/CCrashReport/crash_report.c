// The fatal-signal handler of ZFlow workers. It runs on the thread that trapped, so it may only call
// async-signal-safe functions: it looks up its own slot, writes one fixed-size record to the worker's report
// pipe, waits (poll, at most one second) for the worker's loop to say the report left, then puts back the
// handler that was there before and lets the signal take its course.
#include "crash_report.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALTERNATE_STACK_SIZE (64 * 1024)

typedef struct {
    _Atomic int used;  // 0 free, 2 being filled, 1 in use
    pthread_t thread;
    int report_fd;
    int ack_fd;
    _Atomic uint64_t run;
    void *alternate_stack;  // so that a stack overflow can still be reported
} slot_t;

static slot_t slots[ZFLOW_CRASH_SLOTS];
static const int fatal_signals[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
#define FATAL_COUNT (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[FATAL_COUNT];
static atomic_flag installed = ATOMIC_FLAG_INIT;

static void restore(int sig) {
    for (unsigned i = 0; i < FATAL_COUNT; i++) {
        if (fatal_signals[i] == sig) sigaction(sig, &previous[i], NULL);
    }
}

static void on_fatal_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    int saved_errno = errno;
    // A fault the kernel raised (si_code > 0), or this process's own abort (abort() raises SIGABRT with SI_TKILL),
    // is a crash of the code that ran; a signal another process sent (kill: SI_USER) is not reported, and takes
    // its default course.
    int own_abort = sig == SIGABRT && info != NULL && info->si_code == SI_TKILL && info->si_pid == getpid();
    int crashed = own_abort || (info != NULL && info->si_code > 0);
    pthread_t self = pthread_self();
    for (int index = 0; crashed && index < ZFLOW_CRASH_SLOTS; index++) {
        if (atomic_load(&slots[index].used) != 1 || !pthread_equal(slots[index].thread, self)) continue;
        zflow_crash_record record = {index, sig, atomic_load(&slots[index].run)};
        if (write(slots[index].report_fd, &record, sizeof record) == (ssize_t)sizeof record) {
            struct pollfd ack = {slots[index].ack_fd, POLLIN, 0};
            poll(&ack, 1, 1000);
        }
        break;
    }
    restore(sig);
    errno = saved_errno;
    // A fault returns to the faulting instruction, which faults again under the restored handler; a signal
    // that was sent (abort, kill) is sent again.
    if (info == NULL || info->si_code <= 0) raise(sig);
}

void zflow_crash_install(void) {
    if (atomic_flag_test_and_set(&installed)) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fatal_signal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (unsigned i = 0; i < FATAL_COUNT; i++) sigaction(fatal_signals[i], &action, &previous[i]);
}

int zflow_crash_register_thread(int report_fd, int ack_fd) {
    for (int index = 0; index < ZFLOW_CRASH_SLOTS; index++) {
        int expected = 0;
        if (!atomic_compare_exchange_strong(&slots[index].used, &expected, 2)) continue;
        slots[index].thread = pthread_self();
        slots[index].report_fd = report_fd;
        slots[index].ack_fd = ack_fd;
        atomic_store(&slots[index].run, 0);
        slots[index].alternate_stack = malloc(ALTERNATE_STACK_SIZE);
        if (slots[index].alternate_stack) {
            stack_t stack = {.ss_sp = slots[index].alternate_stack, .ss_flags = 0, .ss_size = ALTERNATE_STACK_SIZE};
            sigaltstack(&stack, NULL);
        }
        atomic_store(&slots[index].used, 1);
        return index;
    }
    return -1;
}

void zflow_crash_unregister_thread(int slot) {
    if (slot < 0 || slot >= ZFLOW_CRASH_SLOTS) return;
    stack_t none = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    sigaltstack(&none, NULL);
    free(slots[slot].alternate_stack);
    slots[slot].alternate_stack = NULL;
    atomic_store(&slots[slot].used, 0);
}

void zflow_crash_set_run(int slot, uint64_t run) {
    if (slot >= 0 && slot < ZFLOW_CRASH_SLOTS) atomic_store_explicit(&slots[slot].run, run, memory_order_relaxed);
}
