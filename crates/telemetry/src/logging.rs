//! Canal's log files with tracing: `logs/canal/canal.log` for server lines and
//! `logs/<destination>/<destination>.log` for every line emitted inside a span that carries a
//! `destination` field (Canal routes by the logback MDC the same way), plus
//! `logs/<destination>/meta.log` ([`MetaLog`]) for meta flush lines.
//!
//! Line pattern (logback's `%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger - %msg`):
//! `2026-11-21 07:01:02.345 [tokio-runtime-worker] INFO  canal_instance::pipeline - msg k=v`.
//! Level control by `RUST_LOG` (tracing-subscriber's `EnvFilter` syntax).
//!
//! Rotation is hand-written ([`RollingFile`]) because tracing-appender only rotates by time
//! and renames the live file (`canal.log.2026-11-21`), while Canal keeps the live file name
//! fixed (the admin port tails `canal.log`) and rolls by day *and* size into gzip archives
//! `<dir>/<yyyy-MM-dd>/<name>-<yyyy-MM-dd>-<i>.log.gz` (operations.md §6), keeping 14 days.
//! The roll itself is a rename (the rolled file is `<name>-<date>-<i>.log` for a moment); the
//! compression to `.log.gz` runs on a short-lived background thread, off the logging path, and
//! removes the uncompressed file when done (a failed compression leaves the `.log` archive).
//!
//! meta.log: events with target [`META_LOG_TARGET`] (canal-meta's file meta flush lines) go to
//! `logs/<destination>/meta.log` in Canal's meta pattern `yyyy-MM-dd HH:mm:ss.SSS - msg`
//! (32 MB files, same archives) and to no other file, like Canal's logback routing of
//! `FileMixedMetaManager`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Local, NaiveDate};
use parking_lot::Mutex;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Canal's cap for one log file (512 MB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Canal's cap for one meta.log file (32 MB).
pub const META_MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Days of archives kept.
pub const DEFAULT_KEEP_DAYS: u32 = 14;
/// Tracing target of the meta flush lines routed to `logs/<destination>/meta.log`.
pub const META_LOG_TARGET: &str = "canal_meta::meta_log";

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The log directory or a file could not be created.
    #[error("log directory {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A subscriber is already installed.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// Log set-up.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The `logs` directory (Canal: `../logs` relative to `bin/`).
    pub dir: PathBuf,
    /// Roll a file when it would grow past this many bytes.
    pub max_file_bytes: u64,
    /// Archive days kept.
    pub keep_days: u32,
    /// Filter when `RUST_LOG` is unset.
    pub default_filter: String,
    /// Also write lines to stderr (startup.sh redirects it to `canal_stdout.log`).
    pub console: bool,
    /// When set, a destination gets its own file only if `<dir>/<destination>` is a directory
    /// (the conf directory): destination names can come from clients, so arbitrary names must
    /// not create log directories. Other lines go to the server log.
    pub destinations_in: Option<PathBuf>,
}

impl LogConfig {
    /// Canal's defaults under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> LogConfig {
        LogConfig {
            dir: dir.into(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            keep_days: DEFAULT_KEEP_DAYS,
            default_filter: "info".into(),
            console: false,
            destinations_in: None,
        }
    }
}

/// A log file with a fixed live name, rolled by day and size into gzip archives in dated
/// directories.
pub struct RollingFile {
    dir: PathBuf,
    name: String,
    file: File,
    size: u64,
    day: NaiveDate,
    max_bytes: u64,
    keep_days: u32,
    compressing: Vec<std::thread::JoinHandle<()>>,
}

