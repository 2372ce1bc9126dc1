//! Backup runs: one directory per catalog run, `<data dir>/backups/<run id>/`, holding a verified backup of every
//! database file the run changes (made by [`crate::backup::create`], each with its own manifest), copies of the
//! application's extra paths, and `run.json`, the run's manifest: each file's SHA-256, versions before and after,
//! the reason. Restoring a run restores every file in it, each atomically.

use super::CatalogError;
use crate::backup::{self as bk, BackupInfo, BackupOptions, Reason};
use crate::json::{self, Fields, Value};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The manifest's name inside a run directory.
const MANIFEST: &str = "run.json";

/// One catalog backup run, as `run.json` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRun {
    /// The manifest format (1).
    pub format: u32,
    /// The run's id: its directory name (UTC time).
    pub id: String,
    /// When, in UTC (RFC 3339, milliseconds).
    pub created_at: String,
    /// Why it was taken.
    pub reason: Reason,
    /// The database files.
    pub files: Vec<RunFile>,
    /// The application's extra paths.
    pub extras: Vec<RunExtra>,
    /// The run directory (not stored; filled in from where the manifest was read).
    pub dir: PathBuf,
}

/// One database file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFile {
    /// The database.
    pub database: String,
    /// Its file name in the data directory.
    pub file: String,
    /// Its version before the run.
    pub version_before: u64,
    /// The version the run was bringing it to.
    pub version_after: u64,
    /// The verified backup (SHA-256 in [`BackupInfo::sha256`]); `None` when the file did not exist or held nothing
    /// yet, so restoring the run removes it.
    pub backup: Option<BackupInfo>,
}

/// One extra path of a run (a blob or metadata directory, a settings file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunExtra {
    /// The path as the application named it.
    pub path: PathBuf,
    /// Where its copy is, relative to the run directory.
    pub copy: String,
    /// Whether it existed (a path that did not is removed by a restore).
    pub existed: bool,
    /// `(path relative to the extra path, SHA-256)` of each regular file copied (one entry with an empty path for a
    /// file).
    pub files: Vec<(String, String)>,
}

impl BackupRun {
    /// The directory holding runs in a data directory.
    pub fn runs_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("backups")
    }

    /// `run.json` (every field but `dir`, which is where it sits).
    fn to_json(&self) -> Result<Value, String> {
        let files = self.files.iter().map(RunFile::to_json).collect::<Result<Vec<_>, _>>()?;
        let extras = self
            .extras
            .iter()
            .map(RunExtra::to_json)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json::object([
            ("format", self.format.into()),
            ("id", self.id.clone().into()),
            ("created_at", self.created_at.clone().into()),
            ("reason", self.reason.as_str().into()),
            ("files", files.into()),
            ("extras", extras.into()),
        ]))
    }

    fn from_json(v: &Value) -> Result<BackupRun, String> {
        let f = Fields::of(v)?;
        Ok(BackupRun {
            format: f.u32("format")?,
            id: f.str("id")?,
            created_at: f.str("created_at")?,
            reason: Reason::from_json(&f, "reason")?,
            files: f
                .array("files")?
                .iter()
                .map(RunFile::from_json)
                .collect::<Result<_, _>>()?,
            extras: f
                .array("extras")?
                .iter()
                .map(RunExtra::from_json)
                .collect::<Result<_, _>>()?,
            dir: PathBuf::new(),
        })
    }

    fn write(&self) -> Result<(), CatalogError> {
        let text = self
            .to_json()
            .map(|v| json::pretty(&v))
            .map_err(|e| io_err(&self.dir, e))?;
        let path = self.dir.join(MANIFEST);
        let tmp = self.dir.join(format!("{MANIFEST}.tmp"));
        let mut f = fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
        f.write_all(&text).map_err(|e| io_err(&tmp, e))?;
        f.sync_all().map_err(|e| io_err(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))
    }
}

impl RunFile {
    fn to_json(&self) -> Result<Value, String> {
        Ok(json::object([
            ("database", self.database.clone().into()),
            ("file", self.file.clone().into()),
            ("version_before", self.version_before.into()),
            ("version_after", self.version_after.into()),
            (
                "backup",
                self.backup.as_ref().map_or(Ok(Value::Null), BackupInfo::to_json)?,
            ),
        ]))
    }

