//! canal-meta: client subscriptions, cursors and outstanding batches per destination (memory, file
//! meta.dat, period-mixed), and the parser's own log position managers. Must not know about the
//! store internals or the network.
