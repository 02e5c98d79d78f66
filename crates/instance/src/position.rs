//! The start position decision of Java's `MysqlEventParser.findStartPosition`
//! (../shared/compat/entry-conversion.md §5.1), written against [`SourceProbe`] so the decision
//! can be tested without a database; [`crate::probe::ClientProbe`] implements it over
//! `canal_binlog::client`.

use std::future::Future;
use std::net::IpAddr;

use canal_config::ConfiguredPosition;
use canal_protocol::position::{EntryPosition, LogPosition, SourceAddress};

use crate::error::InstanceError;

/// Questions the decision asks the source database.
pub trait SourceProbe: Send {
    /// The current end of the binlog (`show master status`, plus the executed GTID set in GTID
    /// mode). When `refine` is true (TSDB or GTID mode in Java), the last transaction boundary
    /// before that end instead.
    fn current_end(
        &mut self,
        refine: bool,
    ) -> impl Future<Output = Result<EntryPosition, InstanceError>> + Send;

    /// Timestamp search over all binlog files (§5.2): the last transaction boundary before
    /// `timestamp_ms`; `Ok(None)` when there is none.
    fn find_by_timestamp(
        &mut self,
        timestamp_ms: i64,
    ) -> impl Future<Output = Result<Option<EntryPosition>, InstanceError>> + Send;

    /// Timestamp search restricted to `journal`, bounded by offset `bound` in that file or (when
    /// `None`) by the current end; seeded with the first event carrying a timestamp, so
    /// `Ok(None)` means an empty file.
    fn find_in_file(
        &mut self,
        journal: &str,
        timestamp_ms: i64,
        bound: Option<u64>,
    ) -> impl Future<Output = Result<Option<EntryPosition>, InstanceError>> + Send;

    /// The source's `server_id`.
    fn server_id(&mut self) -> impl Future<Output = Result<i64, InstanceError>> + Send;
}

/// Inputs of the decision besides the probe.
#[derive(Debug, Clone)]
pub struct StartInputs<'a> {
    /// The parser's stored position: in-memory position of this process, else the minimum
    /// client cursor (Java's `FailbackLogPositionManager(Memory, Meta)`).
    pub stored: Option<&'a LogPosition>,
    /// The address being connected to (host as configured).
    pub current_host: &'a str,
    /// Its port.
    pub current_port: u16,
    /// IPs `current_host` resolves to (used to compare with the stored source address).
    pub current_ips: &'a [IpAddr],
    /// The configured position of the address being used (master or standby), if any.
    pub configured: Option<&'a ConfiguredPosition>,
    /// `canal.instance.gtidon`.
    pub gtid_on: bool,
    /// Whether a standby address is configured.
    pub has_standby: bool,
    /// `canal.instance.fallbackIntervalInSeconds`.
    pub fallback_interval_secs: u64,
    /// `canal.auto.reset.latest.pos.mode`.
    pub auto_reset_latest: bool,
    /// Whether the dump failed with errno 1236 more often than the threshold (2).
    pub dump_errors_exceeded: bool,
    /// TSDB enabled: refine "current end" to the last transaction boundary.
    pub tsdb: bool,
}

/// Why a position was chosen (logged; asserted by tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartReason {
    /// Stored GTID position (GTID mode).
    StoredGtid,
    /// Configured GTID (GTID mode, nothing stored).
    ConfiguredGtid,
    /// Nothing stored or configured: current end of the binlog.
    CurrentEnd,
    /// Configured timestamp without journal: timestamp search.
    ConfiguredTimestamp,
    /// Configured journal + position.
    ConfiguredPosition,
    /// Configured journal + timestamp: search in that file.
    ConfiguredJournalTimestamp,
    /// Configured journal only (or nothing found in it): offset 4.
    ConfiguredJournalStart,
    /// Stored cursor used as is.
    Stored,
    /// Stored cursor has only a timestamp: timestamp search minus fallback.
    StoredTimestamp,
    /// Repeated dump errors and the source's server_id changed: timestamp search minus fallback.
    ServerIdChanged,
    /// Repeated dump errors with `canal.auto.reset.latest.pos.mode`: current end.
    AutoResetLatest,
    /// Stored cursor from another address (HA switch): timestamp search minus fallback.
    AddressChanged,
}

