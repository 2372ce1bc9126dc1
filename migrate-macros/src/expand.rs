//! Generates the static table from a validated set.
//!
//! Cost matters at 2000 files, on both sides of the macro:
//! - rustc: one static array of flat struct literals (see `migrate_runtime::table::Migration` for why the row has
//!   the shape it has: 2000 `const fn` calls, or rows of enums, `Option`s and newtypes, cost several times more),
//!   the three hashes of a row in one byte-string literal, and SQL that is byte-identical to its file as
//!   `include_str!` (rustc reads the file once, and tracks it for rebuilds). SQL that normalization or directive expansion changed is a literal, with an
//!   `include_bytes!` in an unused `const` so editing that file still reruns the macro.
//! - the macro itself runs unoptimized (proc macros build at opt-level 0, even in release), where `quote!` costs
//!   about 0.15 ms a row; the table is therefore written as text and tokenized once by rustc's lexer. Only the
//!   user's function paths (code migrations) go through `quote!`, so type errors keep pointing at the user's code.

use crate::parse::Args;
use crate::validate::Validated;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::fmt::Write;

// Spelled out: the text is lexed at the call site, where `Some`/`None` could be shadowed.
const SOME: &str = "::core::option::Option::Some";
const NONE: &str = "::core::option::Option::None";

/// The expansion in two parts: the table as text, and the items that must be tokens (user function paths, and the
/// `use` of the facade).
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
    let mut code_items = Vec::new();
    let mut tracked = String::new();
    // ~400 bytes a row; reserving avoids a dozen reallocations of a string that reaches a megabyte.
    let mut rows = String::with_capacity(set.compiled.migrations.len() * 512);
    for (i, m) in set.compiled.migrations.iter().enumerate() {
        let src = &m.source;
        let mut flags = 0u8;
        if src.up.directives.no_transaction() {
            flags |= 2;
        }
        if src.up.directives.foreign_keys_off() {
            flags |= 4;
        }
        if m.schema_hash.is_some() {
            flags |= 8;
        }
        let code = args.code.iter().find(|c| src.code && c.display() == src.up.path);
        let (up, down, code) = match code {
            Some(c) => {
                let (f, up) = (&c.up, format_ident!("__MIGRATE_CODE_UP_{}", i));
                code_items.push(quote!(const #up: #krate::__private::CodeFn = #f;));
                let down = match &c.down {
                    Some(f) => {
                        flags |= 1;
                        let ident = format_ident!("__MIGRATE_CODE_DOWN_{}", i);
                        code_items.push(quote!(const #ident: #krate::__private::CodeFn = #f;));
                        format!("{SOME}({ident})")
                    }
                    None => NONE.to_owned(),
                };
                let code = format!("{SOME}(&{p}::Code {{ name: {:?}, up: {up}, down: {down} }})", src.name);
                (r#""""#.to_owned(), r#""""#.to_owned(), code)
            }
            None => {
                let up = sql(set, &mut tracked, &src.up.path, &m.up_sql, &src.up.sql);
                let down = match (&src.down, &m.down_sql) {
                    (Some(d), Some(down_sql)) => {
                        flags |= 1;
                        sql(set, &mut tracked, &d.path, down_sql, &d.sql)
                    }
                    _ => r#""""#.to_owned(),
                };
                (up, down, NONE.to_owned())
            }
        };
        rows.push_str(p);
        // `write!` into a String cannot fail.
        let _ = write!(
            rows,
            "::Migration {{ version: {}, file: {:?}, up: {up}, down: {down}, hashes: b\"",
            src.version, src.up.path,
        );
        push_escaped(&mut rows, src.checksum.as_bytes());
        push_escaped(&mut rows, src.chain.as_bytes());
        push_escaped(&mut rows, m.schema_hash.unwrap_or_default().as_bytes());
        let _ = writeln!(rows, "\", flags: {flags}, code: {code} }},");
    }

    let set_name = args.set.as_ref().map_or_else(|| "default".to_owned(), |s| s.value());
    let table = format!(
        "const _: &[&[u8]] = &[{tracked}];\n\
         static __MIGRATE_TABLE: [{p}::Migration; {n}] = [{rows}];\n\
         {p}::Migrations::__embedded({set_name:?}, &__MIGRATE_TABLE, {final_schema}, {sqlite_version})",
        n = set.compiled.migrations.len(),
        final_schema = opt_str(set.compiled.final_schema.as_deref()),
        sqlite_version = opt_str(set.compiled.sqlite_version.as_deref()),
    );

    #[cfg(feature = "nightly")]
    if let Some(dir) = set.abs_dir.to_str() {
        proc_macro::tracked_path::path(dir);
    }

    let items = quote! {
        use #krate::__private as __migrate_private;
        #(#code_items)*
    };
    Expansion { items, table }
}

/// `include_str!(file)` when the SQL is the file's bytes, else a literal plus a tracking include.
fn sql(set: &Validated, tracked: &mut String, path: &str, text: &str, file_text: &str) -> String {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let abs = set.abs_dir.join(file_name).to_string_lossy().into_owned();
    if text == file_text && !set.not_verbatim.contains(path) {
        format!("::core::include_str!({abs:?})")
    } else {
        // `write!` into a String cannot fail.
        let _ = write!(tracked, "::core::include_bytes!({abs:?}),");
        format!("{text:?}")
    }
}

/// Appends `bytes` as `\xHH` escapes for a byte-string literal. By hand rather than `write!`: the macro runs
/// unoptimized, where formatting 200 000 bytes one `write!` at a time is measurable.
fn push_escaped(s: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push('\\');
        s.push('x');
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
}

fn opt_str(s: Option<&str>) -> String {
    s.map_or_else(|| NONE.to_owned(), |s| format!("{SOME}({s:?})"))
}
