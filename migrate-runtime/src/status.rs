//! The full comparison of the embedded migrations with the history: every migration gets a [`State`].

use crate::error::{At, SqliteVersions};
use crate::history::{Failure, Kind, Row};
use crate::table::{Migration, Migrations};
use litemigrate_core::Checksum;
use std::fmt;

/// What one migration's relation to the database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum State {
    /// Applied, with the same checksum as the embedded file.
    Applied,
    /// Recorded by `baseline`: taken as applied without running.
    Baseline,
    /// Embedded, not applied, newer than everything applied.
    Pending,
    /// Applied, but the embedded file's checksum differs: the file was edited after it ran.
    Divergent,
    /// Applied, but no longer embedded.
    Missing,
    /// Applied by a newer binary: above the newest embedded version.
    Ahead,
    /// Embedded, not applied, but below the newest applied version.
    OutOfOrder,
    /// Applied by a release before the squash that replaced it: covered by the squash, whose chain value the
    /// database's row at the squash's version matches.
    Squashed,
}

impl State {
    /// Whether the default policy refuses to migrate in this state.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            State::Divergent | State::Missing | State::Ahead | State::OutOfOrder
        )
    }

    fn label(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Baseline => "baseline",
            State::Pending => "pending",
            State::Divergent => "DIVERGENT",
            State::Missing => "MISSING",
            State::Ahead => "AHEAD",
            State::OutOfOrder => "OUT-OF-ORDER",
            State::Squashed => "squashed",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One migration in a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Entry {
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// The embedded up file, or for a migration known only from history, the file recorded when it ran.
    pub file: String,
    /// Where it stands.
    pub state: State,
    /// The embedded checksum (`None` when not embedded).
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser_opt_sum"))]
    pub checksum: Option<Checksum>,
    /// The checksum recorded when it ran (`None` when not applied).
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser_opt_sum"))]
    pub applied_checksum: Option<Checksum>,
    /// When it ran, UTC RFC 3339.
    pub applied_at: Option<String>,
    /// How long it took, in microseconds.
    pub duration_us: Option<u64>,
}

#[cfg(feature = "serde")]
fn ser_opt_sum<S: serde::Serializer>(v: &Option<Checksum>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(c) => s.serialize_some(&c.to_hex()),
        None => s.serialize_none(),
    }
}

impl Entry {
    /// The migration as an [`At`].
    pub fn at(&self) -> At {
        At {
            version: self.version,
            name: self.name.clone(),
            file: self.file.clone(),
        }
    }
}

/// A read-only report of where a database stands relative to an embedded set.
///
/// ```no_run
/// # static MIGRATIONS: litemigrate_runtime::Migrations = litemigrate_runtime::Migrations::empty();
/// let conn = rusqlite::Connection::open("app.db").unwrap();
/// let status = MIGRATIONS.status(&conn).unwrap();
/// println!("{status}");
/// println!("{}", serde_json::to_string(&status).unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Status {
    /// The set's name.
    pub set_name: String,
    /// The history table.
    pub history_table: String,
    /// Whether the history table exists.
    pub history_exists: bool,
    /// The newest applied version (0 when nothing is applied).
    pub current_version: u64,
    /// The newest embedded version.
    pub latest_version: u64,
    /// Every embedded migration, and every applied one that is not embedded, by version.
    pub entries: Vec<Entry>,
    /// The newest recorded failure of this set, if any.
    pub last_failure: Option<Failure>,
    /// The SQLite the set was validated with at build time and the one this process runs on: SQL that passed the
    /// build can fail at launch on an older SQLite.
    pub sqlite: SqliteVersions,
    /// The repeatable migrations (`R__<name>.sql`) and whether each is current.
    pub repeatables: Vec<crate::repeat::RepeatableEntry>,
}

impl Status {
    /// Whether nothing is pending and nothing is wrong.
    pub fn is_up_to_date(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.state, State::Applied | State::Baseline | State::Squashed))
            && self
                .repeatables
                .iter()
                .all(|r| r.state == crate::repeat::RepeatableState::Current)
    }

    /// Entries in a given state.
    pub fn in_state(&self, state: State) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.state == state)
    }

    /// The pending migrations (not counting out-of-order ones).
    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.in_state(State::Pending)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "set `{}` (history table {}): database at version {}, binary at {}",
            self.set_name, self.history_table, self.current_version, self.latest_version
        )?;
        // Only a set validated at build time has a version to compare with (a set built without compiling has none).
        if self.sqlite.build.is_some() {
            writeln!(f, "SQLite: {}", self.sqlite)?;
        }
        self.write_table(f, &TableOptions::PLAIN)?;
        for r in &self.repeatables {
            writeln!(
                f,
                "  repeatable {} {:?} applied at {} ({})",
                r.name,
                r.state,
                r.applied_at.as_deref().unwrap_or("-"),
                r.file
            )?;
        }
        if let Some(fail) = &self.last_failure {
            writeln!(
                f,
                "last failure: {} {} at {}: {}",
                fail.direction, fail.migration, fail.failed_at, fail.error
            )?;
        }
        Ok(())
    }
}

