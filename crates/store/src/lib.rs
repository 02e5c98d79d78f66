//! canal-store: the bounded ring buffer of serialized entries with Canal's put/get/ack/rollback
//! sequences and ITEMSIZE/MEMSIZE batches. A full buffer blocks the producer: memory stays
//! bounded. Must not know about sockets, meta persistence or the binlog.