    fn from_json(v: &Value) -> Result<RunFile, String> {
        let f = Fields::of(v)?;
        Ok(RunFile {
            database: f.str("database")?,
            file: f.str("file")?,
            version_before: f.u64("version_before")?,
            version_after: f.u64("version_after")?,
            backup: f.opt("backup").map(BackupInfo::from_json).transpose()?,
        })
    }
}

impl RunExtra {
    fn to_json(&self) -> Result<Value, String> {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|(p, h)| Value::from(vec![p.clone(), h.clone()]))
            .collect();
        Ok(json::object([
            ("path", json::path_value(&self.path)?),
            ("copy", self.copy.clone().into()),
            ("existed", self.existed.into()),
            ("files", files.into()),
        ]))
    }

    fn from_json(v: &Value) -> Result<RunExtra, String> {
        let f = Fields::of(v)?;
        let pair = |v: &Value| match v {
            Value::Array(pair) if pair.len() == 2 => match (pair[0].as_str(), pair[1].as_str()) {
                (Some(p), Some(h)) => Ok((p.to_owned(), h.to_owned())),
                _ => Err("field \"files\": expected [path, sha256] pairs of strings".to_owned()),
            },
            _ => Err("field \"files\": expected [path, sha256] pairs".to_owned()),
        };
        Ok(RunExtra {
            path: f.path("path")?,
            copy: f.str("copy")?,
            existed: f.bool("existed")?,
            files: f.array("files")?.iter().map(pair).collect::<Result<_, _>>()?,
        })
    }
}

// What `--json` output shows of a run: each record as `run.json` holds it.
crate::json::serialize_as_written!(BackupRun, RunFile, RunExtra);

fn io_err(path: &Path, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A run being written: its directory exists, files are added one by one, the manifest is written after each.
pub(super) struct NewRun {
    pub(super) run: BackupRun,
}

impl NewRun {
    pub(super) fn start(data_dir: &Path, reason: Reason) -> Result<NewRun, CatalogError> {
        let runs = BackupRun::runs_dir(data_dir);
        fs::create_dir_all(&runs).map_err(|e| io_err(&runs, e))?;
        let (created_at, stamp) = bk::manifest_timestamps_now();
        let mut id = stamp.clone();
        let mut n = 1;
        let dir = loop {
            let dir = runs.join(&id);
            match fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => {
                    n += 1;
                    id = format!("{stamp}-{n}");
                }
                Err(e) => return Err(io_err(&dir, e)),
            }
        };
        let run = BackupRun {
            format: 1,
            id,
            created_at,
            reason,
            files: Vec::new(),
            extras: Vec::new(),
            dir,
        };
        run.write()?;
        Ok(NewRun { run })
    }

    /// Backs up one database (a verified backup into the run directory).
    pub(super) fn add_database(
        &mut self,
        conn: &rusqlite::Connection,
        database: &str,
        file: &str,
        versions: (u64, u64),
        opts: &BackupOptions,
    ) -> Result<(), CatalogError> {
        let opts = BackupOptions {
            dir: Some(self.run.dir.clone()),
            ..opts.clone()
        };
        let backup = bk::create(conn, &opts, self.run.reason, versions.0, versions.1).map_err(|source| {
            CatalogError::Backup {
                file: self.run.dir.join(file),
                source,
            }
        })?;
        self.run.files.push(RunFile {
            database: database.to_owned(),
            file: file.to_owned(),
            version_before: versions.0,
            version_after: versions.1,
            backup,
        });
        self.run.write()
    }

    /// Copies an extra path (file or directory tree) into the run.
    pub(super) fn add_extra(&mut self, path: &Path) -> Result<(), CatalogError> {
        let copy = format!("extra-{}", self.run.extras.len());
        let dst = self.run.dir.join(&copy);
        let mut files = Vec::new();
        let existed = path.exists();
        if path.is_dir() {
            copy_tree(path, &dst, Path::new(""), &mut files)?;
        } else if existed {
            files.push((String::new(), copy_file(path, &dst)?));
        }
        self.run.extras.push(RunExtra {
            path: path.to_path_buf(),
            copy,
            existed,
            files,
        });
        self.run.write()
    }
}

