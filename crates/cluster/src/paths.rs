//! Every ZooKeeper path Canal uses (operations.md §1.2), relative to the session root (the
//! chroot suffix of `canal.zkServers` is applied by the session, not here).

/// `/otter/canal`.
pub const CANAL_ROOT: &str = "/otter/canal";
/// `/otter/canal/destinations` (persistent, created at server start).
pub const DESTINATIONS_ROOT: &str = "/otter/canal/destinations";
/// `/otter/canal/cluster` (persistent, created at server start).
pub const CLUSTER_ROOT: &str = "/otter/canal/cluster";

/// `/otter/canal/cluster/{ip:port}`: ephemeral, "this server is up".
pub fn server_cluster_node(address: &str) -> String {
    format!("{CLUSTER_ROOT}/{address}")
}

/// `/otter/canal/destinations/{dest}`.
pub fn destination(dest: &str) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}")
}

/// `/otter/canal/destinations/{dest}/running`: ephemeral ServerRunningData of the active server.
pub fn destination_running(dest: &str) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/running")
}

/// `/otter/canal/destinations/{dest}/cluster`: parent of the servers able to run `dest`.
pub fn destination_cluster(dest: &str) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/cluster")
}

/// `/otter/canal/destinations/{dest}/cluster/{ip:port}`: ephemeral, no data.
pub fn destination_cluster_node(dest: &str, address: &str) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/cluster/{address}")
}

/// `/otter/canal/destinations/{dest}/parse`: the parser's LogPosition (no `@type`).
pub fn parse_node(dest: &str) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/parse")
}

/// `/otter/canal/destinations/{dest}/{cid}`: one subscribed client (cid = decimal Java short).
pub fn client_id_node(dest: &str, client_id: i16) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/{client_id}")
}

/// `/otter/canal/destinations/{dest}/{cid}/filter`: raw UTF-8 filter text.
pub fn filter_node(dest: &str, client_id: i16) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/{client_id}/filter")
}

/// `/otter/canal/destinations/{dest}/{cid}/cursor`: LogPosition JSON with leading `@type`.
pub fn cursor_node(dest: &str, client_id: i16) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/{client_id}/cursor")
}

/// `/otter/canal/destinations/{dest}/{cid}/mark`: parent of the batch nodes.
pub fn batch_mark_root(dest: &str, client_id: i16) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/{client_id}/mark")
}

/// `/otter/canal/destinations/{dest}/{cid}/mark/{0000000001}`: one outstanding batch.
pub fn batch_mark_node(dest: &str, client_id: i16, batch_id: i64) -> String {
    format!(
        "{}/{}",
        batch_mark_root(dest, client_id),
        batch_node_name(batch_id)
    )
}

/// `/otter/canal/destinations/{dest}/{cid}/running`: the Java client's own running node.
pub fn client_running_node(dest: &str, client_id: i16) -> String {
    format!("{DESTINATIONS_ROOT}/{dest}/{client_id}/running")
}

/// Batch node name: the id left-padded with `0` to 10 digits (Java `%010d` of the value).
pub fn batch_node_name(batch_id: i64) -> String {
    format!("{batch_id:010}")
}

/// Parses a batch node name back into its id (`None` when it is not a decimal number).
pub fn parse_batch_node_name(name: &str) -> Option<i64> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// Client id of a child of `/destinations/{dest}`: only names made of digits count (so
/// `running`, `cluster`, `parse` and negative ids are skipped), and the value must fit a Java
/// `short`.
pub fn parse_client_id_child(name: &str) -> Option<i16> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// Parent of a path (`None` for `/` and for relative paths).
pub fn parent(path: &str) -> Option<&str> {
    let i = path.rfind('/')?;
    if i == 0 {
        if path.len() > 1 {
            Some("/")
        } else {
            None
        }
    } else {
        Some(&path[..i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_operations_md_1_2() {
        assert_eq!(
            server_cluster_node("10.20.1.5:11111"),
            "/otter/canal/cluster/10.20.1.5:11111"
        );
        assert_eq!(destination("example"), "/otter/canal/destinations/example");
        assert_eq!(
            destination_running("example"),
            "/otter/canal/destinations/example/running"
        );
        assert_eq!(
            destination_cluster_node("example", "10.20.1.5:11111"),
            "/otter/canal/destinations/example/cluster/10.20.1.5:11111"
        );
        assert_eq!(
            parse_node("example"),
            "/otter/canal/destinations/example/parse"
        );
        assert_eq!(
            client_id_node("example", 1001),
            "/otter/canal/destinations/example/1001"
        );
        assert_eq!(
            filter_node("example", 1001),
            "/otter/canal/destinations/example/1001/filter"
        );
        assert_eq!(
            cursor_node("example", 1001),
            "/otter/canal/destinations/example/1001/cursor"
        );
        assert_eq!(
            batch_mark_node("example", 1001, 1),
            "/otter/canal/destinations/example/1001/mark/0000000001"
        );
        assert_eq!(
            client_running_node("example", 1001),
            "/otter/canal/destinations/example/1001/running"
        );
    }

    #[test]
    fn child_name_rules() {
        assert_eq!(parse_client_id_child("1001"), Some(1001));
        assert_eq!(parse_client_id_child("running"), None);
        assert_eq!(parse_client_id_child("-1"), None);
        assert_eq!(parse_client_id_child("40000"), None);
        assert_eq!(parse_client_id_child(""), None);
        assert_eq!(parse_batch_node_name("0000000042"), Some(42));
        assert_eq!(parse_batch_node_name("x1"), None);
        assert_eq!(batch_node_name(7), "0000000007");
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
    }
}