/// Where the CLI puts colour into the status table; every method returns its text unchanged by default.
pub(crate) trait Paint {
    /// The heading line.
    fn heading(&self, text: String) -> String {
        text
    }
    /// A state cell, already padded.
    fn state(&self, _state: State, text: String) -> String {
        text
    }
    /// The `(file)` after the name.
    fn file(&self, text: String) -> String {
        text
    }
}

/// Paints nothing.
pub(crate) struct Plain;

impl Paint for Plain {}

/// How [`Status::write_table`] draws the table: the columns beyond version, state, applied at and migration, and
/// the colour. The table logic exists once; [`Status`]'s `Display` and the CLI differ only in these.
pub(crate) struct TableOptions<'a> {
    pub paint: &'a dyn Paint,
    /// Add a "took" column with the duration.
    pub took: bool,
    /// Width of the "applied at" column; `None` fits the widest value.
    pub applied_width: Option<usize>,
    /// Heading of the last column.
    pub last_heading: &'a str,
}

impl TableOptions<'static> {
    /// What `Display` prints.
    pub const PLAIN: TableOptions<'static> = TableOptions {
        paint: &Plain,
        took: false,
        applied_width: Some(25),
        last_heading: "name (file)",
    };
}

impl Status {
    /// The table of entries: a heading line, then one line per entry, each indented by two spaces.
    pub(crate) fn write_table(&self, out: &mut impl fmt::Write, opts: &TableOptions<'_>) -> fmt::Result {
        let w = self
            .entries
            .iter()
            .map(|e| e.version.to_string().len())
            .max()
            .unwrap_or(1)
            .max(7);
        let aw = opts.applied_width.unwrap_or_else(|| applied_width(self.entries.iter()));
        let took = |text: &str| {
            if opts.took {
                format!("  {text:>9}")
            } else {
                String::new()
            }
        };
        let heading = format!(
            "{:>w$}  {:<12}  {:<aw$}{}  {}",
            "version",
            "state",
            "applied at",
            took("took"),
            opts.last_heading
        );
        writeln!(out, "  {}", opts.paint.heading(heading))?;
        for e in &self.entries {
            writeln!(
                out,
                "  {:>w$}  {}  {:<aw$}{}  {} {}",
                e.version,
                opts.paint.state(e.state, format!("{:<12}", e.state.label())),
                e.applied_at.as_deref().unwrap_or("-"),
                took(&e.duration_us.map(ms).unwrap_or_else(|| "-".into())),
                e.name,
                opts.paint.file(format!("({})", e.file)),
            )?;
        }
        Ok(())
    }
}

/// The width of an "applied at" column that fits every entry's time and the heading.
pub(crate) fn applied_width<'a>(entries: impl Iterator<Item = &'a Entry>) -> usize {
    entries
        .filter_map(|e| e.applied_at.as_ref().map(String::len))
        .max()
        .unwrap_or(0)
        .max("applied at".len())
}

/// A duration in microseconds as milliseconds with one decimal (`12.3 ms`).
pub(crate) fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// The classified state the planner works from.
pub(crate) struct Classified<'a> {
    /// For each embedded migration, its history row (if applied).
    pub embedded: Vec<(Migration<'a>, Option<Row>, State)>,
    /// History rows that are not embedded (missing or ahead).
    pub unknown: Vec<(Row, State)>,
    /// Newest applied version (0 if none).
    pub current: u64,
}

