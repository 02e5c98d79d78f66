//! Java Canal's per-destination log: everything logged with a destination in context goes to
//! `{logs}/{destination}/{destination}.log` (operations.md §6), pattern
//! `yyyy-MM-dd HH:mm:ss.SSS [thread] LEVEL target - message` (UTC here).
//!
//! The destination comes from a `destination` field of the event or of an enclosing span.
//! Destination names can come from clients (a SUB for an unknown name is logged), so only
//! names that are safe directory names and exist under the conf directory get a file, and the
//! number of open files is capped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// At most this many destination files are kept open (bogus names are not cached beyond it).
const MAX_FILES: usize = 1024;

/// The layer.
pub struct DestinationLogLayer {
    logs: PathBuf,
    conf: PathBuf,
    files: Mutex<HashMap<String, Option<File>>>,
}

impl DestinationLogLayer {
    /// Logs under `logs`; a destination qualifies when `{conf}/{name}` is a directory.
    pub fn new(logs: impl Into<PathBuf>, conf: impl Into<PathBuf>) -> Self {
        Self {
            logs: logs.into(),
            conf: conf.into(),
            files: Mutex::new(HashMap::new()),
        }
    }

    fn open(&self, name: &str) -> Option<File> {
        let safe = !name.is_empty()
            && name.len() <= 128
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !safe || !self.conf.join(name).is_dir() {
            return None;
        }
        let dir = self.logs.join(name);
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{name}.log")))
            .ok()
    }

    fn write(&self, name: &str, line: &str) {
        let mut files = match self.files.lock() {
            Ok(f) => f,
            Err(p) => p.into_inner(),
        };
        if !files.contains_key(name) {
            let f = self.open(name);
            if files.len() >= MAX_FILES && f.is_none() {
                return;
            }
            files.insert(name.to_string(), f);
        }
        if let Some(Some(f)) = files.get_mut(name) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// The destination recorded on a span.
struct SpanDestination(String);

#[derive(Default)]
struct Fields {
    destination: Option<String>,
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "destination" {
            self.destination = Some(value.to_string());
        } else if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "destination" => {
                let text = format!("{value:?}");
                self.destination = Some(text.trim_matches('"').to_string());
            }
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}

/// `yyyy-MM-dd HH:mm:ss.SSS` (UTC) of `now`.
fn timestamp(now: std::time::SystemTime) -> String {
    let d = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

impl<S> Layer<S> for DestinationLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let (Some(d), Some(span)) = (f.destination, ctx.span(id)) {
            span.extensions_mut().insert(SpanDestination(d));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        values.record(&mut f);
        if let (Some(d), Some(span)) = (f.destination, ctx.span(id)) {
            let mut ext = span.extensions_mut();
            ext.remove::<SpanDestination>();
            ext.insert(SpanDestination(d));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let dest = f.destination.clone().or_else(|| {
            ctx.event_scope(event)?.find_map(|span| {
                span.extensions()
                    .get::<SpanDestination>()
                    .map(|d| d.0.clone())
            })
        });
        let Some(dest) = dest else {
            return;
        };
        let meta = event.metadata();
        let thread = std::thread::current();
        let line = format!(
            "{} [{}] {:<5} {} - {}{}\n",
            timestamp(std::time::SystemTime::now()),
            thread.name().unwrap_or("-"),
            meta.level().as_str(),
            meta.target(),
            f.message,
            f.rest
        );
        self.write(&dest, &line);
    }
}

/// Where the per-destination files of `logs` go for destination `name`.
pub fn destination_log(logs: &Path, name: &str) -> PathBuf {
    logs.join(name).join(format!("{name}.log"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn timestamps() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00.000");
        // 2024-02-29T12:34:56.789Z = 1709210096.789
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_millis(1_709_210_096_789)),
            "2024-02-29 12:34:56.789"
        );
        // 2000-03-01T00:00:00Z = 951868800
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(951_868_800)),
            "2000-03-01 00:00:00.000"
        );
    }

    #[test]
    fn routes_by_event_field_and_span_and_rejects_unknown_names() {
        let tmp = tempfile::tempdir().expect("tmp");
        let conf = tmp.path().join("conf");
        let logs = tmp.path().join("logs");
        std::fs::create_dir_all(conf.join("example")).expect("mkdir");
        let sub = tracing_subscriber::registry().with(DestinationLogLayer::new(&logs, &conf));
        tracing::subscriber::with_default(sub, || {
            tracing::info!(destination = "example", "start successful....");
            let span = tracing::info_span!("parser", destination = %"example");
            span.in_scope(|| tracing::warn!(n = 3, "inside the span"));
            tracing::info!("no destination: not in a destination file");
            tracing::info!(destination = "../../etc", "hostile name");
            tracing::info!(destination = "other", "no conf dir");
        });
        let text = std::fs::read_to_string(destination_log(&logs, "example")).expect("example.log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with(" - start successful...."),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains(" INFO  "), "{}", lines[0]);
        assert!(
            lines[1].contains(" WARN  ") && lines[1].ends_with("inside the span n=3"),
            "{}",
            lines[1]
        );
        assert!(!logs.join("other").exists());
        assert!(!tmp.path().join("etc").exists());
    }
}
