//! Remembers what [`compile`](crate::compile::compile) produced for an exact set of inputs, so a rebuild that did
//! not touch the migrations does not run them again.
//!
//! `embed_migrations!` runs on every build of the crate that calls it (any edit to any of its files, `cargo check`,
//! rust-analyzer), and running 2000 migrations in SQLite and proving their downs takes seconds. The result depends
//! only on what [`key`] hashes: every source (version, name, paths, normalized text, code flag), the options, the
//! SQLite version, and this crate's own source code. The macro keeps one file per migrations directory in the
//! calling crate's `OUT_DIR` (crates with a build script, e.g. the recommended `litemigrate::build::track`); a file with
//! another key, or one that does not decode, is ignored and replaced. Failed compiles are not cached: their errors
//! are computed again each time.
//!
//! ```
//! use litemigrate_core::{cache, compile::CompileOptions, load::{Entry, SourceFile, load_files}};
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("compiled.bin");
//! let sources = || load_files(vec![SourceFile {
//!     file_name: "1_a.sql".into(),
//!     display: "m/1_a.sql".into(),
//!     contents: Entry::File(b"CREATE TABLE a(x);".to_vec()),
//! }]).unwrap();
//! let opts = CompileOptions::default();
//! let first = cache::compile_cached(sources(), &opts, Some(&file)).unwrap();
//! assert!(!first.from_cache);
//! let second = cache::compile_cached(sources(), &opts, Some(&file)).unwrap();
//! assert!(second.from_cache);
//! assert_eq!(first.compiled.migrations[0].schema_hash, second.compiled.migrations[0].schema_hash);
//! ```

use crate::Checksum;
use crate::compile::{self, CompileError, CompileOptions, Compiled, CompiledMigration};
use crate::load::MigrationSource;
use sha2::{Digest, Sha256};
use std::path::Path;

const MAGIC: &[u8] = b"migrate compile cache 1\n";

/// What [`compile_cached`] returns.
#[derive(Debug)]
pub struct Cached {
    /// The compiled set.
    pub compiled: Compiled,
    /// Whether it came from the cache file.
    pub from_cache: bool,
}

/// The hash of every input that decides what `compile` produces.
pub fn key(set: &[MigrationSource], opts: &CompileOptions) -> Checksum {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(MAGIC);
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(env!("MIGRATE_CORE_SOURCE_HASH").as_bytes());
    field(rusqlite::version().as_bytes());
    field(&[u8::from(opts.run_sql), u8::from(opts.check_down)]);
    field(&opts.max_steps.to_le_bytes());
    for m in set {
        field(&m.version.to_le_bytes());
        field(&[u8::from(m.code)]);
        field(m.name.as_bytes());
        field(m.up.path.as_bytes());
        field(m.up.sql.as_bytes());
        match &m.down {
            Some(d) => {
                field(b"down");
                field(d.path.as_bytes());
                field(d.sql.as_bytes());
            }
            None => field(b"no down"),
        }
    }
    Checksum(h.finalize().into())
}

/// [`compile::compile`], answered from `file` when it holds the result for these exact inputs, and stored there
/// after a successful compile. Reading or writing the file never fails the compile: a cache that cannot be used is
/// a cache miss.
pub fn compile_cached(
    set: Vec<MigrationSource>,
    opts: &CompileOptions,
    file: Option<&Path>,
) -> Result<Cached, CompileError> {
    compile_cached_with(set, opts, &[], file)
}

