//! canal-instance: wires one destination (binlog -> parse -> sink -> store, with meta) and runs
//! its lifecycle. Must not speak the client protocol.
