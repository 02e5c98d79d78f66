//! canal-sink: sits between the parser and the store; assembles transactions, splits them by
//! canal.instance.transaction.size, handles heartbeats and drops empty filtered transactions. Must
//! not decode binlog or serve clients.