/// Compresses `src` into `<src>.gz` (through a temporary file renamed at the end) and removes
/// `src`. On failure the partial output is removed and `src` stays.
pub fn gzip_archive(src: &Path) -> std::io::Result<PathBuf> {
    let mut gz = src.as_os_str().to_owned();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    let mut tmp = gz.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let r = (|| {
        let mut input = File::open(src)?;
        let out = File::create(&tmp)?;
        let mut enc = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(out),
            flate2::Compression::default(),
        );
        std::io::copy(&mut input, &mut enc)?;
        let w = enc.finish()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, &gz)
    })();
    match r {
        Ok(()) => {
            std::fs::remove_file(src)?;
            Ok(gz)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

impl RollingFile {
    /// Opens (appending) `<dir>/<name>.log`.
    pub fn open(
        dir: &Path,
        name: &str,
        max_bytes: u64,
        keep_days: u32,
    ) -> std::io::Result<RollingFile> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.log"));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let meta = file.metadata()?;
        let day = meta
            .modified()
            .ok()
            .map(|t| chrono::DateTime::<Local>::from(t).date_naive())
            .unwrap_or_else(|| Local::now().date_naive());
        Ok(RollingFile {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            file,
            size: meta.len(),
            day,
            max_bytes: max_bytes.max(1),
            keep_days,
            compressing: Vec::new(),
        })
    }

    /// Path of the live file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.name))
    }

    /// Appends one line (the caller includes the newline), rolling first when the day changed
    /// or the line would push the file past the size cap.
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.write_line_on(line, Local::now().date_naive())
    }

    /// [`Self::write_line`] as if the local date were `today` (tests, replays).
    pub fn write_line_on(&mut self, line: &[u8], today: NaiveDate) -> std::io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && (today != self.day || self.size + len > self.max_bytes) {
            self.roll(today)?;
        }
        self.day = today;
        self.file.write_all(line)?;
        self.size += len;
        Ok(())
    }

    fn roll(&mut self, today: NaiveDate) -> std::io::Result<()> {
        let date = self.day.format("%Y-%m-%d").to_string();
        let archive_dir = self.dir.join(&date);
        std::fs::create_dir_all(&archive_dir)?;
        let mut i = 1u32;
        let target = loop {
            let p = archive_dir.join(format!("{}-{}-{}.log", self.name, date, i));
            let mut gz = p.as_os_str().to_owned();
            gz.push(".gz");
            if !p.exists() && !Path::new(&gz).exists() {
                break p;
            }
            i += 1;
        };
        self.file.flush()?;
        std::fs::rename(self.path(), &target)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path())?;
        self.size = 0;
        self.day = today;
        self.compressing.retain(|h| !h.is_finished());
        let spawned = std::thread::Builder::new()
            .name("canal-log-gzip".into())
            .spawn(move || {
                // Nothing to report to: this runs under the logging layer itself.
                let _ = gzip_archive(&target);
            });
        if let Ok(h) = spawned {
            self.compressing.push(h);
        }
        self.prune(today);
        Ok(())
    }

    /// Waits until the archives rolled so far are compressed (tests, shutdown).
    pub fn wait_archives(&mut self) {
        for h in self.compressing.drain(..) {
            let _ = h.join();
        }
    }

    /// Removes dated archive directories older than `keep_days`.
    fn prune(&self, today: NaiveDate) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(s) = name.to_str() else { continue };
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                if (today - d).num_days() > i64::from(self.keep_days) && e.path().is_dir() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// True for names usable as a directory under `logs/` (no separators, not `.`/`..`).
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Writes `logs/<destination>/meta.log` lines (`yyyy-MM-dd HH:mm:ss.SSS - msg`), 32 MB files.
pub struct MetaLog {
    file: Mutex<RollingFile>,
}

impl MetaLog {
    /// Opens `<logs_dir>/<destination>/meta.log`.
    pub fn open(logs_dir: &Path, destination: &str) -> std::io::Result<MetaLog> {
        if !safe_name(destination) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("destination {destination:?} is not usable as a directory name"),
            ));
        }
        let f = RollingFile::open(
            &logs_dir.join(destination),
            "meta",
            META_MAX_FILE_BYTES,
            DEFAULT_KEEP_DAYS,
        )?;
        Ok(MetaLog {
            file: Mutex::new(f),
        })
    }

    /// Appends one line.
    pub fn log(&self, msg: &str) -> std::io::Result<()> {
        self.file.lock().write_line(meta_line(msg).as_bytes())
    }
}

/// One meta.log line in Canal's meta pattern: `yyyy-MM-dd HH:mm:ss.SSS - msg`.
pub fn meta_line(msg: &str) -> String {
    format!(
        "{} - {}\n",
        Local::now().format("%Y-%m-%d %H:%M:%S%.3f"),
        msg
    )
}

/// The destination of a span, stored in its extensions.
struct SpanDestination(String);

#[derive(Default)]
struct DestVisitor(Option<String>);

impl Visit for DestVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "destination" {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "destination" {
            let s = format!("{value:?}");
            self.0 = Some(s.trim_matches('"').to_string());
        }
    }
}

#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
    destination: Option<String>,
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            name => {
                if name == "destination" {
                    self.destination = Some(value.to_string());
                }
                let _ = write!(self.fields, " {name}={value}");
            }
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            name => {
                if name == "destination" {
                    self.destination = Some(format!("{value:?}").trim_matches('"').to_string());
                }
                let _ = write!(self.fields, " {name}={value:?}");
            }
        }
    }
}

/// The routing layer: one [`RollingFile`] per destination plus `canal/canal.log`.
pub struct CanalFileLayer {
    dir: PathBuf,
    max_bytes: u64,
    keep_days: u32,
    files: Mutex<HashMap<String, RollingFile>>,
    meta_files: Mutex<HashMap<String, RollingFile>>,
    console: bool,
    destinations_in: Option<PathBuf>,
}

/// Most destination files kept open (more destinations log to the server file).
const MAX_DESTINATION_FILES: usize = 1024;

impl CanalFileLayer {
    /// A layer writing under `cfg.dir` (creates `canal/canal.log` now to surface errors early).
    pub fn new(cfg: &LogConfig) -> Result<CanalFileLayer, LogError> {
        let canal_dir = cfg.dir.join("canal");
        let server = RollingFile::open(&canal_dir, "canal", cfg.max_file_bytes, cfg.keep_days)
            .map_err(|source| LogError::Io {
                path: canal_dir,
                source,
            })?;
        let mut files = HashMap::new();
        files.insert(String::new(), server);
        Ok(CanalFileLayer {
            dir: cfg.dir.clone(),
            max_bytes: cfg.max_file_bytes,
            keep_days: cfg.keep_days,
            files: Mutex::new(files),
            meta_files: Mutex::new(HashMap::new()),
            console: cfg.console,
            destinations_in: cfg.destinations_in.clone(),
        })
    }

