//! The sidecar manifest (`<backup file>.json`), listing, and resolving an id to a backup inside the directory.

use super::BackupError;
use crate::json::{self, Fields, Value};
use litemigrate_core::Checksum;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The manifest format this library writes; newer formats are still read (unknown fields are ignored).
pub(crate) const FORMAT: u32 = 1;

const PLAIN_EXT: &str = ".bak";
const ZST_EXT: &str = ".bak.zst";
const MANIFEST_EXT: &str = ".json";

/// Why a backup was taken.
///
/// ```
/// use litemigrate_runtime::backup::Reason;
/// assert_eq!(Reason::PreMigrate.to_string(), "pre-migrate");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Before applying migrations (up).
    PreMigrate,
    /// Before rolling migrations back (down).
    PreRollback,
    /// Before a restore replaced the database.
    PreRestore,
    /// Asked for directly.
    Manual,
}

impl Reason {
    const ALL: [Reason; 4] = [
        Reason::PreMigrate,
        Reason::PreRollback,
        Reason::PreRestore,
        Reason::Manual,
    ];

    /// As manifests store it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::PreMigrate => "pre-migrate",
            Reason::PreRollback => "pre-rollback",
            Reason::PreRestore => "pre-restore",
            Reason::Manual => "manual",
        }
    }

    pub(crate) fn from_json(f: &Fields<'_>, name: &str) -> Result<Reason, String> {
        let s = f.str(name)?;
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("field {name:?}: unknown reason {s:?}"))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One backup, as its manifest describes it.
///
/// ```no_run
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
/// for b in litemigrate_runtime::backup::list(std::path::Path::new("backups"))? {
///     println!("{} {} v{} -> v{} {} bytes", b.created_at, b.reason, b.version_before, b.target_version, b.size);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The manifest format (1).
    pub format: u32,
    /// The backup's id: its file name without `.bak` / `.bak.zst`.
    pub id: String,
    /// The backup file's name inside the backup directory.
    pub file: String,
    /// The database file that was backed up.
    pub source: PathBuf,
    /// When, in UTC (RFC 3339, milliseconds).
    pub created_at: String,
    /// The schema version before the change the backup precedes.
    pub version_before: u64,
    /// The version the change was going to.
    pub target_version: u64,
    /// Why it was taken.
    pub reason: Reason,
    /// The backup file's size in bytes (compressed size when compressed).
    pub size: u64,
    /// The database's size in bytes (equal to `size` when not compressed).
    pub db_size: u64,
    /// SHA-256 of the backup file as stored (lowercase hex).
    pub sha256: String,
    /// Whether the file is zstd-compressed.
    pub compressed: bool,
    /// The SQLite library version that took it.
    pub sqlite_version: String,
    /// The check that verified it (`integrity_check` or `quick_check`).
    pub check: String,
    /// What the check said (`ok`: a backup that fails is never kept).
    pub integrity: String,
    /// How the snapshot was taken (`file-copy` or `backup-api`).
    pub method: String,
    /// The backup file's full path (not stored; filled in from where the manifest was read).
    pub path: PathBuf,
}

impl BackupInfo {
    /// The recorded SHA-256, or `None` if the manifest holds something that is not one.
    pub fn checksum(&self) -> Option<Checksum> {
        self.sha256.parse().ok()
    }

    /// The creation time as milliseconds since the Unix epoch, or `None` if the manifest's time does not parse.
    pub fn created_at_millis(&self) -> Option<i64> {
        crate::clock::parse_utc_millis(&self.created_at)
    }

    /// The manifest's path.
    pub fn manifest_path(&self) -> PathBuf {
        manifest_of(&self.path)
    }

    /// The manifest as JSON (every field but `path`, which is where the manifest sits).
    pub(crate) fn to_json(&self) -> Result<Value, String> {
        Ok(json::object([
            ("format", self.format.into()),
            ("id", self.id.clone().into()),
            ("file", self.file.clone().into()),
            ("source", json::path_value(&self.source)?),
            ("created_at", self.created_at.clone().into()),
            ("version_before", self.version_before.into()),
            ("target_version", self.target_version.into()),
            ("reason", self.reason.as_str().into()),
            ("size", self.size.into()),
            ("db_size", self.db_size.into()),
            ("sha256", self.sha256.clone().into()),
            ("compressed", self.compressed.into()),
            ("sqlite_version", self.sqlite_version.clone().into()),
            ("check", self.check.clone().into()),
            ("integrity", self.integrity.clone().into()),
            ("method", self.method.clone().into()),
        ]))
    }

