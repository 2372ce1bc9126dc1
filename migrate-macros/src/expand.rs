//! Generates the static table from a validated set.
//!
//! Cost matters at 2000 files, on both sides of the macro:
//! - rustc: one static array of flat struct literals (see `litemigrate_runtime::table::Migration` for why the row has
//!   the shape it has: 2000 `const fn` calls, or rows of enums, `Option`s and newtypes, cost several times more),
//!   the three hashes of a row in one byte-string literal, and SQL that is byte-identical to its file as
//!   `include_str!` (rustc reads the file once, and tracks it for rebuilds). SQL that normalization or directive expansion changed is a literal, with an
//!   `include_bytes!` in an unused `const` so editing that file still reruns the macro.
//! - the macro itself runs unoptimized (proc macros build at opt-level 0, even in release), where `quote!` costs
//!   about 0.15 ms a row; the table is therefore written as text and tokenized once by rustc's lexer. Only the
//!   user's function paths (code migrations) go through `quote!`, so type errors keep pointing at the user's code.

use crate::parse::Args;
use crate::validate::Validated;
use litemigrate_core::layout::{self, STRIDE};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::fmt::Write;

// Spelled out: the text is lexed at the call site, where `Some`/`None` could be shadowed.
const SOME: &str = "::core::option::Option::Some";
const NONE: &str = "::core::option::Option::None";

/// The expansion in two parts: the table as text, and the items that must be tokens (user function paths, the
/// `use` of the facade, and the two big literals, which `proc_macro`'s own constructors escape far faster than this
/// unoptimized macro could).
pub struct Expansion {
    pub items: TokenStream,
    pub table: String,
}

impl Expansion {
    /// Joins the parts. The text goes straight to rustc's lexer (`proc_macro::TokenStream::from_str`): proc_macro2's
    /// `FromStr` would first re-lex it with its own, unoptimized, lexer.
    pub fn into_tokens(self, args: &Args) -> proc_macro::TokenStream {
        let table: proc_macro::TokenStream = match self.table.parse() {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("internal error: the generated table does not lex: {e}");
                return syn::Error::new(args.dir.span(), msg).to_compile_error().into();
            }
        };
        let table = TokenStream::from(table);
        let items = self.items;
        quote!({ #items #table }).into()
    }
}

pub fn expand(args: &Args, set: &Validated) -> Expansion {
    let krate = &args.krate;
    // `$crate` does not survive a round trip through text, so the text names the facade through an alias that a
    // token-built `use` brings into the block's scope.
    let p = "__migrate_private";
    let n = set.compiled.migrations.len();
    let mut code_items = Vec::new();
    let mut code_rows = String::new();
    let mut n_code = 0usize;
    let mut tracked = String::new();
    // ~110 bytes of text a migration for its two `include_str!`s.
    let mut sql = String::with_capacity(n * 128);
    let mut meta = Vec::with_capacity(n * STRIDE);
    let mut files = String::with_capacity(n * 40);
    for (i, m) in set.compiled.migrations.iter().enumerate() {
        let src = &m.source;
        let reversible = match args.code.iter().find(|c| src.code && c.display() == src.up.path) {
            Some(c) => {
                let (f, up) = (&c.up, format_ident!("__MIGRATE_CODE_UP_{}", i));
                code_items.push(quote!(const #up: #krate::__private::CodeFn = #f;));
                let down = match &c.down {
                    Some(f) => {
                        let ident = format_ident!("__MIGRATE_CODE_DOWN_{}", i);
                        code_items.push(quote!(const #ident: #krate::__private::CodeFn = #f;));
                        format!("{SOME}({ident})")
                    }
                    None => NONE.to_owned(),
                };
                // `write!` into a String cannot fail.
                let _ = write!(
                    code_rows,
                    "{p}::Code {{ version: {}, name: {:?}, up: {up}, down: {down} }},",
                    src.version, src.name
                );
                n_code += 1;
                sql.push_str("\"\", \"\",\n");
                c.down.is_some()
            }
            None => {
                sql.push_str(&sql_expr(set, &mut tracked, &src.up.path, &m.up_sql, &src.up.sql));
                sql.push_str(", ");
                let reversible = match (&src.down, &m.down_sql) {
                    (Some(d), Some(down_sql)) => {
                        sql.push_str(&sql_expr(set, &mut tracked, &d.path, down_sql, &d.sql));
                        true
                    }
                    _ => {
                        sql.push_str("\"\"");
                        false
                    }
                };
                sql.push_str(",\n");
                reversible
            }
        };
        let flags = layout::flags_of(src, reversible, m.schema_hash.is_some());
        let schema_hash = m.schema_hash.unwrap_or_default();
        layout::push(
            &mut meta,
            &mut files,
            src.version,
            flags,
            &src.up.path,
            [&src.checksum, &src.chain, &schema_hash],
        );
    }

    let set_name = args
        .set
        .as_ref()
        .map_or_else(|| layout::DEFAULT_SET.to_owned(), |s| s.value());
    let table = format!(
        "const _: &[&[u8]] = &[{tracked}];\n\
         static __MIGRATE_SQL: [&str; {n2}] = [{sql}];\n\
         static __MIGRATE_CODE: [{p}::Code; {ncode}] = [{code_rows}];\n\
         {p}::Migrations::__embedded({set_name:?}, &__MIGRATE_SQL, __MIGRATE_META, __MIGRATE_FILES, &__MIGRATE_CODE, \
         {final_schema}, {sqlite_version})",
        n2 = 2 * n,
        ncode = n_code,
        final_schema = opt_str(set.compiled.final_schema.as_deref()),
        sqlite_version = opt_str(set.compiled.sqlite_version.as_deref()),
    );

    // Tracking the directory makes a new file rerun the macro without a build script (nightly only; the API was
    // `tracked_path::path` until rust-lang/rust#149400, late 2025, and is `tracked::path` since).
    #[cfg(feature = "nightly")]
    proc_macro::tracked::path(&set.abs_dir);

    let meta = proc_macro2::Literal::byte_string(&meta);
    let files = proc_macro2::Literal::string(&files);
    let items = quote! {
        use #krate::__private as __migrate_private;
        static __MIGRATE_META: &[u8] = #meta;
        static __MIGRATE_FILES: &str = #files;
        #(#code_items)*
    };
    Expansion { items, table }
}

/// `include_str!(file)` when the SQL is the file's bytes, else a literal plus a tracking include.
fn sql_expr(set: &Validated, tracked: &mut String, path: &str, text: &str, file_text: &str) -> String {
    // Relative to the directory, not just the last component: a diesel file is `{dir}/{migration}/up.sql`.
    let file_name = path
        .strip_prefix(set.rel_dir.as_str())
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
    let abs = set.abs_dir.join(file_name).to_string_lossy().into_owned();
    if text == file_text && !set.not_verbatim.contains(path) {
        format!("::core::include_str!({abs:?})")
    } else {
        // `write!` into a String cannot fail.
        let _ = write!(tracked, "::core::include_bytes!({abs:?}),");
        format!("{text:?}")
    }
}

fn opt_str(s: Option<&str>) -> String {
    s.map_or_else(|| NONE.to_owned(), |s| format!("{SOME}({s:?})"))
}
