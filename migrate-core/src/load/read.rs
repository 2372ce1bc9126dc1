//! Where the loader's files come from: a directory on disk or an `include_dir::Dir`, read without interpreting them.

use super::{Entry, LoadError, MigrationSource, SourceFile, load_files, load_files_as};
use crate::layouts::Layout;
use crate::name::{self, NameError};
use std::path::Path;

/// Loads and validates a migrations directory on disk. Files are named `dir/file` in errors.
///
/// ```no_run
/// let set = litemigrate_core::load::load_dir("migrations".as_ref()).unwrap();
/// println!("{} migrations, newest {:?}", set.len(), set.last().map(|m| m.version));
/// ```
pub fn load_dir(dir: &Path) -> Result<Vec<MigrationSource>, LoadError> {
    load_files(read_dir(dir)?)
}

/// [`load_dir`] in a named layout (`Some`) or the detected one (`None`).
pub fn load_dir_as(dir: &Path, layout: Option<Layout>) -> Result<Vec<MigrationSource>, LoadError> {
    load_files_as(read_dir(dir)?, layout)
}

/// Reads a directory's entries for [`load_files`], without interpreting them. A subdirectory is listed as an
/// [`Entry::Dir`] followed by its own entries, named `sub/file` (one level: diesel's layout); which layout accepts
/// them is the loader's decision.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, LoadError> {
    let mut files = read_level(dir, "")?;
    let subdirs: Vec<(String, std::path::PathBuf)> = files
        .iter()
        .filter(|f| matches!(f.contents, Entry::Dir))
        .map(|f| (f.file_name.clone(), dir.join(&f.file_name)))
        .collect();
    for (name, path) in subdirs {
        files.extend(read_level(&path, &name)?);
    }
    Ok(files)
}

/// The entries of one directory; `prefix` (a subdirectory's name) is put before each file name.
fn read_level(dir: &Path, prefix: &str) -> Result<Vec<SourceFile>, LoadError> {
    let read_err = |e: std::io::Error| LoadError::ReadDir {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let display = path.display().to_string();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            // A non-UTF-8 name can never match the pattern; report it rather than skip it.
            return Err(LoadError::BadName {
                file: display,
                reason: NameError::NotSql,
            });
        };
        if name::is_ignored(&file_name) {
            continue;
        }
        // The entry's type comes with the listing (no `stat` per file, which is measurable at 4000 files); only a
        // symlink is followed, so a linked migration file is read like any other.
        let file_type = entry.file_type().map_err(read_err)?;
        let is_dir = if file_type.is_symlink() {
            path.is_dir()
        } else {
            file_type.is_dir()
        };
        // A FIFO, socket or device would block the read (or never end): refuse anything but a regular file.
        let is_file = if file_type.is_symlink() {
            path.is_file()
        } else {
            file_type.is_file()
        };
        let contents = if is_dir {
            Entry::Dir
        } else if !is_file {
            return Err(LoadError::ReadFile {
                file: display,
                message: "not a regular file (a FIFO, socket or device); migrations must be regular files".into(),
            });
        } else {
            Entry::File(std::fs::read(&path).map_err(|e| LoadError::ReadFile {
                file: display.clone(),
                message: e.to_string(),
            })?)
        };
        let file_name = if prefix.is_empty() {
            file_name
        } else {
            format!("{prefix}/{file_name}")
        };
        files.push(SourceFile {
            file_name,
            display,
            contents,
        });
    }
    Ok(files)
}

/// Lists the entries of an `include_dir::Dir` for [`load_files`] (feature `include-dir`), so a directory embedded
/// with `include_dir!` is held to exactly the rules the macro applies. Files are named by their path inside the
/// embedded directory.
///
/// ```
/// static DIR: include_dir::Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../examples/todo/migrations");
/// let set = litemigrate_core::load::load_files(litemigrate_core::load::read_include_dir(&DIR)).unwrap();
/// assert_eq!(set[0].name, "create_todos");
/// ```
#[cfg(feature = "include-dir")]
pub fn read_include_dir(dir: &include_dir::Dir<'_>) -> Vec<SourceFile> {
    let mut files = include_level(dir, "");
    for entry in dir.entries() {
        if let include_dir::DirEntry::Dir(sub) = entry
            && let Some(name) = sub.path().file_name()
            && !name::is_ignored(&name.to_string_lossy())
        {
            files.extend(include_level(sub, &name.to_string_lossy()));
        }
    }
    files
}

#[cfg(feature = "include-dir")]
fn include_level(dir: &include_dir::Dir<'_>, prefix: &str) -> Vec<SourceFile> {
    dir.entries()
        .iter()
        .filter_map(|entry| {
            let path = entry.path();
            let file_name = path.file_name()?.to_string_lossy().into_owned();
            let file_name = if prefix.is_empty() {
                file_name
            } else {
                format!("{prefix}/{file_name}")
            };
            let contents = match entry {
                include_dir::DirEntry::Dir(_) => Entry::Dir,
                include_dir::DirEntry::File(f) => Entry::File(f.contents().to_vec()),
            };
            Some(SourceFile {
                file_name,
                display: path.display().to_string(),
                contents,
            })
        })
        .collect()
}