    /// A manifest read back; `path` is left empty for the reader to fill in.
    pub(crate) fn from_json(v: &Value) -> Result<BackupInfo, String> {
        let f = Fields::of(v)?;
        Ok(BackupInfo {
            format: f.u32("format")?,
            id: f.str("id")?,
            file: f.str("file")?,
            source: f.path("source")?,
            created_at: f.str("created_at")?,
            version_before: f.u64("version_before")?,
            target_version: f.u64("target_version")?,
            reason: Reason::from_json(&f, "reason")?,
            size: f.u64("size")?,
            db_size: f.u64("db_size")?,
            sha256: f.str("sha256")?,
            compressed: f.bool("compressed")?,
            sqlite_version: f.str("sqlite_version")?,
            check: f.str("check")?,
            integrity: f.str("integrity")?,
            method: f.str("method")?,
            path: PathBuf::new(),
        })
    }
}

// What `--json` output shows of a backup: the manifest's fields.
crate::json::serialize_as_written!(BackupInfo);

fn manifest_of(backup: &Path) -> PathBuf {
    let mut s = backup.as_os_str().to_owned();
    s.push(MANIFEST_EXT);
    PathBuf::from(s)
}

/// The id of a backup file name, or `None` when the name is not a backup's.
pub(crate) fn id_of(file_name: &str) -> Option<&str> {
    file_name
        .strip_suffix(ZST_EXT)
        .or_else(|| file_name.strip_suffix(PLAIN_EXT))
        .filter(|id| !id.is_empty())
}

/// The backup file name for an id.
pub(crate) fn file_name(id: &str, compressed: bool) -> String {
    format!("{id}{}", if compressed { ZST_EXT } else { PLAIN_EXT })
}

/// Reads and checks one manifest: it must parse, and describe the file it sits next to.
fn read_manifest(manifest: &Path) -> Result<BackupInfo, BackupError> {
    let corrupt = |detail: String| BackupError::ManifestCorrupt {
        path: manifest.to_path_buf(),
        detail,
    };
    let bytes = fs::read(manifest).map_err(|e| BackupError::io("read", manifest, e))?;
    let mut info = json::parse(&bytes)
        .and_then(|v| BackupInfo::from_json(&v))
        .map_err(corrupt)?;
    let name = manifest.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let backup_name = name.strip_suffix(MANIFEST_EXT).unwrap_or("");
    if info.file != backup_name {
        return Err(corrupt(format!(
            "it names file {:?}, but sits next to {backup_name:?}",
            info.file
        )));
    }
    if id_of(backup_name) != Some(info.id.as_str()) || backup_name != file_name(&info.id, info.compressed) {
        return Err(corrupt(format!(
            "id {:?} / compressed {} do not match the file name",
            info.id, info.compressed
        )));
    }
    if info.checksum().is_none() {
        return Err(corrupt(format!("sha256 {:?} is not a SHA-256 value", info.sha256)));
    }
    if info.created_at_millis().is_none() {
        return Err(corrupt(format!(
            "created_at {:?} is not an RFC 3339 time",
            info.created_at
        )));
    }
    info.path = manifest.with_file_name(backup_name);
    backup_inside(&info)?;
    Ok(info)
}

/// A backup file that is a symlink must lead to a file directly in its own directory, the rule [`resolve`] applies
/// to the manifest: a manifest (which anyone can copy) must not make a restore read a database from elsewhere.
fn backup_inside(info: &BackupInfo) -> Result<(), BackupError> {
    let Ok(meta) = fs::symlink_metadata(&info.path) else {
        // Missing: verification reports it.
        return Ok(());
    };
    if !meta.file_type().is_symlink() {
        return Ok(());
    }
    let dir = info.path.parent().unwrap_or_else(|| Path::new("."));
    let outside = || BackupError::OutsideDir {
        requested: info.file.clone(),
        dir: dir.to_path_buf(),
    };
    let canon_dir = fs::canonicalize(dir).map_err(|e| BackupError::io("resolve", dir, e))?;
    let target = fs::canonicalize(&info.path).map_err(|_| outside())?;
    if target.parent() == Some(canon_dir.as_path()) {
        Ok(())
    } else {
        Err(outside())
    }
}

