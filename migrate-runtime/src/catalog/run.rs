//! Running a catalog: the launch check per file, then (under the catalog lock) the order across files, one backup
//! run, the steps, and on failure the restore of every file the run changed.

use super::backup_run::{self, NewRun};
pub(super) use super::files::CatalogLock;
use super::files::{closed, data_version, db_err, io_err, needs_no_baseline, open};
use super::plan::{self, Step};
use super::{CatalogError, Databases};
use crate::backup::{BackupOptions, BackupPolicy, Reason};
use crate::error::Error;
use crate::migrator::{Applied, Target};
use litemigrate_core::sql::quote_ident;
use rusqlite::{Connection, OpenFlags};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How [`Databases::migrate_all_with`] runs.
///
/// ```
/// use litemigrate_runtime::catalog::CatalogOptions;
/// let opts = CatalogOptions {
///     extra_paths: vec!["data/blobs".into()],
///     ..CatalogOptions::default()
/// };
/// assert!(!opts.keep_progress);
/// ```
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// On a failure, keep what each database reached instead of restoring the files this run changed (default
    /// `false`: all or nothing).
    pub keep_progress: bool,
    /// Paths (files or directories) copied into the backup run too, e.g. a blob directory whose files the database
    /// rows name. They are put back by [`restore_run`](super::restore_run), not by a failed run (no migration
    /// writes them).
    pub extra_paths: Vec<PathBuf>,
    /// Whether the backup run is taken (default [`BackupPolicy::Required`]). Without one, a failure can only
    /// remove the files the run created; the others keep their progress.
    pub backup: BackupPolicy,
    /// How each database's backup is taken (compression, `quick_check`); the directory is always the run's.
    pub backup_options: BackupOptions,
    /// How long to wait for another connection's lock on a file (default 30 s).
    pub busy_timeout: Duration,
    /// Called with the database's name after each migration of a step has committed (a progress display).
    pub on_step: Option<OnStep>,
}

/// The callback of [`CatalogOptions::on_step`]: the database's name and the migration that ran.
///
/// ```
/// use litemigrate_runtime::catalog::{CatalogOptions, OnStep};
/// let opts = CatalogOptions {
///     on_step: Some(OnStep::new(|db, a| eprintln!("{db}: {} {}", a.version, a.name))),
///     ..CatalogOptions::default()
/// };
/// # let _ = opts;
/// ```
#[derive(Clone)]
pub struct OnStep(Arc<StepFn>);

/// What [`OnStep`] calls.
type StepFn = dyn Fn(&str, &Applied) + Send + Sync;

impl OnStep {
    /// Wraps a callback.
    pub fn new(f: impl Fn(&str, &Applied) + Send + Sync + 'static) -> Self {
        OnStep(Arc::new(f))
    }
}

impl fmt::Debug for OnStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnStep")
    }
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            keep_progress: false,
            extra_paths: Vec::new(),
            backup: BackupPolicy::Required,
            backup_options: BackupOptions::default(),
            busy_timeout: Duration::from_secs(30),
            on_step: None,
        }
    }
}

/// What a catalog run did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CatalogReport {
    /// One entry per database, in catalog order.
    pub databases: Vec<DatabaseReport>,
    /// The backup run taken before the first change, if any (its id; see [`list_runs`](super::list_runs)).
    pub backup_run: Option<String>,
    /// Backup problems that did not stop the run ([`BackupPolicy::BestEffort`]).
    pub warnings: Vec<String>,
}

/// What a catalog run did to one database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DatabaseReport {
    /// The database.
    pub database: String,
    /// Its file.
    pub file: PathBuf,
    /// Whether this run created the file.
    pub created: bool,
    /// Its version before.
    pub from_version: u64,
    /// Its version after.
    pub to_version: u64,
    /// The migrations this process ran on it, in order.
    pub applied: Vec<Applied>,
}

impl CatalogReport {
    /// Whether nothing was applied.
    pub fn is_noop(&self) -> bool {
        self.databases.iter().all(|d| d.applied.is_empty())
    }
}

