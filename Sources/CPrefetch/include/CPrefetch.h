#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the processor to bring the cache line at `address` close, for writing: a hint, never a fault, so
/// lookups in a large table can overlap their memory accesses.
static inline void zflow_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