/// Writes a manifest next to its backup: temp file, fsync, rename (so a reader never sees half a manifest).
pub(crate) fn write_manifest(dir: &Path, info: &BackupInfo) -> Result<(), BackupError> {
    let target = manifest_of(&info.path);
    let json = info
        .to_json()
        .map(|v| json::pretty(&v))
        .map_err(|e| BackupError::ManifestCorrupt {
            path: target.clone(),
            detail: format!("cannot serialize: {e}"),
        })?;
    let tmp = super::fsutil::locked_temp(dir, "manifest")?;
    io::Write::write_all(&mut tmp.as_file(), &json)
        .map_err(|e| BackupError::io("write", tmp.path().to_path_buf(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| BackupError::io("fsync", tmp.path().to_path_buf(), e))?;
    tmp.persist(&target)
        .map_err(|e| BackupError::io("rename into place", &target, e))?;
    Ok(())
}

/// All backups in `dir` that have a readable manifest, newest first. A missing directory has none. Manifests that
/// do not parse, or whose backup file is a symlink out of `dir`, are skipped here (so one damaged file does not hide
/// the others); [`inspect`] reports them. Temporary files that killed backups left in `dir` are removed.
///
/// ```no_run
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
/// let backups = litemigrate_runtime::backup::list(std::path::Path::new("backups"))?;
/// if let Some(newest) = backups.first() {
///     println!("newest: {}", newest.id);
/// }
/// # Ok(())
/// # }
/// ```
pub fn list(dir: &Path) -> Result<Vec<BackupInfo>, BackupError> {
    let Some(entries) = read_dir(dir)? else {
        return Ok(Vec::new());
    };
    // Listing is when someone looks at the directory: clear what killed backups left (see `remove_stale_temps`).
    super::fsutil::remove_stale_temps(dir);
    let mut out = read_manifests(dir, entries, "")?;
    sort_newest_first(&mut out);
    Ok(out)
}

/// The backups in `dir` whose file names start with `prefix`, unsorted: [`list`] without reading any other
/// manifest and without the sweep of temporary files. What retention reads, so that in a backup directory shared
/// by a fleet each database's retention costs one directory listing and its own manifests, not every manifest of
/// every other database (which made a fleet run quadratic).
pub(crate) fn list_prefixed(dir: &Path, prefix: &str) -> Result<Vec<BackupInfo>, BackupError> {
    match read_dir(dir)? {
        Some(entries) => read_manifests(dir, entries, prefix),
        None => Ok(Vec::new()),
    }
}

/// The backup whose id is `id`, read from its manifest in `dir` (plain or compressed name); `None` when there is
/// none, it does not parse, or `id` is not a plain backup id (what [`list`] would not show either).
pub(crate) fn by_id(dir: &Path, id: &str) -> Option<BackupInfo> {
    if id.is_empty() || id.starts_with('.') || id.contains(['/', '\\']) {
        return None;
    }
    [false, true].into_iter().find_map(|compressed| {
        let manifest = dir.join(format!("{}{MANIFEST_EXT}", file_name(id, compressed)));
        read_manifest(&manifest).ok().filter(|info| info.id == id)
    })
}

/// The start every backup id of the database at `source` has: its file stem and a dot (see [`super::create`]).
pub(crate) fn id_prefix(source: &Path) -> String {
    let stem = source.file_stem().map_or_else(|| "db".into(), |s| s.to_string_lossy());
    format!("{stem}.")
}

fn read_dir(dir: &Path) -> Result<Option<fs::ReadDir>, BackupError> {
    match fs::read_dir(dir) {
        Ok(e) => Ok(Some(e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BackupError::io("read directory", dir, e)),
    }
}

/// The readable manifests among `entries` whose names start with `prefix`.
fn read_manifests(dir: &Path, entries: fs::ReadDir, prefix: &str) -> Result<Vec<BackupInfo>, BackupError> {
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| BackupError::io("read directory", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_manifest = name.strip_suffix(MANIFEST_EXT).and_then(id_of).is_some();
        if !is_manifest || name.starts_with('.') || !name.starts_with(prefix) {
            continue;
        }
        if let Ok(info) = read_manifest(&entry.path()) {
            out.push(info);
        }
    }
    Ok(out)
}

pub(crate) fn sort_newest_first(v: &mut [BackupInfo]) {
    v.sort_by(|a, b| {
        b.created_at_millis()
            .cmp(&a.created_at_millis())
            .then_with(|| b.id.cmp(&a.id))
    });
}

/// One backup by id (`app.20261122T103000.123Z.v3`), file name (`….bak`, `….bak.zst`, `….json`) or path. A path
/// or name that resolves outside `dir` is refused with [`BackupError::OutsideDir`].
///
/// ```no_run
/// # fn main() -> Result<(), litemigrate_runtime::backup::BackupError> {
/// let info = litemigrate_runtime::backup::inspect(std::path::Path::new("backups"), "app.20261122T103000.123Z.v3")?;
/// println!("{info:#?}");
/// # Ok(())
/// # }
/// ```
pub fn inspect(dir: &Path, id: &str) -> Result<BackupInfo, BackupError> {
    read_manifest(&resolve(dir, id)?)
}

/// Finds the manifest for `id` inside `dir`, refusing anything that leaves the directory.
fn resolve(dir: &Path, id: &str) -> Result<PathBuf, BackupError> {
    let outside = || BackupError::OutsideDir {
        requested: id.to_owned(),
        dir: dir.to_path_buf(),
    };
    let not_found = || BackupError::NotFound {
        id: id.to_owned(),
        dir: dir.to_path_buf(),
    };
    let canon_dir = match fs::canonicalize(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(BackupError::io("resolve", dir, e)),
    };
    if id.is_empty() {
        return Err(not_found());
    }
    let as_path = Path::new(id);
    // A bare name stays a name: only its own file in `dir` may match. Anything with a directory part is resolved
    // and must land directly in `dir` (symlinks included, hence canonicalize).
    let name = if as_path.components().count() == 1 && !id.contains(['/', '\\']) && id != ".." && id != "." {
        id.to_owned()
    } else {
        let candidate = if as_path.is_absolute() {
            as_path.to_path_buf()
        } else {
            dir.join(as_path)
        };
        let parent = candidate.parent().ok_or_else(outside)?;
        let canon_parent = fs::canonicalize(parent).map_err(|_| outside())?;
        if canon_parent != canon_dir {
            return Err(outside());
        }
        let file = candidate.file_name().and_then(|n| n.to_str()).ok_or_else(outside)?;
        file.to_owned()
    };
    if name == ".." || name == "." {
        return Err(outside());
    }
    let stem = name.strip_suffix(MANIFEST_EXT).unwrap_or(&name);
    let candidates: Vec<String> = match id_of(stem) {
        Some(_) => vec![format!("{stem}{MANIFEST_EXT}")],
        None => vec![
            format!("{}{MANIFEST_EXT}", file_name(stem, false)),
            format!("{}{MANIFEST_EXT}", file_name(stem, true)),
        ],
    };
    for c in candidates {
        let p = canon_dir.join(&c);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::canonicalize(&p).map_err(|_| outside())?;
                if target.parent() != Some(canon_dir.as_path()) {
                    return Err(outside());
                }
                return Ok(p);
            }
            Ok(_) => return Ok(p),
            Err(_) => continue,
        }
    }
    Err(not_found())
}

/// `2026-11-22T10:30:00.123Z` (manifest) and `20261122T103000.123Z` (file name) for the same instant.
pub(crate) fn timestamps(t: crate::clock::Instant) -> (String, String) {
    (t.rfc3339_millis(), t.compact_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert_eq!(
            id_of("app.20261122T103000.123Z.v3.bak"),
            Some("app.20261122T103000.123Z.v3")
        );
        assert_eq!(
            id_of("app.20261122T103000.123Z.v3.bak.zst"),
            Some("app.20261122T103000.123Z.v3")
        );
        assert_eq!(id_of("app.db"), None);
        assert_eq!(id_of(".bak"), None);
        assert_eq!(file_name("x", true), "x.bak.zst");
    }

    #[test]
    fn timestamp_forms() {
        let t = crate::clock::Instant::from_millis(1_795_343_400_123);
        let (rfc, name) = timestamps(t);
        assert_eq!(rfc, "2026-11-22T10:30:00.123Z");
        assert_eq!(name, "20261122T103000.123Z");
        let info_time = crate::clock::parse_utc_millis(&rfc);
        assert_eq!(info_time, Some(t.as_millis()));
    }
}
