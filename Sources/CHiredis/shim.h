#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

/// `redisReaderGetError` is a macro in hiredis 0.14 and is not imported into Swift.
static inline const char *chiredis_reader_error(const redisReader *reader) {
    return reader->errstr;
}

/// Whether the reader is in an unrecoverable error state.
static inline int chiredis_reader_has_error(const redisReader *reader) {
    return reader->err != 0;
}

/// The reader keeps fed bytes in an sds buffer; this tells how many are still unparsed.
static inline size_t chiredis_reader_pending_bytes(const redisReader *reader) {
    return reader->len - reader->pos;
}

#endif