/// [`compile_cached`] with functions declared to exist during validation (part of the cache key).
pub fn compile_cached_with(
    set: Vec<MigrationSource>,
    opts: &CompileOptions,
    stubs: &[compile::FunctionStub],
    file: Option<&Path>,
) -> Result<Cached, CompileError> {
    // Without SQL execution compiling is cheaper than reading a file.
    let Some(file) = file.filter(|_| opts.run_sql) else {
        return Ok(Cached {
            compiled: compile::compile_with(set, opts, stubs)?,
            from_cache: false,
        });
    };
    let mut key = key(&set, opts);
    if !stubs.is_empty() {
        let declared: Vec<String> = stubs.iter().map(ToString::to_string).collect();
        key = crate::checksum::sha256(format!("{key:?}\n{}", declared.join(",")).as_bytes());
    }
    if let Some(bytes) = std::fs::read(file).ok()
        && let Some(parts) = decode(&bytes, &key, &set)
    {
        return Ok(Cached {
            compiled: parts.assemble(set),
            from_cache: true,
        });
    }
    let compiled = compile::compile_with(set, opts, stubs)?;
    // Written to a temporary name and renamed, so a concurrent build never reads half a file.
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, encode(&key, &compiled)).is_ok() && std::fs::rename(&tmp, file).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(Cached {
        compiled,
        from_cache: false,
    })
}

fn encode(key: &Checksum, c: &Compiled) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(&(c.migrations.len() as u64).to_le_bytes());
    for m in &c.migrations {
        put_opt(&mut out, m.schema_hash.as_ref().map(|h| h.as_bytes().as_slice()));
        // Most SQL is the file's text; only expanded SQL (directives) is stored.
        put_opt(&mut out, (m.up_sql != m.source.up.sql).then_some(m.up_sql.as_bytes()));
        let same_down = m.down_sql.as_deref() == m.source.down.as_ref().map(|d| d.sql.as_str());
        out.push(match (&m.down_sql, same_down) {
            (None, _) => 0,
            (Some(_), true) => 1,
            (Some(_), false) => 2,
        });
        if let (Some(d), false) = (&m.down_sql, same_down) {
            put(&mut out, d.as_bytes());
        }
    }
    put_opt(&mut out, c.final_schema.as_deref().map(str::as_bytes));
    put_opt(&mut out, c.sqlite_version.as_deref().map(str::as_bytes));
    out
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn put_opt(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            out.push(1);
            put(out, b);
        }
        None => out.push(0),
    }
}

/// The decoded per-migration results, to be joined with the sources they were computed from.
struct Parts {
    migrations: Vec<(Option<Checksum>, Option<String>, DownSql)>,
    final_schema: Option<String>,
    sqlite_version: Option<String>,
}

enum DownSql {
    None,
    Source,
    Text(String),
}

