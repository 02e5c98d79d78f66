//! deploy/grafana/canal-rs.json and deploy/prometheus/alerts.yml reference only metrics we
//! export (the families of `canal_telemetry::names`), the dashboard shows every family, the
//! alerts the operators need exist; `promtool check rules` and `promtool test rules` run when
//! promtool is installed (Debian package `prometheus`).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use canal_telemetry::names;
use regex::Regex;

/// Metrics Prometheus itself synthesizes for every target.
const PROMETHEUS_SYNTHETIC: &[&str] = &["up"];

fn deploy() -> PathBuf {
    common::repo_root().join("deploy")
}

/// Metric names used by a PromQL expression.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    let strings = Regex::new(r#""(?:[^"\\]|\\.)*""#).unwrap();
    let braces = Regex::new(r"\{[^}]*\}").unwrap();
    let ranges = Regex::new(r"\[[^\]]*\]").unwrap();
    let grouping =
        Regex::new(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)").unwrap();
    let ident = Regex::new(r"[A-Za-z_:][A-Za-z0-9_:]*").unwrap();
    let keywords = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
    ];
    let e = strings.replace_all(expr, "\"\"");
    let e = braces.replace_all(&e, " ");
    let e = ranges.replace_all(&e, " ");
    let e = grouping.replace_all(&e, " ");
    let mut out = BTreeSet::new();
    for m in ident.find_iter(&e) {
        let rest = e[m.end()..].trim_start();
        let prev = e[..m.start()].chars().last();
        if rest.starts_with('(') || keywords.contains(&m.as_str().to_ascii_lowercase().as_str()) {
            continue;
        }
        // Part of a number like 1e3 or a $variable.
        if matches!(prev, Some(c) if c.is_ascii_digit() || c == '.' || c == '$') {
            continue;
        }
        out.insert(m.as_str().to_string());
    }
    out
}

fn check_exported(used: &BTreeSet<String>, what: &str) {
    for m in used {
        if PROMETHEUS_SYNTHETIC.contains(&m.as_str()) {
            continue;
        }
        assert!(
            names::find(m).is_some(),
            "{what} references {m}, which canal-rs does not export"
        );
    }
}

#[test]
fn promql_metric_extraction() {
    let got = metrics_in(
        r#"histogram_quantile(0.99, sum by (le, destination) (rate(canal_instance_client_request_latency_bucket{destination=~"$destination"}[2m]))) / 1e3 > bool up"#,
    );
    assert_eq!(
        got,
        BTreeSet::from([
            "canal_instance_client_request_latency_bucket".to_string(),
            "up".to_string()
        ])
    );
    assert!(names::find("canal_instance_client_request_latency_bucket").is_some());
    assert!(names::find("canal_instance_transactions_bucket").is_none());
    assert!(names::find("canal_instance_nonexistent").is_none());
}

#[test]
fn dashboard_references_only_exported_metrics_and_shows_all() {
    let text = std::fs::read_to_string(deploy().join("grafana/canal-rs.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut exprs = Vec::new();
    let mut ids = BTreeSet::new();
    let panels = dash["panels"].as_array().expect("panels");
    for p in panels {
        let id = p["id"].as_i64().expect("panel id");
        assert!(ids.insert(id), "duplicate panel id {id}");
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_i64().unwrap(), g["w"].as_i64().unwrap());
        assert!(
            x >= 0 && w > 0 && x + w <= 24,
            "panel {id} outside the 24-column grid"
        );
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push(t["expr"].as_str().expect("target expr").to_string());
        }
    }
    assert!(exprs.len() > 20, "dashboard has {} queries", exprs.len());
    let mut used = BTreeSet::new();
    for e in &exprs {
        used.extend(metrics_in(e));
    }
    let label_values = Regex::new(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)").unwrap();
    for v in dash["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["definition"].as_str() {
            for c in label_values.captures_iter(q) {
                used.insert(c[1].to_string());
            }
        }
    }
    check_exported(&used, "deploy/grafana/canal-rs.json");
    let shown: BTreeSet<&str> = used
        .iter()
        .filter_map(|m| names::find(m))
        .map(|d| d.name)
        .collect();
    for d in names::ALL {
        assert!(
            shown.contains(d.name),
            "the dashboard shows no panel for {}",
            d.name
        );
    }
}

#[derive(serde::Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}
#[derive(serde::Deserialize)]
struct Group {
    rules: Vec<Rule>,
}
#[derive(serde::Deserialize)]
struct Rule {
    alert: Option<String>,
    expr: String,
    labels: Option<std::collections::BTreeMap<String, String>>,
}

#[test]
fn alerts_reference_only_exported_metrics() {
    let text = std::fs::read_to_string(deploy().join("prometheus/alerts.yml")).unwrap();
    let file: RuleFile = serde_yaml::from_str(&text).unwrap();
    let mut alerts = BTreeSet::new();
    for r in file.groups.iter().flat_map(|g| &g.rules) {
        let name = r.alert.clone().expect("alerting rules only");
        assert!(
            r.labels.as_ref().and_then(|l| l.get("severity")).is_some(),
            "{name} has no severity"
        );
        check_exported(&metrics_in(&r.expr), &format!("alert {name}"));
        alerts.insert(name);
    }
    for required in [
        "CanalServerDown",
        "CanalBinlogDelayHigh",
        "CanalClientErrorRate",
        "CanalStoreFull",
        "CanalNoActiveServer",
        "CanalFailover",
    ] {
        assert!(alerts.contains(required), "missing alert {required}");
    }
}

#[test]
fn promtool_checks_and_unit_tests_the_rules() {
    let Ok(out) = std::process::Command::new("promtool")
        .arg("--version")
        .output()
    else {
        eprintln!("note: skipping: promtool not installed (apt-get install prometheus)");
        return;
    };
    assert!(out.status.success());
    let dir = deploy().join("prometheus");
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let out = std::process::Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
