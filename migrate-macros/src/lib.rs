//! The `embed_migrations!` proc macro. Use it through the `migrate` facade (`litemigrate::embed_migrations!`), which
//! passes `$crate` in so the generated code resolves even when the application depends only on `migrate`.
//!
//! The macro is deliberately thin: `parse` reads the arguments, `validate` reads the directory and applies the
//! rules of `litemigrate-core` (naming, pairing, directives, checksums, then running every script against an in-memory
//! SQLite and proving the down scripts), and `expand` turns the result into a static table.
#![cfg_attr(feature = "nightly", feature(proc_macro_tracked_path))]
#![forbid(unsafe_code)]

mod databases;
mod expand;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Embeds and validates a migrations directory. See `litemigrate::embed_migrations!` for the documentation.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as parse::Args);
    match validate::validate(&args) {
        Ok(set) => expand::expand(&args, &set).into_tokens(&args),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Embeds and validates a catalog of databases, one migrations subdirectory each. See
/// `litemigrate::embed_databases!` for the documentation.
#[proc_macro]
pub fn embed_databases(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as databases::CatalogArgs);
    match databases::embed(&args) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}