fn copy_file(src: &Path, dst: &Path) -> Result<String, CatalogError> {
    fs::copy(src, dst).map_err(|e| io_err(src, e))?;
    let (sum, _) = crate::backup::sha256_of(dst).map_err(|source| CatalogError::Backup {
        file: dst.to_path_buf(),
        source,
    })?;
    let (orig, _) = crate::backup::sha256_of(src).map_err(|source| CatalogError::Backup {
        file: src.to_path_buf(),
        source,
    })?;
    if orig != sum {
        return Err(io_err(src, "changed while it was being copied into the backup run"));
    }
    Ok(sum.to_string())
}

fn copy_tree(src: &Path, dst: &Path, rel: &Path, files: &mut Vec<(String, String)>) -> Result<(), CatalogError> {
    fs::create_dir_all(dst).map_err(|e| io_err(dst, e))?;
    let mut entries: Vec<_> = fs::read_dir(src)
        .map_err(|e| io_err(src, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io_err(src, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ty = e.file_type().map_err(|err| io_err(&e.path(), err))?;
        let name = e.file_name();
        let rel = rel.join(&name);
        if ty.is_dir() {
            copy_tree(&e.path(), &dst.join(&name), &rel, files)?;
        } else if ty.is_file() {
            let sum = copy_file(&e.path(), &dst.join(&name))?;
            files.push((rel.to_string_lossy().into_owned(), sum));
        }
    }
    Ok(())
}

/// The catalog's backup runs in a data directory, newest first. A directory without a readable `run.json` is not
/// a run and is skipped.
pub fn list_runs(data_dir: &Path) -> Result<Vec<BackupRun>, CatalogError> {
    let runs = BackupRun::runs_dir(data_dir);
    let entries = match fs::read_dir(&runs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&runs, e)),
    };
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|err| io_err(&runs, err))?;
        if let Some(run) = read_run(&e.path()) {
            out.push(run);
        }
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    Ok(out)
}

fn read_run(dir: &Path) -> Option<BackupRun> {
    let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let mut run = json::parse(text.as_bytes())
        .and_then(|v| BackupRun::from_json(&v))
        .ok()?;
    run.dir = dir.to_path_buf();
    for f in &mut run.files {
        if let Some(b) = &mut f.backup {
            b.path = dir.join(&b.file);
        }
    }
    Some(run)
}

/// The backup run with that id in a data directory.
pub fn find_run(data_dir: &Path, id: &str) -> Result<BackupRun, CatalogError> {
    let runs = BackupRun::runs_dir(data_dir);
    // The id is a directory name: refuse anything that would leave the runs directory.
    let plain = !id.is_empty() && !id.contains(['/', '\\']) && id != "." && id != "..";
    plain
        .then(|| read_run(&runs.join(id)))
        .flatten()
        .ok_or_else(|| CatalogError::UnknownRun {
            dir: runs,
            id: id.to_owned(),
        })
}

/// Restores every file of a backup run into the data directory: each database from its verified backup (in place
/// or through the backup API, atomically; the state before goes to `pre-restore/` in the run directory), a file
/// the run created is removed, and each extra path is put back. Returns the paths restored, in order.
pub fn restore_run(data_dir: &Path, id: &str, opts: &BackupOptions) -> Result<Vec<PathBuf>, CatalogError> {
    let run = find_run(data_dir, id)?;
    let mut done = Vec::new();
    for f in &run.files {
        let path = data_dir.join(&f.file);
        restore_file(&run, f, &path, opts)?;
        done.push(path);
    }
    for x in &run.extras {
        restore_extra(&run, x)?;
        done.push(x.path.clone());
    }
    Ok(done)
}