    fn destination_allowed(&self, d: &str) -> bool {
        safe_name(d)
            && self
                .destinations_in
                .as_ref()
                .is_none_or(|c| c.join(d).is_dir())
    }

    /// Writes a meta flush line to `<dir>/<destination>/meta.log`; false when the destination
    /// cannot have a file (the caller then logs the line normally).
    fn write_meta(&self, destination: &str, msg: &str) -> bool {
        let mut files = self.meta_files.lock();
        if !files.contains_key(destination) {
            if !self.destination_allowed(destination) || files.len() > MAX_DESTINATION_FILES {
                return false;
            }
            match RollingFile::open(
                &self.dir.join(destination),
                "meta",
                META_MAX_FILE_BYTES.min(self.max_bytes.max(1)),
                self.keep_days,
            ) {
                Ok(f) => {
                    files.insert(destination.to_string(), f);
                }
                Err(_) => return false,
            }
        }
        match files.get_mut(destination) {
            Some(f) => f.write_line(meta_line(msg).as_bytes()).is_ok(),
            None => false,
        }
    }

    /// Waits until every archive rolled so far is compressed (tests).
    pub fn wait_archives(&self) {
        for f in self.files.lock().values_mut() {
            f.wait_archives();
        }
        for f in self.meta_files.lock().values_mut() {
            f.wait_archives();
        }
    }

    fn write(&self, destination: Option<&str>, line: &str) {
        let mut files = self.files.lock();
        let key = match destination {
            Some(d) if files.contains_key(d) => d,
            Some(d)
                if safe_name(d)
                    && files.len() <= MAX_DESTINATION_FILES
                    && self
                        .destinations_in
                        .as_ref()
                        .is_none_or(|c| c.join(d).is_dir()) =>
            {
                d
            }
            _ => "",
        };
        if !files.contains_key(key) {
            match RollingFile::open(&self.dir.join(key), key, self.max_bytes, self.keep_days) {
                Ok(f) => {
                    files.insert(key.to_string(), f);
                }
                Err(_) => {
                    // Fall back to the server log rather than losing the line.
                    if let Some(f) = files.get_mut("") {
                        let _ = f.write_line(line.as_bytes());
                    }
                    return;
                }
            }
        }
        if let Some(f) = files.get_mut(key) {
            let _ = f.write_line(line.as_bytes());
        }
    }
}

/// Formats one line in Canal's pattern.
fn format_line(level: &tracing::Level, target: &str, v: &LineVisitor) -> String {
    let thread = std::thread::current();
    let tname = thread.name().unwrap_or("main");
    format!(
        "{} [{}] {:<5} {} - {}{}\n",
        Local::now().format("%Y-%m-%d %H:%M:%S%.3f"),
        tname,
        level.as_str(),
        target,
        v.message,
        v.fields
    )
}

impl<S> Layer<S> for CanalFileLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut v = DestVisitor::default();
        attrs.record(&mut v);
        if let (Some(d), Some(span)) = (v.0, ctx.span(id)) {
            span.extensions_mut().insert(SpanDestination(d));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let mut v = DestVisitor::default();
        values.record(&mut v);
        if let (Some(d), Some(span)) = (v.0, ctx.span(id)) {
            let mut ext = span.extensions_mut();
            ext.remove::<SpanDestination>();
            ext.insert(SpanDestination(d));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut v = LineVisitor::default();
        event.record(&mut v);
        let from_span = ctx.event_scope(event).and_then(|scope| {
            scope
                .from_root()
                .filter_map(|span| {
                    span.extensions()
                        .get::<SpanDestination>()
                        .map(|d| d.0.clone())
                })
                .last()
        });
        let dest = from_span.or_else(|| v.destination.clone());
        let meta = event.metadata();
        if meta.target() == META_LOG_TARGET {
            if let Some(d) = v.destination.as_deref().or(dest.as_deref()) {
                if self.write_meta(d, &v.message) {
                    return;
                }
            }
        }
        let line = format_line(meta.level(), meta.target(), &v);
        if self.console {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        self.write(dest.as_deref(), &line);
    }
}

/// Installs the global subscriber: `RUST_LOG` (else `cfg.default_filter`) + [`CanalFileLayer`].
pub fn init(cfg: &LogConfig) -> Result<(), LogError> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.default_filter));
    let layer = CanalFileLayer::new(cfg)?;
    tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init()
        .map_err(|_| LogError::AlreadyInstalled)
}

/// A shared handle to a [`CanalFileLayer`] usable in tests with a scoped default subscriber.
pub fn subscriber(
    cfg: &LogConfig,
    filter: &str,
) -> Result<impl Subscriber + Send + Sync, LogError> {
    Ok(tracing_subscriber::registry()
        .with(EnvFilter::new(filter))
        .with(CanalFileLayer::new(cfg)?))
}