impl Parts {
    fn assemble(self, set: Vec<MigrationSource>) -> Compiled {
        let migrations = set
            .into_iter()
            .zip(self.migrations)
            .map(|(source, (schema_hash, up, down))| CompiledMigration {
                up_sql: up.unwrap_or_else(|| source.up.sql.clone()),
                down_sql: match down {
                    DownSql::None => None,
                    DownSql::Source => source.down.as_ref().map(|d| d.sql.clone()),
                    DownSql::Text(t) => Some(t),
                },
                schema_hash,
                source,
            })
            .collect();
        Compiled {
            migrations,
            final_schema: self.final_schema,
            sqlite_version: self.sqlite_version,
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.byte()? {
            0 => Some(None),
            1 => read(self).map(Some),
            _ => None,
        }
    }
}

fn decode(bytes: &[u8], key: &Checksum, set: &[MigrationSource]) -> Option<Parts> {
    let mut r = Reader(bytes);
    if r.take(MAGIC.len())? != MAGIC || r.take(32)? != key.as_bytes() {
        return None;
    }
    let n = usize::try_from(r.u64()?).ok()?;
    if n != set.len() {
        return None;
    }
    let mut migrations = Vec::with_capacity(n);
    for _ in 0..n {
        let schema_hash = r.opt(|r| Some(Checksum(r.bytes()?.try_into().ok()?)))?;
        let up = r.opt(Reader::string)?;
        let down = match r.byte()? {
            0 => DownSql::None,
            1 => DownSql::Source,
            2 => DownSql::Text(r.string()?),
            _ => return None,
        };
        migrations.push((schema_hash, up, down));
    }
    let final_schema = r.opt(Reader::string)?;
    let sqlite_version = r.opt(Reader::string)?;
    r.0.is_empty().then_some(Parts {
        migrations,
        final_schema,
        sqlite_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_in_memory;

    fn sources(files: &[(&str, &str)]) -> Vec<MigrationSource> {
        load_in_memory("m", files).unwrap()
    }

    const FILES: &[(&str, &str)] = &[
        ("1_a.up.sql", "CREATE TABLE a(id INTEGER PRIMARY KEY, x TEXT);\n"),
        ("1_a.down.sql", "DROP TABLE a;\n"),
        (
            "2_docs.sql",
            "-- migrate:fts5 docs_fts content=a content_rowid=id columns=x\nCREATE INDEX a_x ON a(x);\n",
        ),
    ];

    fn same(a: &Compiled, b: &Compiled) {
        assert_eq!(a.migrations.len(), b.migrations.len());
        for (x, y) in a.migrations.iter().zip(&b.migrations) {
            assert_eq!(
                (&x.source, &x.up_sql, &x.down_sql, x.schema_hash),
                (&y.source, &y.up_sql, &y.down_sql, y.schema_hash)
            );
        }
        assert_eq!(
            (&a.final_schema, &a.sqlite_version),
            (&b.final_schema, &b.sqlite_version)
        );
    }

    #[test]
    fn a_hit_restores_exactly_what_compile_produced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.bin");
        let opts = CompileOptions::default();
        let fresh = compile_cached(sources(FILES), &opts, Some(&file)).unwrap();
        assert!(!fresh.from_cache);
        let hit = compile_cached(sources(FILES), &opts, Some(&file)).unwrap();
        assert!(hit.from_cache);
        same(&fresh.compiled, &hit.compiled);
        // The fts5 directive expands the up SQL: the expansion is stored, not recomputed from the file.
        assert_ne!(
            hit.compiled.migrations[1].up_sql,
            hit.compiled.migrations[1].source.up.sql
        );
    }

    #[test]
    fn any_input_change_misses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.bin");
        let opts = CompileOptions::default();
        compile_cached(sources(FILES), &opts, Some(&file)).unwrap();
        let mut edited = FILES.to_vec();
        edited[1] = ("1_a.down.sql", "DROP TABLE IF EXISTS a;\n");
        assert!(!compile_cached(sources(&edited), &opts, Some(&file)).unwrap().from_cache);
        let no_downs = CompileOptions {
            check_down: false,
            ..opts
        };
        assert!(
            !compile_cached(sources(&edited), &no_downs, Some(&file))
                .unwrap()
                .from_cache
        );
        // A failing set is never cached, and the error is the compile's own.
        let broken = [("1_a.sql", "CREATE INDEX i ON missing(x);\n")];
        for _ in 0..2 {
            let err = compile_cached(sources(&broken), &opts, Some(&file)).unwrap_err();
            assert!(err.to_string().contains("missing"), "{err}");
        }
    }

    #[test]
    fn a_damaged_or_foreign_file_is_a_miss_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.bin");
        let opts = CompileOptions::default();
        let fresh = compile_cached(sources(FILES), &opts, Some(&file)).unwrap();
        let good = std::fs::read(&file).unwrap();
        for damaged in [Vec::new(), good[..good.len() - 1].to_vec(), b"not a cache".to_vec(), {
            let mut g = good.clone();
            g.push(0);
            g
        }] {
            std::fs::write(&file, &damaged).unwrap();
            let again = compile_cached(sources(FILES), &opts, Some(&file)).unwrap();
            assert!(!again.from_cache);
            same(&fresh.compiled, &again.compiled);
        }
        // An unwritable location only costs the cache.
        let nowhere = dir.path().join("missing-dir").join("c.bin");
        assert!(
            !compile_cached(sources(FILES), &opts, Some(&nowhere))
                .unwrap()
                .from_cache
        );
    }
}