/// Restores one database file of a run (see [`restore_run`]).
pub(super) fn restore_file(
    run: &BackupRun,
    f: &RunFile,
    path: &Path,
    opts: &BackupOptions,
) -> Result<(), CatalogError> {
    let Some(info) = &f.backup else {
        return remove_db(path);
    };
    let mut conn = rusqlite::Connection::open(path).map_err(|source| CatalogError::Open {
        database: f.database.clone(),
        file: path.to_path_buf(),
        source,
    })?;
    let opts = BackupOptions {
        dir: Some(run.dir.join("pre-restore")),
        ..opts.clone()
    };
    bk::restore_info(&mut conn, info, f.version_after, &opts).map_err(|source| CatalogError::Backup {
        file: path.to_path_buf(),
        source,
    })?;
    Ok(())
}

/// Removes a database file the run created, with its journal files.
pub(super) fn remove_db(path: &Path) -> Result<(), CatalogError> {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(Path::new(&p), e)),
        }
    }
    Ok(())
}

fn restore_extra(run: &BackupRun, x: &RunExtra) -> Result<(), CatalogError> {
    let src = run.dir.join(&x.copy);
    if !x.existed {
        return match fs::remove_dir_all(&x.path).or_else(|_| fs::remove_file(&x.path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&x.path, e)),
            _ => Ok(()),
        };
    }
    if let [(rel, _)] = x.files.as_slice()
        && rel.is_empty()
    {
        return replace_file(&src, &x.path);
    }
    // A directory: put every copied file back (each atomically), and remove files that did not exist then.
    for (rel, _) in &x.files {
        let dst = x.path.join(rel);
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
        }
        replace_file(&src.join(rel), &dst)?;
    }
    remove_extraneous(&x.path, Path::new(""), &x.files)
}

fn remove_extraneous(dir: &Path, rel: &Path, keep: &[(String, String)]) -> Result<(), CatalogError> {
    for e in fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let e = e.map_err(|err| io_err(dir, err))?;
        let rel = rel.join(e.file_name());
        let ty = e.file_type().map_err(|err| io_err(&e.path(), err))?;
        if ty.is_dir() {
            remove_extraneous(&e.path(), &rel, keep)?;
        } else if !keep.iter().any(|(k, _)| Path::new(k) == rel) {
            fs::remove_file(e.path()).map_err(|err| io_err(&e.path(), err))?;
        }
    }
    Ok(())
}

/// Copies `src` over `dst` through a temporary file in `dst`'s directory and a rename: readers see the old file or
/// the new one.
fn replace_file(src: &Path, dst: &Path) -> Result<(), CatalogError> {
    let mut tmp = dst.as_os_str().to_owned();
    tmp.push(".litemigrate-restore");
    let tmp = PathBuf::from(tmp);
    fs::copy(src, &tmp).map_err(|e| io_err(src, e))?;
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_err(&tmp, e))?;
    fs::rename(&tmp, dst).map_err(|e| io_err(dst, e))
}

impl super::Databases {
    /// A backup run now (reason `manual`) of every database file that exists in `data_dir`, and of
    /// `opts.extra_paths`.
    ///
    /// ```no_run
    /// # static DATABASES: litemigrate_runtime::catalog::Databases = litemigrate_runtime::catalog::Databases::empty();
    /// let run = DATABASES.backup_all("data", &Default::default()).unwrap();
    /// println!("backup run {} in {}", run.id, run.dir.display());
    /// ```
    pub fn backup_all(
        &self,
        data_dir: impl AsRef<Path>,
        opts: &super::CatalogOptions,
    ) -> Result<BackupRun, CatalogError> {
        let dir = data_dir.as_ref();
        let mut run = NewRun::start(dir, Reason::Manual)?;
        for d in self.databases() {
            let path = d.path_in(dir);
            if !path.exists() {
                continue;
            }
            let flags = if d.read_only() {
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
            } else {
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            };
            let conn = super::files::open(d.name(), &path, flags, opts.busy_timeout)?;
            let v = d.migrations().status(&conn).map_or(0, |s| s.current_version);
            run.add_database(&conn, d.name(), d.file(), (v, v), &opts.backup_options)?;
        }
        for p in &opts.extra_paths {
            run.add_extra(p)?;
        }
        Ok(run.run)
    }
}