pub(crate) fn classify(migrations: &Migrations, rows: Vec<Row>) -> Classified<'_> {
    let current = rows.last().map_or(0, |r| r.version);
    let latest = migrations.latest_version();
    let mut embedded = Vec::with_capacity(migrations.len());
    let mut unknown = Vec::new();
    let squash = migrations.iter().next().filter(|m| m.is_squash());
    // A database that ran the files a squash replaced: its row at the squash's version carries the same chain.
    let squashed = squash.is_some_and(|s| rows.iter().any(|r| r.version == s.version && r.chain == s.chain()));
    let mut rows = rows.into_iter().peekable();
    for m in migrations.iter() {
        while let Some(r) = rows.next_if(|r| r.version < m.version) {
            let state = if squashed { State::Squashed } else { State::Missing };
            unknown.push((r, state));
        }
        match rows.next_if(|r| r.version == m.version) {
            Some(r) => {
                let via_old_files = m.is_squash() && r.chain == m.chain();
                let state = if r.checksum != m.checksum() && !via_old_files {
                    State::Divergent
                } else if r.kind == Kind::Baseline.as_str() {
                    State::Baseline
                } else {
                    State::Applied
                };
                embedded.push((m, Some(r), state));
            }
            None => {
                let state = if m.version < current {
                    State::OutOfOrder
                } else {
                    State::Pending
                };
                embedded.push((m, None, state));
            }
        }
    }
    for r in rows {
        let state = if r.version > latest {
            State::Ahead
        } else {
            State::Missing
        };
        unknown.push((r, state));
    }
    Classified {
        embedded,
        unknown,
        current,
    }
}

impl Classified<'_> {
    pub fn to_status(
        &self,
        set: &str,
        table: &str,
        exists: bool,
        latest: u64,
        last_failure: Option<Failure>,
        build_sqlite: Option<&str>,
    ) -> Status {
        let mut entries: Vec<Entry> = self
            .embedded
            .iter()
            .map(|(m, r, state)| Entry {
                version: m.version,
                name: m.name().to_owned(),
                file: m.up_file().to_owned(),
                state: *state,
                checksum: Some(m.checksum()),
                applied_checksum: r.as_ref().map(|r| r.checksum),
                applied_at: r.as_ref().map(|r| r.applied_at.clone()),
                duration_us: r.as_ref().map(|r| r.duration_us),
            })
            .chain(self.unknown.iter().map(|(r, state)| Entry {
                version: r.version,
                name: r.name.clone(),
                file: r.file.clone(),
                state: *state,
                checksum: None,
                applied_checksum: Some(r.checksum),
                applied_at: Some(r.applied_at.clone()),
                duration_us: Some(r.duration_us),
            }))
            .collect();
        entries.sort_by_key(|e| e.version);
        Status {
            set_name: set.to_owned(),
            history_table: table.to_owned(),
            history_exists: exists,
            current_version: self.current,
            latest_version: latest,
            entries,
            last_failure,
            sqlite: SqliteVersions::new(build_sqlite),
            repeatables: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        let entry = |version: u64, state: State, applied_at: Option<&str>, duration_us: Option<u64>| Entry {
            version,
            name: format!("m{version}"),
            file: format!("migrations/{version}_m.sql"),
            state,
            checksum: None,
            applied_checksum: None,
            applied_at: applied_at.map(str::to_owned),
            duration_us,
        };
        Status {
            set_name: "default".into(),
            history_table: "_migrations".into(),
            history_exists: true,
            current_version: 1,
            latest_version: 2,
            entries: vec![
                entry(1, State::Applied, Some("2026-01-01T00:00:00.123456Z"), Some(1234)),
                entry(2, State::Pending, None, None),
            ],
            last_failure: None,
            sqlite: SqliteVersions::new(None),
            repeatables: Vec::new(),
        }
    }

    #[test]
    fn display_is_the_plain_table() {
        assert_eq!(
            status().to_string(),
            "set `default` (history table _migrations): database at version 1, binary at 2\n\
             \x20 version  state         applied at                 name (file)\n\
             \x20       1  applied       2026-01-01T00:00:00.123456Z  m1 (migrations/1_m.sql)\n\
             \x20       2  pending       -                          m2 (migrations/2_m.sql)\n"
        );
    }

    #[test]
    fn the_cli_form_adds_the_took_column_and_fits_the_time() {
        let mut s = String::new();
        let opts = TableOptions {
            paint: &Plain,
            took: true,
            applied_width: None,
            last_heading: "migration",
        };
        status().write_table(&mut s, &opts).unwrap();
        assert_eq!(
            s,
            "  version  state         applied at                        took  migration\n\
             \x20       1  applied       2026-01-01T00:00:00.123456Z     1.2 ms  m1 (migrations/1_m.sql)\n\
             \x20       2  pending       -                                    -  m2 (migrations/2_m.sql)\n"
        );
    }
}
