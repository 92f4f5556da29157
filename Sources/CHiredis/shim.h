#ifndef FLUXBRAIN_CHIREDIS_SHIM_H
#define FLUXBRAIN_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <sys/time.h>

/// Builds a `struct timeval` from whole microseconds (Swift cannot spell `suseconds_t` portably).
static inline struct timeval fluxbrain_timeval_from_usec(long long usec) {
    struct timeval tv;
    if (usec < 0) usec = 0;
    tv.tv_sec = (time_t)(usec / 1000000);
    tv.tv_usec = (suseconds_t)(usec % 1000000);
    return tv;
}

/// Returns the reply at `index` of an array reply (avoids pointer arithmetic on `redisReply **` in Swift).
static inline redisReply *fluxbrain_reply_element(const redisReply *reply, size_t index) {
    return reply->element[index];
}

#endif
