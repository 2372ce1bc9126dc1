//! The `tracing` feature: a run emits the spans and events the README lists ("Logs (tracing)"), with their fields.
//! A layer records every span (name, fields, parent) and event (message, fields, enclosing span) of a run into a
//! buffer; the assertions are on the field values a user filters and reads (set, version, name, direction, ...).
//! Needs `--features tracing` (required-features in Cargo.toml).

use litemigrate_core::load::{MigrationSource, load_in_memory};
use litemigrate_runtime::backup::BackupPolicy;
use litemigrate_runtime::{Migrations, Mode, Target};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

type Fields = BTreeMap<String, String>;

#[derive(Debug, Clone)]
struct SpanRec {
    id: u64,
    name: &'static str,
    parent: Option<&'static str>,
    fields: Fields,
}

#[derive(Debug, Clone)]
struct EventRec {
    message: String,
    span: Option<&'static str>,
    fields: Fields,
}

#[derive(Default)]
struct Log {
    spans: Vec<SpanRec>,
    events: Vec<EventRec>,
}

impl Log {
    fn spans(&self, name: &str) -> Vec<&SpanRec> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    fn events(&self, message: &str) -> Vec<&EventRec> {
        self.events.iter().filter(|e| e.message == message).collect()
    }

    fn one_event(&self, message: &str) -> &EventRec {
        let found = self.events(message);
        assert_eq!(found.len(), 1, "one {message:?} event in {:#?}", self.events);
        found[0]
    }
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Log>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        let parent = ctx.span(id).and_then(|s| s.parent()).map(|p| p.name());
        self.0.lock().unwrap().spans.push(SpanRec {
            id: id.into_u64(),
            name: attrs.metadata().name(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut log = self.0.lock().unwrap();
        let span = log.spans.iter_mut().rev().find(|s| s.id == id.into_u64()).unwrap();
        values.record(&mut Visitor(&mut span.fields));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        assert_eq!(event.metadata().target(), "litemigrate");
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let span = ctx.event_span(event).map(|s| s.name());
        self.0.lock().unwrap().events.push(EventRec { message, span, fields });
    }
}

/// Runs `f` with the capturing subscriber on this thread (other tests run on other threads) and returns the log.
fn capture<R>(f: impl FnOnce() -> R) -> (R, Log) {
    let cap = Capture::default();
    let subscriber = tracing_subscriber::registry().with(cap.clone());
    let r = tracing::subscriber::with_default(subscriber, f);
    let log = std::mem::take(&mut *cap.0.lock().unwrap());
    (r, log)
}

fn sources(files: &[(&str, &str)]) -> Vec<MigrationSource> {
    load_in_memory("migrations", files).unwrap()
}

fn set(files: &[(&str, &str)]) -> Migrations {
    Migrations::from_sources("default", sources(files))
}

const V1: (&str, &str) = (
    "0001_users.up.sql",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
);
const V1_DOWN: (&str, &str) = ("0001_users.down.sql", "DROP TABLE users;\n");
const V2: (&str, &str) = ("0002_email.up.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n");
const V2_DOWN: (&str, &str) = ("0002_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n");

fn f<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .get(name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
}

/// A file database at version 1 with a row (so the run before version 2 takes a backup).
fn file_db_at_v1(dir: &std::path::Path) -> Connection {
    let mut conn = Connection::open(dir.join("app.db")).unwrap();
    set(&[V1, V1_DOWN]).migrate(&mut conn).unwrap();
    conn.execute("INSERT INTO users (name) VALUES ('ada')", []).unwrap();
    conn
}

#[test]
fn a_run_has_a_migrate_span_a_span_per_migration_and_the_launch_and_backup_events() {
    let tmp = tempfile::tempdir().unwrap();
    let mut conn = file_db_at_v1(tmp.path());
    let two = set(&[V1, V1_DOWN, V2, V2_DOWN]);

    let (report, log) = capture(|| two.migrate(&mut conn).unwrap());

    let pending = log.one_event("launch check: pending");
    assert_eq!(
        (f(&pending.fields, "set"), f(&pending.fields, "current")),
        ("default", "1")
    );
    assert_eq!(
        (f(&pending.fields, "target"), f(&pending.fields, "pending")),
        ("2", "1")
    );

    let run = log.spans("migrate");
    assert_eq!(run.len(), 1, "{:#?}", log.spans);
    assert_eq!(f(&run[0].fields, "set"), "default");
    assert_eq!((f(&run[0].fields, "from"), f(&run[0].fields, "to")), ("1", "2"));
    assert!(log.spans("rollback").is_empty());

    let steps = log.spans("migration");
    assert_eq!(steps.len(), 1, "{:#?}", log.spans);
    let step = &steps[0];
    assert_eq!(step.parent, Some("migrate"));
    assert_eq!(f(&step.fields, "set"), "default");
    assert_eq!(f(&step.fields, "version"), "2");
    assert_eq!(f(&step.fields, "name"), "email");
    assert_eq!(f(&step.fields, "direction"), "up");
    assert_eq!(f(&step.fields, "ok"), "true");
    // Recorded when the step ended: the same duration the report gives.
    assert_eq!(
        f(&step.fields, "duration_us"),
        report.applied[0].duration_us.to_string()
    );

    let backup = report.backup.expect("a file database with a row is backed up");
    let taken = log.one_event("backup taken");
    assert_eq!(taken.span, Some("migrate"));
    assert_eq!(f(&taken.fields, "path"), backup.path.display().to_string());
    assert_eq!(f(&taken.fields, "bytes"), backup.size.to_string());
    assert!(backup.size > 0);
    assert!(f(&taken.fields, "duration_ms").parse::<u64>().is_ok());

    let lock = log.one_event("write lock taken");
    assert_eq!(lock.span, Some("migrate"));
    assert_eq!(f(&lock.fields, "version"), "2");
    assert!(log.events("migration run failed").is_empty());

    // The next launch: one event, no span.
    let ((), log) = capture(|| {
        two.migrate(&mut conn).unwrap();
    });
    let up = log.one_event("launch check: up to date");
    assert_eq!((f(&up.fields, "set"), f(&up.fields, "version")), ("default", "2"));
    assert_eq!(up.span, None);
    assert!(log.spans.is_empty(), "{:#?}", log.spans);
    assert_eq!(log.events.len(), 1, "{:#?}", log.events);
}

#[test]
fn a_rollback_has_a_rollback_span_and_down_steps_newest_first() {
    let mut conn = Connection::open_in_memory().unwrap();
    let two = set(&[V1, V1_DOWN, V2, V2_DOWN]);
    two.migrate(&mut conn).unwrap();

    let (_, log) = capture(|| two.migrator().target(Target::Version(0)).run(&mut conn).unwrap());

    let run = log.spans("rollback");
    assert_eq!(run.len(), 1, "{:#?}", log.spans);
    assert_eq!((f(&run[0].fields, "from"), f(&run[0].fields, "to")), ("2", "0"));
    assert!(log.spans("migrate").is_empty());
    let steps: Vec<_> = log
        .spans("migration")
        .iter()
        .map(|s| (f(&s.fields, "version"), f(&s.fields, "name"), f(&s.fields, "direction")))
        .collect();
    assert_eq!(steps, [("2", "email", "down"), ("1", "users", "down")]);
    // An in-memory database has nothing to back up.
    assert!(log.events("backup taken").is_empty());
}

#[test]
fn a_failure_is_an_event_naming_kind_version_and_file_inside_the_run() {
    let mut conn = Connection::open_in_memory().unwrap();
    set(&[V1]).migrate(&mut conn).unwrap();
    conn.execute("INSERT INTO users (name) VALUES ('ada'), ('ada')", [])
        .unwrap();
    // Valid SQL that the data refuses: only a live database can fail it.
    let unique = (
        "0002_unique_names.up.sql",
        "CREATE UNIQUE INDEX users_name ON users (name);\n",
    );
    let two = set(&[V1, unique]);

    let (err, log) = capture(|| two.migrate(&mut conn).unwrap_err());

    let failed = log.one_event("migration run failed");
    assert_eq!(failed.span, Some("migrate"));
    assert_eq!(f(&failed.fields, "kind"), err.kind().as_str());
    assert_eq!(f(&failed.fields, "kind"), "migration_failed");
    assert_eq!(f(&failed.fields, "version"), "2");
    assert_eq!(f(&failed.fields, "file"), err.migration().unwrap().file);
    assert!(f(&failed.fields, "file").ends_with("0002_unique_names.up.sql"));
    assert!(f(&failed.fields, "error").contains("UNIQUE"), "{failed:?}");
    // The step's span closed as failed, with a duration.
    let steps = log.spans("migration");
    assert_eq!(steps.len(), 1);
    assert_eq!(f(&steps[0].fields, "version"), "2");
    assert_eq!(f(&steps[0].fields, "ok"), "false");
    assert!(f(&steps[0].fields, "duration_us").parse::<u64>().is_ok());
}

/// Set by the busy handler of the migrating connection: it planned and is now waiting for the write lock.
static WAITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn note_wait(_attempt: i32) -> bool {
    WAITING.store(true, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(5));
    true
}

/// Another connection holds the write lock when the run wants it and commits while the run waits: the run reads
/// the plan again (a `retry` event, which is also the proof this test reached that branch) and still succeeds.
#[test]
fn waiting_behind_another_writer_that_commits_is_a_retry_event() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let mut conn = Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    set(&[V1]).migrate(&mut conn).unwrap();
    conn.busy_handler(Some(note_wait)).unwrap();

    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let writer_db = db.clone();
    let writer = std::thread::spawn(move || {
        let mut other = Connection::open(&writer_db).unwrap();
        let tx = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        locked_tx.send(()).unwrap();
        while !WAITING.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        tx.execute("INSERT INTO users (name) VALUES ('grace')", []).unwrap();
        tx.commit().unwrap();
    });
    locked_rx.recv().unwrap();
    let two = set(&[V1, V2]);
    let (report, log) = capture(|| {
        two.migrator()
            .backup(BackupPolicy::Off)
            .mode(Mode::PerMigration)
            .run(&mut conn)
            .unwrap()
    });
    writer.join().unwrap();

    assert!(WAITING.load(std::sync::atomic::Ordering::SeqCst));
    let retry = log.one_event("retry");
    assert_eq!(retry.span, Some("migrate"));
    assert_eq!(f(&retry.fields, "attempt"), "1");
    assert!(f(&retry.fields, "reason").contains("plan read again"), "{retry:?}");
    // Two lock takes: the one that found the other commit, and the one that applied version 2.
    let locks = log.events("write lock taken");
    assert_eq!(locks.len(), 2, "{:#?}", log.events);
    assert!(f(&locks[0].fields, "waited_us").parse::<u64>().unwrap() > 0);
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.applied[0].version, 2);
    let names: Vec<String> = conn
        .prepare("SELECT name FROM users")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["grace"]);
}
