//! The macro's rows, fixtures and lint options, and what the user sees of lint findings.
//!
//! Proc macros cannot emit warnings on stable Rust, so a finding becomes a use of a `#[deprecated]` constant whose
//! note is the finding: rustc prints it as an ordinary warning (`warning: use of deprecated constant
//! `lint_drop_table`: migrations/0002_x.sql:3: [drop-table] …`) pointing at the `embed_migrations!` call, `cargo
//! build` shows it once per build (it is not cached away while it stands), and `#![deny(warnings)]` or `-D warnings`
//! in CI turns it into an error like any other warning. A denied finding (`deny = [...]`) is a compile error.

use litemigrate_core::compile::{Analysis, Fixture};
use litemigrate_core::lint::{Finding, LintOptions, SqliteVersion};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote_spanned};
use std::path::Path;
use syn::parse::ParseStream;
use syn::{Ident, LitBool, LitStr, Token, bracketed};

/// The options as written.
#[derive(Default)]
pub struct AnalysisArgs {
    /// `rows = false`.
    pub no_rows: bool,
    /// `fixtures = "dir"`.
    pub fixtures: Option<LitStr>,
    /// `allow = ["id", …]`.
    pub allow: Vec<LitStr>,
    /// `deny = ["id", …]`.
    pub deny: Vec<LitStr>,
    /// `min_sqlite = "3.35"`.
    pub min_sqlite: Option<LitStr>,
}

impl AnalysisArgs {
    /// Parses the value of `key` if it is one of these options; `false` for other keys.
    pub fn parse_option(&mut self, key: &Ident, input: ParseStream) -> syn::Result<bool> {
        match key.to_string().as_str() {
            "rows" => self.no_rows = !input.parse::<LitBool>()?.value,
            "fixtures" => self.fixtures = Some(input.parse()?),
            "min_sqlite" => self.min_sqlite = Some(input.parse()?),
            "allow" => self.allow = ids(input)?,
            "deny" => self.deny = ids(input)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The analysis to compile with; `manifest_dir` resolves `fixtures`.
    pub fn analysis(&self, manifest_dir: &Path) -> syn::Result<(Analysis, Vec<String>)> {
        for id in self.allow.iter().chain(&self.deny) {
            if !litemigrate_core::lint::RULES.iter().any(|r| r.id == id.value()) {
                let known: Vec<&str> = litemigrate_core::lint::RULES.iter().map(|r| r.id).collect();
                return Err(syn::Error::new(
                    id.span(),
                    format!("unknown lint id `{}`; known ids: {}", id.value(), known.join(", ")),
                ));
            }
        }
        let min_sqlite = match &self.min_sqlite {
            Some(v) => Some(SqliteVersion::parse(&v.value()).ok_or_else(|| {
                syn::Error::new(v.span(), "expected a SQLite version such as \"3.35\" or \"3.35.5\"")
            })?),
            None => None,
        };
        let (fixtures, tracked) = match &self.fixtures {
            Some(dir) => read_fixtures(manifest_dir, dir)?,
            None => (Vec::new(), Vec::new()),
        };
        let analysis = Analysis {
            generate: !self.no_rows,
            fixtures,
            lint: LintOptions {
                allow: self.allow.iter().map(LitStr::value).collect(),
                deny: self.deny.iter().map(LitStr::value).collect(),
                min_sqlite,
            },
            stubs: Vec::new(),
        };
        Ok((analysis, tracked))
    }
}

fn ids(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    let content;
    bracketed!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        out.push(content.parse()?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(out)
}

/// The fixtures and their absolute paths (to track).
fn read_fixtures(manifest_dir: &Path, dir: &LitStr) -> syn::Result<(Vec<Fixture>, Vec<String>)> {
    let rel = dir.value();
    let rel = rel.trim_end_matches(['/', '\\']);
    let read = litemigrate_core::compile::rows::read_fixtures(&manifest_dir.join(rel), rel)
        .map_err(|m| syn::Error::new(dir.span(), m))?;
    Ok(read
        .into_iter()
        .map(|(f, p)| (f, p.to_string_lossy().into_owned()))
        .unzip())
}

/// Denied findings as one compile error; the others as warnings (uses of deprecated constants), and the fixture
/// files tracked so editing one reruns the macro.
pub fn report(findings: &[Finding], fixtures: &[String], span: Span) -> syn::Result<TokenStream> {
    let denied: Vec<String> = findings.iter().filter(|f| f.denied).map(|f| f.to_string()).collect();
    if !denied.is_empty() {
        return Err(syn::Error::new(
            span,
            format!("denied by `deny = [...]`:\n{}", denied.join("\n")),
        ));
    }
    let mut out = TokenStream::new();
    for (i, f) in findings.iter().enumerate() {
        let name = format_ident!("lint_{}", f.id.replace('-', "_"), span = span);
        let module = format_ident!("__migrate_lint_{}", i, span = span);
        let note = f.to_string();
        out.extend(quote_spanned! {span=>
            #[allow(non_snake_case)]
            mod #module {
                #[deprecated(note = #note)]
                #[allow(non_upper_case_globals)]
                pub const #name: () = ();
            }
            #[allow(non_upper_case_globals)]
            const _: () = #module::#name;
        });
    }
    for path in fixtures {
        out.extend(quote_spanned! {span=> const _: &[u8] = ::core::include_bytes!(#path); });
    }
    Ok(out)
}
