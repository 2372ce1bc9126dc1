//! Reads the directory and applies litemigrate-core's rules; every failure becomes a `syn::Error` on the directory
//! literal whose message names the offending file.

use crate::parse::Args;
use litemigrate_core::cache;
use litemigrate_core::compile::{CompileOptions, Compiled};
use litemigrate_core::layouts::{self, Layout};
use litemigrate_core::load::{self, CodeMigration, LoadError};
use std::collections::HashSet;
use std::path::PathBuf;

/// A validated set, ready to expand.
pub struct Validated {
    /// The migrations directory, absolute.
    pub abs_dir: PathBuf,
    /// The directory as the call wrote it (without a trailing `/`): the prefix of every file's display name.
    pub rel_dir: String,
    /// What `litemigrate_core::compile` produced.
    pub compiled: Compiled,
    /// Files whose text normalization changes (a BOM or CR line ends): these cannot be embedded with
    /// `include_str!`, which would carry the raw bytes.
    pub not_verbatim: HashSet<String>,
}

pub fn validate(args: &Args) -> syn::Result<Validated> {
    compile(args, load(args)?, None)
}

/// A directory read and loaded (names, pairs, directives, checksums, code migrations), not yet compiled.
pub struct Loaded {
    abs_dir: PathBuf,
    rel: String,
    /// The migrations, in version order.
    pub set: Vec<litemigrate_core::MigrationSource>,
    not_verbatim: HashSet<String>,
}

/// Reads the directory and applies the loader's rules.
pub fn load(args: &Args) -> syn::Result<Loaded> {
    let err = |msg: String| syn::Error::new(args.dir.span(), msg);
    // `MIGRATE_MACRO_BASE_DIR` exists for the UI tests: trybuild compiles each case in a scratch crate under
    // `target/`, whose manifest directory is not where the fixtures are.
    let manifest_dir = std::env::var_os("MIGRATE_MACRO_BASE_DIR")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| err("CARGO_MANIFEST_DIR is not set; embed_migrations! must be expanded by cargo".into()))?;
    let rel = args.dir.value();
    let abs_dir = manifest_dir.join(&rel);
    let rel = rel.trim_end_matches(['/', '\\']);

    let mut files = load::read_dir(&abs_dir).map_err(|e| match e {
        LoadError::ReadDir { message, .. } => err(format!(
            "{rel}: cannot read the migrations directory ({}): {message}",
            abs_dir.display()
        )),
        other => err(other.to_string()),
    })?;
    // Name files relative to the crate, as the user wrote the directory, not by absolute path.
    let mut not_verbatim = HashSet::new();
    for f in &mut files {
        f.display = format!("{rel}/{}", f.file_name);
        if let load::Entry::File(bytes) = &f.contents
            && (bytes.starts_with("\u{feff}".as_bytes()) || bytes.contains(&b'\r'))
        {
            not_verbatim.insert(f.display.clone());
        }
    }
    let layout = match args.layout {
        Some(l) => l,
        None => layouts::detect(&files).map_err(|e| err(e.to_string()))?,
    };
    // A dbmate or goose script is a section of its file, never the file's bytes.
    if matches!(layout, Layout::Dbmate | Layout::Goose) {
        not_verbatim.extend(files.iter().map(|f| f.display.clone()));
    }
    let mut set = load::load_files_as(files, Some(layout)).map_err(|e| err(e.to_string()))?;

    let mut code = Vec::with_capacity(args.code.len());
    for c in &args.code {
        code.push(CodeMigration {
            version: c.version.base10_parse()?,
            name: c.name.value(),
            path: c.display(),
            reversible: c.down.is_some(),
        });
    }
    load::add_code_migrations(&mut set, &code).map_err(|e| {
        let span = args
            .code
            .iter()
            .find(|c| e.files().contains(&c.display().as_str()))
            .map_or(args.dir.span(), |c| c.version.span());
        syn::Error::new(span, e.to_string())
    })?;
    Ok(Loaded {
        abs_dir,
        rel: rel.to_owned(),
        set,
        not_verbatim,
    })
}

/// Compiles a loaded set (through the build cache unless a hook runs before each up: a catalog's attachments
/// depend on other directories).
pub fn compile(
    args: &Args,
    loaded: Loaded,
    before_up: Option<&mut litemigrate_core::compile::BeforeUp<'_>>,
) -> syn::Result<Validated> {
    let err = |msg: String| syn::Error::new(args.dir.span(), msg);
    let Loaded {
        abs_dir,
        rel,
        set,
        not_verbatim,
    } = loaded;
    let rel = rel.as_str();
    let options = CompileOptions {
        run_sql: args.validate_sql,
        check_down: args.check_down,
        max_steps: args.validation_steps,
    };
    let compiled = match before_up {
        Some(hook) => litemigrate_core::compile::compile_with_hook(set, &options, &args.validate_functions, hook)
            .map_err(|e| err(e.to_string()))?,
        None => {
            let cache_file = cache_file(rel, &options);
            cache::compile_cached_with(set, &options, &args.validate_functions, cache_file.as_deref())
                .map_err(|e| err(e.to_string()))?
                .compiled
        }
    };
    Ok(Validated {
        rel_dir: rel.to_owned(),
        abs_dir,
        compiled,
        not_verbatim,
    })
}

/// Where `litemigrate_core::cache` keeps this call's last result: the calling crate's `OUT_DIR`, which exists when it has
/// a build script (such as the recommended `litemigrate::build::track`). Without one, every build validates afresh.
fn cache_file(rel_dir: &str, options: &CompileOptions) -> Option<PathBuf> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR")?);
    // One file per directory (as the call names it) and options, so two calls in one crate do not evict each other.
    let id = litemigrate_core::checksum::checksum(&format!(
        "{rel_dir}\n{}{}{}",
        options.run_sql, options.check_down, options.max_steps
    ));
    Some(out_dir.join(format!("migrate-compiled-{}.bin", id.short())))
}
