//! `embed_databases!("dir", name(option = value, …), …)`: one migrations subdirectory per database, each loaded,
//! validated and expanded exactly like an `embed_migrations!` set (the same `validate`/`expand` path), plus the
//! catalog's own rules (`litemigrate_core::databases`: `requires`/`attach` name existing databases and versions,
//! no cycle; an attaching file is validated with the other database attached).

use crate::parse::Args;
use crate::{expand, validate};
use litemigrate_core::databases::{self, CatalogDb};
use litemigrate_core::directive::is_database_name;
use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use std::collections::HashMap;
use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitInt, LitStr, Token, parenthesized};

const KEYS: &str = "`file`, `read_only`, `set`, `validate_sql`, `check_down`, `validation_steps`";

/// The macro's arguments.
pub struct CatalogArgs {
    krate: TokenStream,
    dir: LitStr,
    options: Vec<DbOptions>,
}

/// `name(option = value, …)`: one database's options.
struct DbOptions {
    name: Ident,
    file: Option<LitStr>,
    read_only: bool,
    set: Option<LitStr>,
    validate_sql: bool,
    check_down: bool,
    validation_steps: u64,
}

impl DbOptions {
    fn new(name: Ident) -> Self {
        DbOptions {
            name,
            file: None,
            read_only: false,
            set: None,
            validate_sql: true,
            check_down: true,
            validation_steps: litemigrate_core::compile::DEFAULT_MAX_STEPS,
        }
    }
}

impl Parse for CatalogArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let krate = if input.peek(LitStr) {
            quote!(::litemigrate)
        } else {
            let tt: TokenTree = input.parse()?;
            input.parse::<Token![;]>()?;
            tt.into_token_stream()
        };
        let dir: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the catalog directory (one subdirectory per database) as a string literal, e.g. `\"migrations\"`",
            )
        })?;
        let mut options: Vec<DbOptions> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let name: Ident = input.parse()?;
            if options.iter().any(|o| o.name == name) {
                return Err(syn::Error::new(
                    name.span(),
                    format!("options for `{name}` are given twice"),
                ));
            }
            let mut o = DbOptions::new(name);
            let content;
            parenthesized!(content in input);
            let mut seen: Vec<String> = Vec::new();
            while !content.is_empty() {
                let key: Ident = content.parse()?;
                content.parse::<Token![=]>()?;
                let k = key.to_string();
                if seen.contains(&k) {
                    return Err(syn::Error::new(key.span(), format!("`{k}` is given twice")));
                }
                seen.push(k.clone());
                match k.as_str() {
                    "file" => o.file = Some(content.parse()?),
                    "read_only" => o.read_only = content.parse::<LitBool>()?.value,
                    "set" => o.set = Some(content.parse()?),
                    "validate_sql" => o.validate_sql = content.parse::<LitBool>()?.value,
                    "check_down" => o.check_down = content.parse::<LitBool>()?.value,
                    "validation_steps" => o.validation_steps = content.parse::<LitInt>()?.base10_parse()?,
                    _ => {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("unknown database option `{k}`; expected one of {KEYS}"),
                        ));
                    }
                }
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            options.push(o);
        }
        Ok(CatalogArgs { krate, dir, options })
    }
}

