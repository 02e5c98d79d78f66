//! `canalctl position set` against the real canal-server (gated by CANAL_TEST_MARIADB +
//! _SOCKET): refused while the destination runs, then with the consumer and the destination
//! stopped the cursor is moved back to the binlog position before row 3; after the restart the
//! consumer receives rows 3, 4, 5 again (Canal's file meta: meta.dat holds the client cursor the
//! parser restarts from, operations.md §3.2/§3.3).

mod e2e_support;
mod ops_support;

use ops_support::ok;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn position_set_moves_the_consumer_back_and_rows_are_redelivered() {
    let Some(mut ops) = ops_support::start("position").await else {
        return;
    };
    let mut client = ops.client(1001).await;
    let before = ops.five_rows_delivered(&mut client).await;
    let (file, pos) = before[2].clone();
    let args = ops_support::set_args(&file, pos);
    let set_args: Vec<&str> = args.iter().map(String::as_str).collect();

    // Refused while the destination runs (its cursor lives in memory and would overwrite it).
    let out = ops.canalctl(&set_args);
    assert!(
        !out.status.success(),
        "position set accepted on a running destination"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is running"), "{err}");

    // Consumer stopped, destination stopped (admin port): the move is accepted.
    drop(client);
    let mut admin = ops.admin_login().await;
    ok(&admin.instance("example", "stop").await, "1");
    let out = ops.canalctl(&set_args);
    assert!(
        out.status.success(),
        "position set: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ops.assert_cursor_shown(&file, pos);
    let dump = ops.canalctl(&["meta", "dump"]);
    assert!(dump.status.success());
    assert!(String::from_utf8_lossy(&dump.stdout).contains(&file));

    // Restart: rows 3, 4, 5 come again, then new ones.
    ok(&admin.instance("example", "start").await, "1");
    let _client = ops.expect_redelivery_from_row_3().await;

    // status reads both sources.
    let st = ops.canalctl(&["status"]);
    assert!(st.status.success());
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("destination example: running=true role=active"),
        "{text}"
    );
    assert!(text.contains("client 1001:"), "{text}");
}
