//! Generates the static table from a validated set.
//!
//! Cost matters at 2000 files, so the output is what rustc handles cheapest: one static array of struct literals
//! (not `const fn` calls), hashes as one byte-string literal each (not 32 integer tokens), and SQL that is
//! byte-identical to its file as `include_str!` (rustc reads the file once, and tracks it for rebuilds). Only SQL
//! that normalization or directive expansion changed is emitted as a literal, with an `include_bytes!` in an unused
//! `const` so editing that file still reruns the macro.

use crate::parse::Args;
use crate::validate::Validated;
use migrate_core::Checksum;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

pub fn expand(args: &Args, set: &Validated) -> TokenStream {
    let krate = &args.krate;
    let private = quote!(#krate::__private);
    let cow = quote!(::std::borrow::Cow::Borrowed);
    let some = quote!(::core::option::Option::Some);
    let none = quote!(::core::option::Option::None);

    let mut tracked = Vec::new();
    // Embeds a script: `include_str!` when the SQL is the file's bytes, else a literal plus a tracking include.
    let mut sql = |path: &str, text: &str, file_text: &str| {
        let abs = file_path(set, path);
        if text == file_text && !set.not_verbatim.contains(path) {
            quote!(#cow(::core::include_str!(#abs)))
        } else {
            tracked.push(abs);
            quote!(#cow(#text))
        }
    };

    let mut rows = Vec::with_capacity(set.compiled.migrations.len());
    for m in &set.compiled.migrations {
        let src = &m.source;
        let version = Literal::u64_suffixed(src.version);
        let name = &src.name;
        let up_file = &src.up.path;
        let code = args.code.iter().find(|c| src.code && c.display() == src.up.path);
        let up = match code {
            Some(c) => {
                let f = &c.up;
                quote!(#private::Up::Code(#f))
            }
            None => {
                let up = sql(&src.up.path, &m.up_sql, &src.up.sql);
                quote!(#private::Up::Sql(#up))
            }
        };
        let (down_file, down) = match (code, &src.down, &m.down_sql) {
            (Some(c), _, _) => match &c.down {
                Some(f) => (quote!(#none), quote!(#some(#private::Down::Code(#f)))),
                None => (quote!(#none), quote!(#none)),
            },
            (None, Some(d), Some(down_sql)) => {
                let path = &d.path;
                let down = sql(&d.path, down_sql, &d.sql);
                (quote!(#some(#cow(#path))), quote!(#some(#private::Down::Sql(#down))))
            }
            _ => (quote!(#none), quote!(#none)),
        };
        let checksum = hash(&private, &src.checksum);
        let chain = hash(&private, &src.chain);
        let schema_hash = match &m.schema_hash {
            Some(h) => {
                let h = hash(&private, h);
                quote!(#some(#h))
            }
            None => none.clone(),
        };
        let no_transaction = src.up.directives.no_transaction();
        let foreign_keys_off = src.up.directives.foreign_keys_off();
        rows.push(quote! {
            #private::Migration {
                version: #version,
                name: #cow(#name),
                up_file: #cow(#up_file),
                up: #up,
                down_file: #down_file,
                down: #down,
                checksum: #checksum,
                chain: #chain,
                schema_hash: #schema_hash,
                no_transaction: #no_transaction,
                foreign_keys_off: #foreign_keys_off,
            }
        });
    }

    let n = rows.len();
    let set_name = args.set.as_ref().map_or_else(|| "default".to_owned(), |s| s.value());
    let final_schema = opt_str(set.compiled.final_schema.as_deref());
    let sqlite_version = opt_str(set.compiled.sqlite_version.as_deref());

    #[cfg(feature = "nightly")]
    if let Some(dir) = set.abs_dir.to_str() {
        proc_macro::tracked_path::path(dir);
    }

    quote! {
        {
            const _: &[&[u8]] = &[#(::core::include_bytes!(#tracked)),*];
            static __MIGRATE_TABLE: [#private::Migration; #n] = [#(#rows),*];
            #private::Migrations::__embedded(#set_name, &__MIGRATE_TABLE, #final_schema, #sqlite_version)
        }
    }
}

fn file_path(set: &Validated, display: &str) -> String {
    let file_name = display.rsplit('/').next().unwrap_or(display);
    set.abs_dir.join(file_name).to_string_lossy().into_owned()
}

fn hash(private: &TokenStream, h: &Checksum) -> TokenStream {
    let lit = Literal::byte_string(h.as_bytes());
    quote!(#private::Checksum(*#lit))
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}
