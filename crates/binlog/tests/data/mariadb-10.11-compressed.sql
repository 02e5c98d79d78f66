-- Workload of the live compressed-binlog tests (tests/support_compressed/mod.rs): run on the
-- sandbox MariaDB 10.11 (scripts/start-mariadb.sh: ROW, binlog_row_metadata=FULL, CRC32) in a
-- fresh schema with SET GLOBAL log_bin_compress=ON, log_bin_compress_min_len=10, between two
-- FLUSH BINARY LOGS. One statement per line. The tests' expected values are derived from it.
CREATE TABLE c1 (id INT PRIMARY KEY, name VARCHAR(100), d DECIMAL(10,2), t DATETIME(3), txt TEXT, e ENUM('a','b','c'), s SET('x','y','z'), b BIT(17));
INSERT INTO c1 VALUES (1, 'compressed row number one', 12345.67, '2024-01-02 03:04:05.678', REPEAT('abc', 50), 'b', 'x,z', 65537);
INSERT INTO c1 VALUES (2, 'second', -0.05, '1999-12-31 23:59:59.999', 'short text here', 'c', '', 0), (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE c1 SET name = 'updated name value', d = 1.00 WHERE id = 1;
DELETE FROM c1 WHERE id = 2;
INSERT INTO c1 SELECT seq, CONCAT('bulk row ', seq), seq / 100, '2020-02-02 02:02:02.002', REPEAT('z', seq), 'a', 'y', seq FROM seq_10_to_59;
