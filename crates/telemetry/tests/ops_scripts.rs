//! Runs tests/ops/scripts_test.sh (bin/startup.sh, stop.sh, restart.sh with Canal's
//! conventions) so `cargo test` covers the scripts too.

mod common;

#[test]
fn startup_stop_restart_scripts() {
    let script = common::repo_root().join("tests/ops/scripts_test.sh");
    let out = match std::process::Command::new("bash").arg(&script).output() {
        Ok(o) => o,
        Err(e) => {
            let _: Option<()> = common::missing(&format!("bash not runnable: {e}"));
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts_test.sh failed:\n{stdout}");
    assert!(stdout.contains("scripts_test: all passed"));
}