/// Whether `stored` denotes the same source as the current address: same port and either the
/// same host text or an IP the current host resolves to.
pub fn same_source(stored: Option<&SourceAddress>, host: &str, port: u16, ips: &[IpAddr]) -> bool {
    let Some(s) = stored else {
        return false;
    };
    if s.port != port {
        return false;
    }
    match s.address.as_deref() {
        None => false,
        Some(a) if a.eq_ignore_ascii_case(host) => true,
        Some(a) => a
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ips.contains(&ip)),
    }
}

fn not_found(what: impl Into<String>) -> InstanceError {
    InstanceError::PositionNotFound(what.into())
}

async fn by_timestamp<P: SourceProbe>(
    probe: &mut P,
    ts: i64,
) -> Result<EntryPosition, InstanceError> {
    probe
        .find_by_timestamp(ts)
        .await?
        .ok_or_else(|| not_found(format!("no binlog position before timestamp {ts}")))
}

/// Decides where the dump starts. Returns the position and why.
pub async fn decide_start<P: SourceProbe>(
    inputs: &StartInputs<'_>,
    probe: &mut P,
) -> Result<(EntryPosition, StartReason), InstanceError> {
    let nonempty = |s: &Option<String>| s.as_deref().is_some_and(|g| !g.is_empty());
    // 0. GTID mode.
    if inputs.gtid_on {
        if let Some(stored) = inputs.stored {
            if nonempty(&stored.postion.gtid) {
                return Ok((stored.postion.clone(), StartReason::StoredGtid));
            }
        } else if let Some(c) = inputs.configured {
            if nonempty(&c.gtid) {
                return Ok((configured_entry(c), StartReason::ConfiguredGtid));
            }
        }
    }
    let refine = inputs.tsdb || inputs.gtid_on;
    let fallback_ms = i64::try_from(inputs.fallback_interval_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);

    let Some(stored) = inputs.stored else {
        // 1. Nothing stored: configured position of the address in use, else current end.
        let configured = inputs.configured.filter(|c| !c.is_empty());
        let Some(c) = configured else {
            return Ok((probe.current_end(refine).await?, StartReason::CurrentEnd));
        };
        return match (&c.journal_name, c.position, c.timestamp) {
            (None, _, Some(ts)) => Ok((
                by_timestamp(probe, ts).await?,
                StartReason::ConfiguredTimestamp,
            )),
            (None, _, None) => Ok((probe.current_end(refine).await?, StartReason::CurrentEnd)),
            (Some(journal), Some(pos), ts) => {
                if inputs.tsdb && ts.is_none() {
                    // TSDB: move back to the last transaction boundary before the offset.
                    let found = probe.find_in_file(journal, i64::MAX, Some(pos)).await?;
                    let found = found.ok_or_else(|| {
                        not_found(format!(
                            "[fixed timestamp] no begin/commit position before {journal}:{pos}"
                        ))
                    })?;
                    return Ok((found, StartReason::ConfiguredPosition));
                }
                Ok((configured_entry(c), StartReason::ConfiguredPosition))
            }
            (Some(journal), None, ts) => {
                if let Some(ts) = ts {
                    if let Some(found) = probe.find_in_file(journal, ts, None).await? {
                        return Ok((found, StartReason::ConfiguredJournalTimestamp));
                    }
                }
                let mut e = configured_entry(c);
                e.position = Some(4);
                Ok((e, StartReason::ConfiguredJournalStart))
            }
        };
    };

    let same = same_source(
        stored.identity.source_address.as_ref(),
        inputs.current_host,
        inputs.current_port,
        inputs.current_ips,
    );
    let p = &stored.postion;
    if !same {
        // 3. HA switch: timestamp minus fallback.
        let ts = p.timestamp.unwrap_or(0).saturating_sub(fallback_ms);
        return Ok((by_timestamp(probe, ts).await?, StartReason::AddressChanged));
    }
    // 2. Same address.
    if inputs.dump_errors_exceeded {
        if !inputs.has_standby {
            if let Some(sid) = p.server_id {
                if sid != probe.server_id().await? {
                    let ts = p.timestamp.unwrap_or(0).saturating_sub(fallback_ms);
                    return Ok((by_timestamp(probe, ts).await?, StartReason::ServerIdChanged));
                }
            }
        }
        if inputs.auto_reset_latest {
            return Ok((
                probe.current_end(false).await?,
                StartReason::AutoResetLatest,
            ));
        }
    } else if p
        .journal_name
        .as_deref()
        .is_none_or(|j| j.trim().is_empty())
        && p.position.unwrap_or(0) <= 0
        && p.timestamp.unwrap_or(0) > 0
    {
        let ts = p.timestamp.unwrap_or(0).saturating_sub(fallback_ms);
        return Ok((by_timestamp(probe, ts).await?, StartReason::StoredTimestamp));
    }
    Ok((p.clone(), StartReason::Stored))
}

