//! canal-cli: the canal-server daemon and the canalctl operator tool.
