//! Generates the static table from a validated set.
//!
//! Cost matters at 2000 files: hashes are emitted as one byte-string literal each (not 32 integer tokens), SQL as one
//! string literal, and every file is tracked by a single unused `const` of `include_bytes!`s, so editing a file
//! reruns the macro without the bytes being embedded twice.

use crate::parse::Args;
use crate::validate::Validated;
use migrate_core::Checksum;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

pub fn expand(args: &Args, set: &Validated) -> TokenStream {
    let krate = &args.krate;
    let private = quote!(#krate::__private);
    let cow = quote!(::std::borrow::Cow::Borrowed);

    let mut tracked = Vec::new();
    let mut rows = Vec::with_capacity(set.compiled.migrations.len());
    for m in &set.compiled.migrations {
        let src = &m.source;
        let version = Literal::u64_suffixed(src.version);
        let name = &src.name;
        let up_file = &src.up.path;
        let code = args.code.iter().find(|c| c.display() == src.up.path);
        let up = match code {
            Some(c) => {
                let f = &c.up;
                quote!(#private::Up::Code(#f))
            }
            None => {
                tracked.push(file_path(set, &src.up.path));
                let sql = &m.up_sql;
                quote!(#private::Up::Sql(#cow(#sql)))
            }
        };
        let (down_file, down) = match (code, &src.down, &m.down_sql) {
            (Some(c), _, _) => match &c.down {
                Some(f) => (quote!(::core::option::Option::None), quote!(::core::option::Option::Some(#private::Down::Code(#f)))),
                None => (quote!(::core::option::Option::None), quote!(::core::option::Option::None)),
            },
            (None, Some(d), Some(sql)) => {
                tracked.push(file_path(set, &d.path));
                let path = &d.path;
                (
                    quote!(::core::option::Option::Some(#path)),
                    quote!(::core::option::Option::Some(#private::Down::Sql(#cow(#sql)))),
                )
            }
            _ => (quote!(::core::option::Option::None), quote!(::core::option::Option::None)),
        };
        let checksum = hash(&src.checksum);
        let chain = hash(&src.chain);
        let schema_hash = match &m.schema_hash {
            Some(h) => {
                let h = hash(h);
                quote!(::core::option::Option::Some(#h))
            }
            None => quote!(::core::option::Option::None),
        };
        let no_tx = src.up.directives.no_transaction();
        let fk_off = src.up.directives.foreign_keys_off();
        rows.push(quote! {
            #private::Migration::__embedded(
                #version, #name, #up_file, #up, #down_file, #down, #checksum, #chain, #schema_hash, #no_tx, #fk_off,
            )
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

fn hash(h: &Checksum) -> TokenStream {
    let lit = Literal::byte_string(h.as_bytes());
    quote!(*#lit)
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}