fn configured_entry(c: &ConfiguredPosition) -> EntryPosition {
    EntryPosition {
        journal_name: c.journal_name.clone(),
        position: c.position.and_then(|p| i64::try_from(p).ok()),
        server_id: None,
        gtid: c.gtid.clone(),
        timestamp: c.timestamp,
        included: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::position::LogIdentity;

    /// A scripted source: records the questions asked.
    #[derive(Default)]
    struct Fake {
        end: EntryPosition,
        refined_end: EntryPosition,
        by_ts: Option<EntryPosition>,
        in_file: Option<EntryPosition>,
        server_id: i64,
        asked: Vec<String>,
    }

    impl SourceProbe for Fake {
        async fn current_end(&mut self, refine: bool) -> Result<EntryPosition, InstanceError> {
            self.asked.push(format!("end refine={refine}"));
            Ok(if refine {
                self.refined_end.clone()
            } else {
                self.end.clone()
            })
        }
        async fn find_by_timestamp(
            &mut self,
            ts: i64,
        ) -> Result<Option<EntryPosition>, InstanceError> {
            self.asked.push(format!("ts {ts}"));
            Ok(self.by_ts.clone())
        }
        async fn find_in_file(
            &mut self,
            journal: &str,
            ts: i64,
            bound: Option<u64>,
        ) -> Result<Option<EntryPosition>, InstanceError> {
            self.asked.push(format!("file {journal} {ts} {bound:?}"));
            Ok(self.in_file.clone())
        }
        async fn server_id(&mut self) -> Result<i64, InstanceError> {
            self.asked.push("server_id".into());
            Ok(self.server_id)
        }
    }

    fn pos(file: &str, off: i64, ts: i64) -> EntryPosition {
        EntryPosition {
            journal_name: Some(file.into()),
            position: Some(off),
            server_id: Some(1),
            gtid: None,
            timestamp: Some(ts),
            included: false,
        }
    }

    fn fake() -> Fake {
        Fake {
            end: pos("mysql-bin.000009", 900, 0),
            refined_end: pos("mysql-bin.000009", 800, 0),
            by_ts: Some(pos("mysql-bin.000005", 500, 0)),
            in_file: Some(pos("mysql-bin.000002", 200, 0)),
            server_id: 1,
            ..Fake::default()
        }
    }

    fn inputs<'a>(
        stored: Option<&'a LogPosition>,
        configured: Option<&'a ConfiguredPosition>,
    ) -> StartInputs<'a> {
        StartInputs {
            stored,
            current_host: "127.0.0.1",
            current_port: 3307,
            current_ips: &[],
            configured,
            gtid_on: false,
            has_standby: false,
            fallback_interval_secs: 60,
            auto_reset_latest: false,
            dump_errors_exceeded: false,
            tsdb: false,
        }
    }

    fn stored_at(host: &str, port: u16, p: EntryPosition) -> LogPosition {
        LogPosition {
            identity: LogIdentity {
                source_address: Some(SourceAddress {
                    address: Some(host.into()),
                    port,
                }),
                slave_id: -1,
            },
            postion: p,
        }
    }

    async fn run(i: &StartInputs<'_>, f: &mut Fake) -> (EntryPosition, StartReason) {
        decide_start(i, f).await.expect("decides")
    }

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("rt")
            .block_on(f)
    }

    #[test]
    fn nothing_stored_nothing_configured_is_current_end() {
        block(async {
            let mut f = fake();
            let (p, r) = run(&inputs(None, None), &mut f).await;
            assert_eq!(r, StartReason::CurrentEnd);
            assert_eq!(p.position, Some(900));
            // with TSDB the end is refined to the last transaction boundary
            let mut i = inputs(None, None);
            i.tsdb = true;
            let (p, _) = run(&i, &mut f).await;
            assert_eq!(p.position, Some(800));
        });
    }

    #[test]
    fn configured_variants() {
        block(async {
            let mut f = fake();
            let c = ConfiguredPosition {
                journal_name: Some("mysql-bin.000003".into()),
                position: Some(1234),
                timestamp: None,
                gtid: None,
            };
            let (p, r) = run(&inputs(None, Some(&c)), &mut f).await;
            assert_eq!(r, StartReason::ConfiguredPosition);
            assert_eq!(
                (p.journal_name.as_deref(), p.position),
                (Some("mysql-bin.000003"), Some(1234))
            );

            let c = ConfiguredPosition {
                timestamp: Some(1_700_000_000_000),
                ..Default::default()
            };
            let (p, r) = run(&inputs(None, Some(&c)), &mut f).await;
            assert_eq!(r, StartReason::ConfiguredTimestamp);
            assert_eq!(p.position, Some(500));
            assert_eq!(f.asked.last().map(String::as_str), Some("ts 1700000000000"));

            let c = ConfiguredPosition {
                journal_name: Some("mysql-bin.000002".into()),
                timestamp: Some(1_700_000_000_000),
                ..Default::default()
            };
            let (p, r) = run(&inputs(None, Some(&c)), &mut f).await;
            assert_eq!(r, StartReason::ConfiguredJournalTimestamp);
            assert_eq!(p.position, Some(200));

            // journal + timestamp, nothing found in the file -> offset 4 of that file
            f.in_file = None;
            let (p, r) = run(&inputs(None, Some(&c)), &mut f).await;
            assert_eq!(r, StartReason::ConfiguredJournalStart);
            assert_eq!(
                (p.journal_name.as_deref(), p.position),
                (Some("mysql-bin.000002"), Some(4))
            );

            // journal only -> offset 4
            let c = ConfiguredPosition {
                journal_name: Some("mysql-bin.000007".into()),
                ..Default::default()
            };
            let (p, r) = run(&inputs(None, Some(&c)), &mut f).await;
            assert_eq!(r, StartReason::ConfiguredJournalStart);
            assert_eq!(p.position, Some(4));
        });
    }

    #[test]
    fn configured_position_with_tsdb_moves_to_a_boundary() {
        block(async {
            let mut f = fake();
            let c = ConfiguredPosition {
                journal_name: Some("mysql-bin.000002".into()),
                position: Some(1234),
                ..Default::default()
            };
            let mut i = inputs(None, Some(&c));
            i.tsdb = true;
            let (p, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::ConfiguredPosition);
            assert_eq!(p.position, Some(200));
            assert_eq!(
                f.asked,
                vec![format!("file mysql-bin.000002 {} Some(1234)", i64::MAX)]
            );
            // with a configured timestamp the position is taken verbatim
            let c2 = ConfiguredPosition {
                timestamp: Some(1_700_000_000_000),
                ..c.clone()
            };
            let mut i = inputs(None, Some(&c2));
            i.tsdb = true;
            let (p, _) = run(&i, &mut f).await;
            assert_eq!(p.position, Some(1234));
            // an empty file: no boundary at all -> position not found
            f.in_file = None;
            let mut i = inputs(None, Some(&c));
            i.tsdb = true;
            assert!(matches!(
                decide_start(&i, &mut f).await,
                Err(InstanceError::PositionNotFound(_))
            ));
        });
    }

    #[test]
    fn stored_cursor_same_address_is_used_as_is() {
        block(async {
            let mut f = fake();
            let s = stored_at(
                "127.0.0.1",
                3307,
                pos("mysql-bin.000004", 4567, 1_700_000_000_000),
            );
            let c = ConfiguredPosition {
                journal_name: Some("mysql-bin.000001".into()),
                position: Some(4),
                ..Default::default()
            };
            let (p, r) = run(&inputs(Some(&s), Some(&c)), &mut f).await;
            assert_eq!(
                r,
                StartReason::Stored,
                "a cursor beats the configured position"
            );
            assert_eq!(p, s.postion);
            assert!(f.asked.is_empty(), "{:?}", f.asked);
        });
    }

    #[test]
    fn stored_cursor_matched_by_resolved_ip() {
        block(async {
            let mut f = fake();
            let s = stored_at("10.0.0.5", 3306, pos("mysql-bin.000004", 4567, 10_000_000));
            let ips = ["10.0.0.5".parse::<IpAddr>().expect("ip")];
            let mut i = inputs(Some(&s), None);
            i.current_host = "db.example";
            i.current_port = 3306;
            i.current_ips = &ips;
            let (_, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::Stored);
        });
    }

    #[test]
    fn address_change_falls_back_by_interval() {
        block(async {
            let mut f = fake();
            let s = stored_at(
                "10.9.9.9",
                3306,
                pos("mysql-bin.000004", 4567, 1_700_000_060_000),
            );
            let (p, r) = run(&inputs(Some(&s), None), &mut f).await;
            assert_eq!(r, StartReason::AddressChanged);
            assert_eq!(p.position, Some(500));
            // 60 s fallback
            assert_eq!(f.asked, vec!["ts 1700000000000".to_string()]);
        });
    }

    #[test]
    fn stored_timestamp_only_searches_with_fallback() {
        block(async {
            let mut f = fake();
            let s = stored_at(
                "127.0.0.1",
                3307,
                EntryPosition {
                    timestamp: Some(1_000_000),
                    ..Default::default()
                },
            );
            let (_, r) = run(&inputs(Some(&s), None), &mut f).await;
            assert_eq!(r, StartReason::StoredTimestamp);
            assert_eq!(f.asked, vec!["ts 940000".to_string()]);
        });
    }

    #[test]
    fn dump_errors_server_id_change_or_auto_reset() {
        block(async {
            let s = stored_at("127.0.0.1", 3307, pos("mysql-bin.000004", 4567, 2_000_000));
            // server id changed -> timestamp search
            let mut f = fake();
            f.server_id = 2;
            let mut i = inputs(Some(&s), None);
            i.dump_errors_exceeded = true;
            let (_, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::ServerIdChanged);
            assert_eq!(
                f.asked,
                vec!["server_id".to_string(), "ts 1940000".to_string()]
            );
            // same server id, auto reset -> current end (not refined)
            let mut f = fake();
            i.auto_reset_latest = true;
            let (p, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::AutoResetLatest);
            assert_eq!(p.position, Some(900));
            // same server id, no auto reset -> stored cursor again
            let mut f = fake();
            i.auto_reset_latest = false;
            let (_, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::Stored);
            // with a standby configured the server id is not asked
            let mut f = fake();
            f.server_id = 2;
            i.has_standby = true;
            let (_, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::Stored);
            assert_eq!(f.asked, Vec::<String>::new());
        });
    }

    #[test]
    fn gtid_mode() {
        block(async {
            let mut f = fake();
            let mut p = pos("mysql-bin.000004", 4567, 0);
            p.gtid = Some("0-1-20".into());
            let s = stored_at("10.9.9.9", 3306, p);
            let mut i = inputs(Some(&s), None);
            i.gtid_on = true;
            let (got, r) = run(&i, &mut f).await;
            assert_eq!(
                r,
                StartReason::StoredGtid,
                "a GTID cursor is used even after an address change"
            );
            assert_eq!(got.gtid.as_deref(), Some("0-1-20"));

            let c = ConfiguredPosition {
                gtid: Some("0-1-5".into()),
                ..Default::default()
            };
            let mut i = inputs(None, Some(&c));
            i.gtid_on = true;
            let (got, r) = run(&i, &mut f).await;
            assert_eq!(r, StartReason::ConfiguredGtid);
            assert_eq!(got.gtid.as_deref(), Some("0-1-5"));

            // GTID mode without any gtid: current end, refined
            let mut i = inputs(None, None);
            i.gtid_on = true;
            let (got, _) = run(&i, &mut f).await;
            assert_eq!(got.position, Some(800));
        });
    }

    #[test]
    fn timestamp_search_without_result_is_position_not_found() {
        block(async {
            let mut f = fake();
            f.by_ts = None;
            let c = ConfiguredPosition {
                timestamp: Some(1_700_000_000_000),
                ..Default::default()
            };
            let err = decide_start(&inputs(None, Some(&c)), &mut f)
                .await
                .expect_err("not found");
            assert!(matches!(err, InstanceError::PositionNotFound(_)), "{err}");
        });
    }
}
