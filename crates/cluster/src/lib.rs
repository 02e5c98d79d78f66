//! canal-cluster: ZooKeeper HA (running-node preemption per destination, cluster registration,
//! fencing). Must not parse binlog or serve clients.
