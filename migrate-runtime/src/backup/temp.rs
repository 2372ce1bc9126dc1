//! Temporary files beside their final name: created exclusively (never opening someone else's file), private to the
//! user on unix (mode 0600), deleted when dropped unless moved into place, and moved into place either replacing
//! the target or never replacing it.
//!
//! This is the part of the `tempfile` crate the backups used, in std: the crate brought rustix, libc, getrandom and
//! fastrand into every application's build (~4 s of CPU of a cold build, and a second copy of rusqlite, whose
//! `bitflags` then differed from the macro's; BENCHMARKS "Cold build"). Names need no randomness: the process id,
//! the time and a counter make them unique in practice, and `create_new` (`O_EXCL`) makes a collision a retry, not
//! a shared file.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A temporary file; removed on drop unless [`TempFile::persist`] or [`TempFile::persist_noclobber`] moved it.
#[derive(Debug)]
pub(crate) struct TempFile {
    file: File,
    path: PathBuf,
    /// Cleared once the file has its final name (or was kept), so drop leaves it.
    owned: bool,
}

/// [`TempFile::persist_noclobber`] failed; the temporary file is handed back, still owned.
#[derive(Debug)]
pub(crate) struct PersistError {
    pub(crate) error: io::Error,
    pub(crate) file: TempFile,
}

impl TempFile {
    /// A new, empty file `{prefix}{unique}{suffix}` in `dir`, open for reading and writing.
    pub(crate) fn new_in(dir: &Path, prefix: &str, suffix: &str) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64) // truncation: only uniqueness matters
            .unwrap_or(0);
        for _ in 0..64 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{prefix}{:x}-{nanos:x}-{n:x}{suffix}", std::process::id()));
            let mut options = OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        file,
                        path,
                        owned: true,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary file name after 64 tries",
        ))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn as_file(&self) -> &File {
        &self.file
    }

    /// Renames the file to `target`, replacing whatever is there (atomically on one filesystem).
    pub(crate) fn persist(mut self, target: &Path) -> io::Result<()> {
        fs::rename(&self.path, target)?;
        self.owned = false;
        Ok(())
    }

    /// Gives the file the name `target` only if nothing has it: a hard link, which the OS refuses atomically when
    /// the name exists (`AlreadyExists`, with the file handed back), then the temporary name removed. Where the
    /// filesystem has no hard links (FAT, exFAT, some network mounts), a rename after checking that the name is
    /// free: two writers racing for one name in the same instant could then replace one another, which only the
    /// backups' millisecond names plus a counter could make them do.
    pub(crate) fn persist_noclobber(mut self, target: &Path) -> Result<(), PersistError> {
        match fs::hard_link(&self.path, target) {
            Ok(()) => {
                // The data has its name; a leftover temporary link is swept as stale later if this fails.
                let _ = fs::remove_file(&self.path);
                self.owned = false;
                Ok(())
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Err(PersistError { error, file: self }),
            Err(_) if fs::symlink_metadata(target).is_err() => match fs::rename(&self.path, target) {
                Ok(()) => {
                    self.owned = false;
                    Ok(())
                }
                Err(error) => Err(PersistError { error, file: self }),
            },
            Err(_) => Err(PersistError {
                error: io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists", target.display())),
                file: self,
            }),
        }
    }

    /// Leaves the file where it is, undeleted (what a killed process does); for tests of the sweep.
    #[cfg(test)]
    pub(crate) fn keep(mut self) -> (File, PathBuf) {
        self.owned = false;
        let file = self.file.try_clone().expect("a test's temp file clones"); // invariant: test-only, local file
        (file, self.path.clone())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.owned {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_file_is_removed_and_a_persisted_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let t = TempFile::new_in(dir.path(), ".x.", ".tmp").unwrap();
        let p = t.path().to_path_buf();
        assert!(p.exists() && p.file_name().unwrap().to_str().unwrap().starts_with(".x."));
        drop(t);
        assert!(!p.exists());
        let t = TempFile::new_in(dir.path(), ".x.", ".tmp").unwrap();
        io::Write::write_all(&mut t.as_file(), b"data").unwrap();
        t.persist(&dir.path().join("final")).unwrap();
        assert_eq!(fs::read(dir.path().join("final")).unwrap(), b"data");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn noclobber_never_replaces_and_hands_the_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("b.bak");
        fs::write(&target, b"old").unwrap();
        let t = TempFile::new_in(dir.path(), ".b.", ".tmp").unwrap();
        io::Write::write_all(&mut t.as_file(), b"new").unwrap();
        let back = t.persist_noclobber(&target).unwrap_err();
        assert_eq!(back.error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        let other = dir.path().join("b-1.bak");
        back.file.persist_noclobber(&other).unwrap();
        assert_eq!(fs::read(&other).unwrap(), b"new");
        // Only the two final names remain: the temporary link is gone.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn names_are_distinct_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = TempFile::new_in(dir.path(), ".p.", ".tmp").unwrap();
        let b = TempFile::new_in(dir.path(), ".p.", ".tmp").unwrap();
        assert_ne!(a.path(), b.path());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(a.path()).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
