//! canal-parse: turns decoded binlog events into Canal Entry messages (header, RowChange, columns
//! with Canal's exact value strings), keeps table metadata in step with DDL history and applies
//! Canal's filters. Must not open connections of its own except through the metadata source trait,
//! nor touch the store.