impl fmt::Display for CatalogReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.databases.iter().map(|d| d.database.len()).max().unwrap_or(0);
        for d in &self.databases {
            let what = if d.applied.is_empty() {
                format!("up to date at version {}", d.to_version)
            } else {
                format!(
                    "{} {} -> {} ({} migration(s))",
                    if d.created { "created," } else { "migrated" },
                    d.from_version,
                    d.to_version,
                    d.applied.len()
                )
            };
            writeln!(f, "{:<w$}  {}  {what}", d.database, d.file.display())?;
        }
        if let Some(run) = &self.backup_run {
            writeln!(f, "backup run: {run}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

impl Databases {
    /// Brings every database of the catalog to its newest version in `data_dir` (created when missing, as are the
    /// files), with the default options: see the [module documentation](super) and [`CatalogOptions`].
    ///
    /// ```no_run
    /// # static DATABASES: litemigrate_runtime::catalog::Databases = litemigrate_runtime::catalog::Databases::empty();
    /// let report = DATABASES.migrate_all("data").unwrap();
    /// if !report.is_noop() {
    ///     println!("{report}");
    /// }
    /// ```
    pub fn migrate_all(&self, data_dir: impl AsRef<Path>) -> Result<CatalogReport, CatalogError> {
        self.migrate_all_with(data_dir, &CatalogOptions::default())
    }

    /// [`Databases::migrate_all`] with options.
    pub fn migrate_all_with(
        &self,
        data_dir: impl AsRef<Path>,
        opts: &CatalogOptions,
    ) -> Result<CatalogReport, CatalogError> {
        let dir = data_dir.as_ref();
        if let Some(report) = self.launch_check(dir, opts)? {
            return Ok(report);
        }
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let _lock = CatalogLock::acquire(dir)?;
        Runner::new(self, dir, opts, true)?.run()
    }

    /// One cheap check per file: `Some` when every file exists and is at its newest version.
    fn launch_check(&self, dir: &Path, opts: &CatalogOptions) -> Result<Option<CatalogReport>, CatalogError> {
        let mut reports = Vec::with_capacity(self.databases().len());
        let mut current = true;
        for d in self.databases() {
            let path = d.path_in(dir);
            if !path.exists() {
                if d.read_only() {
                    return Err(CatalogError::ReadOnlyMissing {
                        database: d.name().to_owned(),
                        file: path,
                    });
                }
                current = false;
                continue;
            }
            let flags = if d.read_only() {
                OpenFlags::SQLITE_OPEN_READ_ONLY
            } else {
                OpenFlags::SQLITE_OPEN_READ_WRITE
            };
            let conn = open(d.name(), &path, flags, opts.busy_timeout)?;
            let at = d
                .migrations()
                .migrator()
                .is_current(&conn)
                .map_err(|e| db_err(d.name(), &path, e))?;
            match at {
                Some(v) => reports.push(DatabaseReport {
                    database: d.name().to_owned(),
                    file: path,
                    created: false,
                    from_version: v,
                    to_version: v,
                    applied: Vec::new(),
                }),
                None if d.read_only() => {
                    let current = d.migrations().status(&conn).map_or(0, |s| s.current_version);
                    return Err(CatalogError::ReadOnlyBehind {
                        database: d.name().to_owned(),
                        file: path,
                        current,
                        latest: d.migrations().latest_version(),
                    });
                }
                None => current = false,
            }
        }
        Ok(current.then_some(CatalogReport {
            databases: reports,
            backup_run: None,
            warnings: Vec::new(),
        }))
    }
}

/// One database during a run.
struct Db {
    path: PathBuf,
    conn: Option<Connection>,
    existed: bool,
    current: u64,
    /// `PRAGMA data_version` on `conn` when this run last changed the file (its own commits do not move it;
    /// another connection's do).
    seen: Option<i64>,
    changed: bool,
}

pub(super) struct Runner<'a> {
    cat: &'a Databases,
    dir: &'a Path,
    opts: &'a CatalogOptions,
    dbs: Vec<Db>,
    reports: Vec<DatabaseReport>,
    run: Option<NewRun>,
    warnings: Vec<String>,
    /// A database whose connection saw another connection's write to a file shared by several sets, noticed as a
    /// step of another set of that file began (that step's own failure record moves the other connections'
    /// `data_version`, so it cannot be told apart afterwards).
    foreign_write: Option<usize>,
}

impl<'a> Runner<'a> {
    /// Opens every file and reads where each stands; then, with `create`, creates the writable ones that are
    /// missing (only once every existing file passed its checks, so a refusal changes nothing). A rollback does not
    /// create: a missing file is at version 0 and has nothing to roll back.
    pub(super) fn new(
        cat: &'a Databases,
        dir: &'a Path,
        opts: &'a CatalogOptions,
        create: bool,
    ) -> Result<Runner<'a>, CatalogError> {
        let mut dbs = Vec::with_capacity(cat.databases().len());
        let mut reports = Vec::with_capacity(cat.databases().len());
        for d in cat.databases() {
            let path = d.path_in(dir);
            let existed = path.exists();
            let mut db = Db {
                path: path.clone(),
                conn: None,
                existed,
                current: 0,
                seen: None,
                changed: false,
            };
            if !existed && d.read_only() {
                return Err(CatalogError::ReadOnlyMissing {
                    database: d.name().to_owned(),
                    file: path,
                });
            }
            if existed {
                let flags = if d.read_only() {
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                } else {
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                };
                let conn = open(d.name(), &path, flags, opts.busy_timeout)?;
                needs_no_baseline(d.name(), &path, &conn)?;
                let (status, current) = d
                    .migrations()
                    .migrator()
                    .checked_status(&conn)
                    .map_err(|e| db_err(d.name(), &path, e))?;
                if d.read_only() && !status.is_up_to_date() {
                    return Err(CatalogError::ReadOnlyBehind {
                        database: d.name().to_owned(),
                        file: path,
                        current,
                        latest: d.migrations().latest_version(),
                    });
                }
                db.conn = Some(conn);
                db.current = current;
            }
            reports.push(DatabaseReport {
                database: d.name().to_owned(),
                file: path,
                created: !existed,
                from_version: db.current,
                to_version: db.current,
                applied: Vec::new(),
            });
            dbs.push(db);
        }
        for (d, db) in cat.databases().iter().zip(&mut dbs) {
            if create && db.conn.is_none() {
                let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
                db.conn = Some(open(d.name(), &db.path, flags, opts.busy_timeout)?);
            }
        }
        Ok(Runner {
            cat,
            dir,
            opts,
            dbs,
            reports,
            run: None,
            warnings: Vec::new(),
            foreign_write: None,
        })
    }

    fn run(self) -> Result<CatalogReport, CatalogError> {
        let steps = plan::order(self.cat, &self.current())?;
        let latest: Vec<u64> = self
            .cat
            .databases()
            .iter()
            .map(|d| d.migrations().latest_version())
            .collect();
        self.run_steps(&steps, Reason::PreMigrate, &latest)
    }

    /// Where each database stands, read when the runner opened it.
    pub(super) fn current(&self) -> Vec<u64> {
        self.dbs.iter().map(|d| d.current).collect()
    }

    /// One backup run of what the steps change (`after`: each database's version once they ran), then the steps;
    /// a failed one restores (or keeps) what this run changed.
    pub(super) fn run_steps(
        mut self,
        steps: &[Step],
        reason: Reason,
        after: &[u64],
    ) -> Result<CatalogReport, CatalogError> {
        self.back_up(steps, reason, after)?;
        for step in steps {
            if let Err(e) = self.step(step) {
                return Err(self.fail(step.db, e));
            }
        }
        Ok(CatalogReport {
            databases: self.reports,
            backup_run: self.run.map(|r| r.run.id),
            warnings: self.warnings,
        })
    }

    /// One backup run of every file the steps change, and the extra paths.
    fn back_up(&mut self, steps: &[Step], reason: Reason, after: &[u64]) -> Result<(), CatalogError> {
        if steps.is_empty() || self.opts.backup == BackupPolicy::Off {
            return Ok(());
        }
        let mut changing: Vec<usize> = steps
            .iter()
            .flat_map(|s| std::iter::once(s.db).chain(s.attach.iter().copied()))
            .collect();
        changing.sort_unstable();
        changing.dedup();
        // Sets sharing one file: that file is backed up once, under the first of them.
        let files: Vec<&str> = self.cat.databases().iter().map(|d| d.file()).collect();
        let mut seen_files: Vec<&str> = Vec::new();
        changing.retain(|&i| {
            let new = !seen_files.contains(&files[i]);
            seen_files.push(files[i]);
            new
        });
        let result = (|| {
            let mut run = NewRun::start(self.dir, reason)?;
            for &i in &changing {
                let d = &self.cat.databases()[i];
                let conn = self.dbs[i]
                    .conn
                    .as_ref()
                    .ok_or_else(|| closed(d.name(), &self.dbs[i].path))?;
                let versions = (self.dbs[i].current, after[i]);
                run.add_database(conn, d.name(), d.file(), versions, &self.opts.backup_options)?;
            }
            for p in &self.opts.extra_paths {
                run.add_extra(p)?;
            }
            Ok(run)
        })();
        match result {
            Ok(run) => self.run = Some(run),
            Err(e) if self.opts.backup == BackupPolicy::BestEffort => {
                self.warnings.push(format!(
                    "no backup run was taken, migrating anyway (best-effort policy): {e}"
                ));
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Runs one step: the set's own migrator (backups are the run's), with the attached files.
    fn step(&mut self, step: &Step) -> Result<(), Error> {
        let d = &self.cat.databases()[step.db];
        self.watch_shared_file(step.db);
        let names: Vec<&str> = step.attach.iter().map(|&a| self.cat.databases()[a].name()).collect();
        let paths: Vec<String> = step
            .attach
            .iter()
            .map(|&a| self.dbs[a].path.to_string_lossy().into_owned())
            .collect();
        let conn = self.dbs[step.db].conn.as_mut().ok_or_else(|| Error::Database {
            context: "the catalog closed this connection".into(),
            at: None,
            source: rusqlite::Error::InvalidQuery,
        })?;
        if !names.is_empty() {
            // Unqualified names resolve to `main` before attached databases: with the history table in `main`
            // first, the runner's history reads and writes can never land in the attached file's.
            crate::history::HistoryTable::new(crate::history::DEFAULT_TABLE)?.create(conn)?;
        }
        for (name, path) in names.iter().zip(paths) {
            conn.execute(&format!("ATTACH DATABASE ?1 AS {}", quote_ident(name)), [path])
                .map_err(|e| Error::db(format!("attaching database `{name}`"), None, e))?;
        }
        let result = d
            .migrations()
            .migrator()
            .backup(BackupPolicy::Off)
            .target(Target::Version(step.to))
            .run(conn);
        for name in &names {
            // A detach that fails leaves the file attached to a connection only this run uses.
            let _ = conn.execute_batch(&format!("DETACH DATABASE {}", quote_ident(name)));
        }
        let report = result?;
        let r = &mut self.reports[step.db];
        let applied_before = r.applied.len();
        // A database's steps all go one way (up, or down in a rollback), so the last one's version is where it is.
        r.to_version = report.to_version;
        r.applied.extend(report.applied);
        for i in std::iter::once(step.db).chain(step.attach.iter().copied()) {
            // Every set sharing the file: their connections saw this run's write as another connection's.
            let file = self.cat.databases()[i].file();
            for (j, other) in self.cat.databases().iter().enumerate() {
                if other.file() == file {
                    self.dbs[j].changed = true;
                    self.dbs[j].seen = data_version(self.dbs[j].conn.as_ref());
                }
            }
        }
        // After `seen`: what the callback's own connections write counts as another connection's write.
        if let Some(OnStep(f)) = &self.opts.on_step {
            for a in &self.reports[step.db].applied[applied_before..] {
                f(d.name(), a);
            }
        }
        Ok(())
    }

    /// Before a step on a file several sets share: the other sets' connections must not have seen a write since
    /// this run's last one, and the step's own connection starts watching the file (its own commits, including a
    /// failure record, do not move its `data_version`; another connection's do).
    fn watch_shared_file(&mut self, db: usize) {
        let file = self.cat.databases()[db].file();
        let sharing: Vec<usize> = (0..self.dbs.len())
            .filter(|&j| j != db && self.cat.databases()[j].file() == file)
            .collect();
        if sharing.is_empty() {
            return;
        }
        for &j in &sharing {
            if let Some(seen) = self.dbs[j].seen
                && data_version(self.dbs[j].conn.as_ref()) != Some(seen)
            {
                self.foreign_write.get_or_insert(j);
            }
        }
        if self.dbs[db].seen.is_none() {
            self.dbs[db].seen = data_version(self.dbs[db].conn.as_ref());
        }
    }

    /// After a failed step: restore (or keep) what this run changed, and say so.
    fn fail(mut self, failed: usize, source: Error) -> CatalogError {
        let d = &self.cat.databases()[failed];
        let (database, file, source) = (d.name().to_owned(), self.dbs[failed].path.clone(), Box::new(source));
        // The failed step's own file: its transaction rolled back, but an earlier step of this run may have
        // committed to it, and a no-transaction migration leaves what it did.
        let failed_file = d.file();
        for (j, other) in self.cat.databases().iter().enumerate() {
            if other.file() == failed_file {
                self.dbs[j].changed = true;
            }
        }
        let changed: Vec<usize> = (0..self.dbs.len()).filter(|&i| self.dbs[i].changed).collect();
        if self.opts.keep_progress {
            return CatalogError::Failed {
                database,
                file,
                source,
                run: self.run.map(|r| r.run.id),
                restored: Vec::new(),
                kept: true,
            };
        }
        let Some(run) = self.run.take().map(|r| r.run) else {
            // No backup run: only the files this run created can be taken back.
            let mut restored = Vec::new();
            let created: Vec<usize> = changed
                .iter()
                .rev()
                .copied()
                .filter(|&i| !self.dbs[i].existed)
                .collect();
            for i in created {
                drop(self.dbs[i].conn.take());
                if backup_run::remove_db(&self.dbs[i].path).is_ok() {
                    restored.push(self.dbs[i].path.clone());
                }
            }
            let kept = changed.iter().any(|&i| self.dbs[i].existed);
            return CatalogError::Failed {
                database,
                file,
                source,
                run: None,
                restored,
                kept,
            };
        };
        if let Some(j) = self.foreign_write {
            return CatalogError::NotRestored {
                database,
                file,
                source,
                written: self.dbs[j].path.clone(),
                run: run.id,
            };
        }
        for &i in &changed {
            if i != failed && self.cat.databases()[i].file() == failed_file {
                // The failed step's connection speaks for its file (see `watch_shared_file`).
                continue;
            }
            let db = &self.dbs[i];
            let now = data_version(db.conn.as_ref());
            if db.seen.is_some() && now != db.seen {
                return CatalogError::NotRestored {
                    database,
                    file,
                    source,
                    written: db.path.clone(),
                    run: run.id,
                };
            }
        }
        let mut restored: Vec<PathBuf> = Vec::new();
        for &i in changed.iter().rev() {
            // Sets sharing a file have one backup in the run (see `back_up`): found by file, restored once.
            let file_name = self.cat.databases()[i].file();
            let Some(rf) = run.files.iter().find(|f| f.file == file_name) else {
                continue;
            };
            for (j, other) in self.cat.databases().iter().enumerate() {
                if other.file() == file_name {
                    drop(self.dbs[j].conn.take());
                }
            }
            if restored.contains(&self.dbs[i].path) {
                continue;
            }
            if let Err(e) = backup_run::restore_file(&run, rf, &self.dbs[i].path, &self.opts.backup_options) {
                let restore = match e {
                    CatalogError::Backup { source, .. } => source,
                    other => crate::backup::BackupError::Io {
                        op: "restore",
                        path: self.dbs[i].path.clone(),
                        source: std::io::Error::other(other.to_string()),
                    },
                };
                return CatalogError::RestoreFailed {
                    database,
                    file,
                    source,
                    restoring: self.dbs[i].path.clone(),
                    run: run.id,
                    restore,
                };
            }
            restored.push(self.dbs[i].path.clone());
        }
        CatalogError::Failed {
            database,
            file,
            source,
            run: Some(run.id),
            restored,
            kept: false,
        }
    }
}
