#ifndef CMSGPACK_SHIM_H
#define CMSGPACK_SHIM_H
#include <msgpack.h>

/// Points a packer at a simple buffer (the callback is a function pointer Swift cannot form from a C function).
static inline void cmsgpack_packer_init_sbuffer(msgpack_packer* pk, msgpack_sbuffer* sbuf) {
    msgpack_packer_init(pk, sbuf, msgpack_sbuffer_write);
}
#endif
