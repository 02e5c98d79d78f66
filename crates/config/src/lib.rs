//! canal-config: reads canal.properties and instance.properties the way Java Canal does and
//! validates every value up front with an error naming file and key. Must not start anything.