/// Validates the catalog and returns the `Databases` expression.
pub fn embed(args: &CatalogArgs) -> syn::Result<TokenStream> {
    let err = |msg: String| syn::Error::new(args.dir.span(), msg);
    let base = std::env::var_os("MIGRATE_MACRO_BASE_DIR")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| err("CARGO_MANIFEST_DIR is not set; embed_databases! must be expanded by cargo".into()))?;
    let rel = args.dir.value();
    let rel = rel.trim_end_matches(['/', '\\']);
    let names =
        subdirectories(&base.join(rel)).map_err(|e| err(format!("{rel}: cannot read the catalog directory: {e}")))?;
    if names.is_empty() {
        return Err(err(format!(
            "{rel}: a catalog has one subdirectory of migrations per database, and this directory has none"
        )));
    }
    for name in &names {
        if !is_database_name(name) {
            return Err(err(databases::DatabasesError::BadName {
                dir: rel.to_owned(),
                name: name.clone(),
            }
            .to_string()));
        }
    }
    if let Some(o) = args.options.iter().find(|o| !names.contains(&o.name.to_string())) {
        return Err(syn::Error::new(
            o.name.span(),
            format!(
                "`{}` is not a subdirectory of {rel} (databases: {})",
                o.name,
                names.join(", ")
            ),
        ));
    }

    // Each database as an `embed_migrations!` call would see it.
    let sets: Vec<(Args, &str, Option<&DbOptions>)> = names
        .iter()
        .map(|name| {
            let o = args.options.iter().find(|o| o.name == name.as_str());
            let a = Args {
                krate: args.krate.clone(),
                dir: LitStr::new(&format!("{rel}/{name}"), args.dir.span()),
                set: o.and_then(|o| o.set.clone()),
                validate_sql: o.is_none_or(|o| o.validate_sql),
                check_down: o.is_none_or(|o| o.check_down),
                validation_steps: o.map_or(litemigrate_core::compile::DEFAULT_MAX_STEPS, |o| o.validation_steps),
                code: Vec::new(),
                // Detected per subdirectory; declared functions are not per-database options (yet).
                layout: None,
                validate_functions: Vec::new(),
                analysis: Default::default(),
            };
            (a, name.as_str(), o)
        })
        .collect();
    let mut loaded = Vec::with_capacity(sets.len());
    for (a, _, _) in &sets {
        loaded.push(Some(validate::load(a)?));
    }
    let requirements = {
        let view: Vec<CatalogDb<'_>> = sets
            .iter()
            .zip(&loaded)
            .filter_map(|((_, name, _), l)| {
                l.as_ref().map(|l| CatalogDb {
                    name,
                    migrations: &l.set,
                })
            })
            .collect();
        let requirements = databases::check(&view).map_err(|e| err(e.to_string()))?;
        let order = databases::compile_order(&view, &requirements).map_err(|(a, b)| {
            err(format!(
                "{rel}: databases `{a}` and `{b}` attach each other; the build validates an attaching file against \
                 the other database's migrations, so attachments between two databases may go one way only"
            ))
        })?;
        (requirements, order)
    };
    let (requirements, order) = requirements;
    let validation = shared_file_requirements(args, &sets, &loaded, &requirements)?;
    let order = if validation.iter().any(|r| r.attach) {
        let view: Vec<CatalogDb<'_>> = sets
            .iter()
            .zip(&loaded)
            .filter_map(|((_, name, _), l)| {
                l.as_ref().map(|l| CatalogDb {
                    name,
                    migrations: &l.set,
                })
            })
            .collect();
        databases::compile_order(&view, &validation).map_err(|(a, b)| {
            err(format!(
                "{rel}: databases `{a}` and `{b}` share a file or attach each other both ways; the build validates a \
                 set against the other's migrations, so such dependencies between two databases may go one way only"
            ))
        })?
    } else {
        order
    };

    let mut compiled = HashMap::new();
    let mut validated: Vec<Option<validate::Validated>> = (0..sets.len()).map(|_| None).collect();
    for i in order {
        let (a, name, _) = &sets[i];
        let Some(l) = loaded[i].take() else { continue };
        let attaches = validation.iter().any(|r| r.attach && r.database == *name);
        let v = if attaches && a.validate_sql {
            let mut hook = databases::attach_for_validation(name, &validation, &compiled);
            validate::compile(a, l, Some(&mut hook))?
        } else {
            validate::compile(a, l, None)?
        };
        compiled.insert((*name).to_owned(), v.compiled.clone());
        validated[i] = Some(v);
    }

    let krate = &args.krate;
    let mut dbs = Vec::with_capacity(sets.len());
    for ((a, name, o), v) in sets.iter().zip(validated) {
        let Some(v) = v else {
            return Err(err(format!("internal error: database `{name}` was not validated")));
        };
        let table = TokenStream::from(expand::expand(a, &v).into_tokens(a));
        let file = file_of(name, *o);
        let read_only = o.is_some_and(|o| o.read_only);
        dbs.push(quote!(#krate::__private::Database::__embedded(#name, #file, #read_only, #table)));
    }
    let reqs = requirements.iter().map(|r| {
        let (db, v, needs, nv, attach) = (&r.database, r.version, &r.needs, r.needs_version, r.attach);
        quote!(#krate::__private::Requirement::__embedded(#db, #v, #needs, #nv, #attach))
    });
    let (n, m) = (dbs.len(), requirements.len());
    Ok(quote!({
        static __MIGRATE_DATABASES: [#krate::__private::Database; #n] = [#(#dbs),*];
        static __MIGRATE_REQUIREMENTS: [#krate::__private::Requirement; #m] = [#(#reqs),*];
        #krate::__private::Databases::__embedded(&__MIGRATE_DATABASES, &__MIGRATE_REQUIREMENTS)
    }))
}

/// A database's file name in the data directory: its `file` option, else `<name>.db`.
fn file_of(name: &str, o: Option<&DbOptions>) -> String {
    o.and_then(|o| o.file.as_ref())
        .map_or_else(|| format!("{name}.db"), LitStr::value)
}

/// Several databases naming one `file` are sets sharing that file (a plugin's set on top of the core set it builds
/// on). They must key their history rows apart (distinct `set` names), may not attach each other (they are the same
/// file), and a `requires` between them is validated like an attach: the required set's schema at the required
/// version is attached under its name, so the requiring set's SQL that names the other's tables unqualified (which
/// at run time resolves to `main`, where they are) is checked against them. Returns the requirements the build
/// validates with: `requirements` with those between sets of one file marked `attach`.
fn shared_file_requirements(
    args: &CatalogArgs,
    sets: &[(Args, &str, Option<&DbOptions>)],
    loaded: &[Option<validate::Loaded>],
    requirements: &[databases::Requirement],
) -> syn::Result<Vec<databases::Requirement>> {
    let file = |name: &str| {
        let o = sets.iter().find(|(_, n, _)| *n == name).and_then(|(_, _, o)| *o);
        file_of(name, o)
    };
    for (i, (a, name, o)) in sets.iter().enumerate() {
        let set = a
            .set
            .as_ref()
            .map_or_else(|| litemigrate_core::layout::DEFAULT_SET.to_owned(), LitStr::value);
        for (b, other, other_o) in &sets[..i] {
            let other_set = b
                .set
                .as_ref()
                .map_or_else(|| litemigrate_core::layout::DEFAULT_SET.to_owned(), LitStr::value);
            if file(name) == file(other) && set == other_set {
                // Point at (and suggest a set name for) the options that made them share the file.
                let named = o.or(*other_o);
                let span = named.map_or_else(|| args.dir.span(), |o| o.name.span());
                let fix = named.map_or_else(|| (*name).to_owned(), |o| o.name.to_string());
                let shared = file(name);
                return Err(syn::Error::new(
                    span,
                    format!(
                        "databases `{other}` and `{name}` share the file `{shared}` with the same set name `{set}`; \
                         give one of them its own history key, e.g. `{fix}(file = \"{shared}\", set = \"{fix}\")`"
                    ),
                ));
            }
        }
    }
    let mut out = requirements.to_vec();
    for r in &mut out {
        if file(&r.database) == file(&r.needs) {
            if r.attach {
                // The attaching file and its directive's line, as every catalog error names them.
                let at = sets
                    .iter()
                    .position(|(_, n, _)| *n == r.database)
                    .and_then(|i| loaded[i].as_ref())
                    .and_then(|l| l.set.iter().find(|m| m.version == r.version))
                    .map(|m| {
                        let line =
                            m.up.directives
                                .attaches()
                                .find(|(_, n)| *n == r.needs)
                                .map_or(1, |(l, _)| l);
                        format!("{}:{line}", m.up.path)
                    })
                    .unwrap_or_else(|| format!("database `{}` migration {}", r.database, r.version));
                return Err(syn::Error::new(
                    args.dir.span(),
                    format!(
                        "{at}: `attach {}` names a database that shares this file (`{}`): its tables are already in \
                         `main`; drop the `attach` and keep the `requires`",
                        r.needs,
                        file(&r.database)
                    ),
                ));
            }
            r.attach = true;
        }
    }
    Ok(out)
}

/// The subdirectories of the catalog directory, sorted (files beside them, such as a README, are ignored).
fn subdirectories(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}
