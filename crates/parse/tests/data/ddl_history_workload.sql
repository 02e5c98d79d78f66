-- DDL history workload; the test creates a fresh schema, USEs it and runs these statements
-- (one per line) once with binlog_row_metadata=FULL and once with MINIMAL.
CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT);
INSERT INTO t VALUES (1, 'a1', 10);
ALTER TABLE t ADD COLUMN c DATETIME NULL;
INSERT INTO t VALUES (2, 'a2', 20, '2024-01-01 00:00:00');
ALTER TABLE t DROP COLUMN b;
INSERT INTO t VALUES (3, 'a3', '2024-01-02 00:00:00');
ALTER TABLE t CHANGE a a_renamed VARCHAR(20);
INSERT INTO t VALUES (4, 'a4', '2024-01-03 00:00:00');
ALTER TABLE t MODIFY c DATETIME NULL FIRST;
INSERT INTO t (id, a_renamed, c) VALUES (5, 'a5', '2024-01-04 00:00:00');
ALTER TABLE t RENAME COLUMN a_renamed TO name;
INSERT INTO t (id, name) VALUES (6, 'a6');
RENAME TABLE t TO t2;
INSERT INTO t2 (id, name) VALUES (7, 'a7');
DROP TABLE t2;
CREATE TABLE t2 (k BIGINT UNSIGNED PRIMARY KEY, v TEXT, w DECIMAL(10,2));
INSERT INTO t2 VALUES (8, 'v8', 1.50);
