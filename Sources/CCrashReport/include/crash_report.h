#ifndef ZFLOW_CRASH_REPORT_H
#define ZFLOW_CRASH_REPORT_H
#include <stdint.h>

/// What a fatal-signal handler writes to a worker's report pipe: the executor slot whose thread crashed, the run
/// it was executing, and the signal. Fixed size, written with one write(2): async-signal-safe.
typedef struct {
    int32_t slot;
    int32_t signal;
    uint64_t run;
} zflow_crash_record;

/// The most executor threads the process may register at once.
#define ZFLOW_CRASH_SLOTS 8192

/// Installs the fatal-signal handler (SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT) once per process,
/// keeping the handlers installed before it (the Swift runtime's backtracer) to run after its report.
void zflow_crash_install(void);

/// Registers the calling thread as an executor whose crashes are reported to `report_fd`, then waited on
/// through `ack_fd` (at most one second). Returns its slot, or -1 when every slot is taken.
int zflow_crash_register_thread(int report_fd, int ack_fd);

/// Frees a slot when its thread ends.
void zflow_crash_unregister_thread(int slot);

/// Records the run the slot's thread executes now (0: none). One store; no lock.
void zflow_crash_set_run(int slot, uint64_t run);
#endif
