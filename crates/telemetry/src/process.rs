//! Process families that Canal exports through simpleclient's DefaultExports
//! (`process_cpu_seconds_total`, `process_start_time_seconds`, `process_open_fds`,
//! `process_resident_memory_bytes`), read from `/proc` at scrape time. Hand-written because
//! it is four numbers; on systems without `/proc` nothing is rendered. The CPU clock tick is
//! taken as 100 Hz (the Linux USER_HZ value exposed to user space on every mainstream
//! architecture).

use std::fmt::Write as _;

use crate::names::{self, MetricDef};

const USER_HZ: f64 = 100.0;

fn stat_fields() -> Option<Vec<String>> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 2 (comm) may contain spaces; everything after the last ')' is space separated,
    // starting with field 3.
    let after = stat.rsplit_once(')')?.1;
    Some(after.split_whitespace().map(str::to_string).collect())
}

fn boot_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<f64>().ok())
}

fn rss_bytes() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()?;
    Some(kb * 1024.0)
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

fn family(out: &mut String, def: &MetricDef, value: Option<f64>) {
    if let Some(v) = value {
        let _ = writeln!(out, "# HELP {} {}", def.name, def.help);
        let _ = writeln!(out, "# TYPE {} {}", def.name, def.kind.as_str());
        let _ = writeln!(out, "{} {}", def.name, v);
    }
}

/// Renders the process families (empty when `/proc` is not available).
pub fn render() -> String {
    let mut out = String::new();
    let fields = stat_fields();
    // After ')': index 0 = field 3 (state); utime = field 14 -> 11, stime = 15 -> 12,
    // starttime = 22 -> 19.
    let num = |i: usize| -> Option<f64> { fields.as_ref()?.get(i)?.parse::<f64>().ok() };
    let cpu = match (num(11), num(12)) {
        (Some(u), Some(s)) => Some((u + s) / USER_HZ),
        _ => None,
    };
    let start = match (num(19), boot_time()) {
        (Some(ticks), Some(bt)) => Some(bt + ticks / USER_HZ),
        _ => None,
    };
    family(&mut out, &names::PROCESS_CPU_SECONDS, cpu);
    family(&mut out, &names::PROCESS_START_TIME, start);
    family(&mut out, &names::PROCESS_OPEN_FDS, open_fds());
    family(&mut out, &names::PROCESS_RESIDENT_MEMORY, rss_bytes());
    out
}
