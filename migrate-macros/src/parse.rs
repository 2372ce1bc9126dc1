//! Parses `$crate; "dir", key = value, …`.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitInt, LitStr, Path, Token, bracketed, parenthesized};

const KEYS: &str = "`set`, `validate_sql`, `check_down`, `validation_steps`, `code`, `layout`, `validate_functions`";

/// The macro's arguments.
pub struct Args {
    /// How generated code names the facade (`$crate` from `litemigrate::embed_migrations!`).
    pub krate: TokenStream,
    /// The migrations directory, relative to the calling crate's `CARGO_MANIFEST_DIR`.
    pub dir: LitStr,
    /// The set name keying the history rows.
    pub set: Option<LitStr>,
    /// Execute the SQL against an in-memory SQLite (default true).
    pub validate_sql: bool,
    /// Prove each down script restores the schema (default true).
    pub check_down: bool,
    /// `validation_steps = N`: the bound on one statement's SQLite steps during validation (0: none).
    pub validation_steps: u64,
    /// Rust-code migrations.
    pub code: Vec<CodeDecl>,
    /// `layout = "diesel"` etc.: the directory's layout, instead of the detected one.
    pub layout: Option<litemigrate_core::layouts::Layout>,
    /// `validate_functions = ["vec_length/1"]`: functions stubbed during validation.
    pub validate_functions: Vec<litemigrate_core::compile::FunctionStub>,
}

/// `(version, "name", up_fn)` or `(version, "name", up_fn, down_fn)`.
pub struct CodeDecl {
    pub version: LitInt,
    pub name: LitStr,
    pub up: Path,
    pub down: Option<Path>,
}

impl CodeDecl {
    /// How errors and the table name the function.
    pub fn display(&self) -> String {
        format!("rust:{}", self.up.to_token_stream()).replace(' ', "")
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // Called through the facade: `$crate; "dir", …`. Called directly: `"dir", …`.
        let krate = if input.peek(LitStr) {
            quote!(::migrate)
        } else {
            let tt: TokenTree = input.parse()?;
            input.parse::<Token![;]>()?;
            tt.into_token_stream()
        };
        let dir: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the migrations directory as a string literal, e.g. `\"migrations\"`",
            )
        })?;
        let mut args = Args {
            krate,
            dir,
            set: None,
            validate_sql: true,
            check_down: true,
            validation_steps: litemigrate_core::compile::DEFAULT_MAX_STEPS,
            code: Vec::new(),
            layout: None,
            validate_functions: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let name = key.to_string();
            if seen.contains(&name) {
                return Err(syn::Error::new(key.span(), format!("`{name}` is given twice")));
            }
            seen.push(name.clone());
            match name.as_str() {
                "set" => args.set = Some(input.parse()?),
                "validate_sql" => args.validate_sql = input.parse::<LitBool>()?.value,
                "check_down" => args.check_down = input.parse::<LitBool>()?.value,
                "validation_steps" => args.validation_steps = input.parse::<syn::LitInt>()?.base10_parse()?,
                "layout" => {
                    let lit: LitStr = input.parse()?;
                    let layout = lit
                        .value()
                        .parse()
                        .map_err(|e| syn::Error::new(lit.span(), format!("{e}")))?;
                    args.layout = Some(layout);
                }
                "validate_functions" => {
                    let content;
                    bracketed!(content in input);
                    let list = content.parse_terminated(|p| p.parse::<LitStr>(), Token![,])?;
                    for lit in list {
                        let stub = lit
                            .value()
                            .parse()
                            .map_err(|e| syn::Error::new(lit.span(), format!("{e}")))?;
                        args.validate_functions.push(stub);
                    }
                }
                "code" => {
                    let content;
                    bracketed!(content in input);
                    while !content.is_empty() {
                        args.code.push(content.parse()?);
                        if content.is_empty() {
                            break;
                        }
                        content.parse::<Token![,]>()?;
                    }
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{name}`; expected one of {KEYS}"),
                    ));
                }
            }
        }
        Ok(args)
    }
}

impl Parse for CodeDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        parenthesized!(content in input);
        let version = content.parse()?;
        content.parse::<Token![,]>()?;
        let name = content.parse()?;
        content.parse::<Token![,]>()?;
        let up = content.parse()?;
        let down = if content.peek(Token![,]) {
            content.parse::<Token![,]>()?;
            if content.is_empty() {
                None
            } else {
                Some(content.parse()?)
            }
        } else {
            None
        };
        if !content.is_empty() {
            return Err(content.error("expected `(version, \"name\", up_fn)` or `(version, \"name\", up_fn, down_fn)`"));
        }
        Ok(CodeDecl {
            version,
            name,
            up,
            down,
        })
    }
}
