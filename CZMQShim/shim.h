#ifndef CZMQSHIM_H
#define CZMQSHIM_H
#include <zmq.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/eventfd.h>

/// The libzmq version as major * 10000 + minor * 100 + patch (ZMQ_VERSION is a macro Swift cannot import).
static inline int czmq_version(void) { return ZMQ_VERSION; }

/// The calling thread's errno.
static inline int czmq_errno(void) { return errno; }

/// A non-blocking, close-on-exec eventfd used to wake a poll loop from another thread.
static inline int czmq_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Adds one to an eventfd's counter; returns 0 or -1 with errno.
static inline int czmq_eventfd_signal(int fd) {
    uint64_t one = 1;
    return write(fd, &one, sizeof one) == sizeof one ? 0 : -1;
}

/// Resets an eventfd's counter to zero; returns 0 or -1 with errno (EAGAIN when it was zero).
static inline int czmq_eventfd_drain(int fd) {
    uint64_t value;
    return read(fd, &value, sizeof value) == sizeof value ? 0 : -1;
}
#endif
