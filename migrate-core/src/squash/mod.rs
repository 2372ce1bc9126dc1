//! Squashing: one generated migration that replaces every migration up to a version V.
//!
//! The file carries `-- migrate:squashes <first>..=<V> chain=<hex> schema=<hex> data=<hex>`:
//!
//! - `chain` is the chain value of the old files at V. The loader gives the squash that chain value instead of
//!   computing one from its own checksum, so the chain from V+1 on, and the launch stamp, are the same whether a
//!   database ran the old files or the squash.
//! - `schema` is the structural schema hash at V and `data` the hash of the rows the old files left in their tables
//!   ([`generate::data_hash`]); the build runs the squash and refuses it when either differs, so an edited squash
//!   cannot silently produce another schema.
//!
//! The squash must be the set's first migration (older files are deleted once it exists). [`generate`] (feature
//! `sqlite`) writes the file.

use crate::args::split_args;
use crate::checksum::Checksum;

#[cfg(feature = "sqlite")]
pub mod generate;

/// A parsed `-- migrate:squashes` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashes {
    /// The first version the squash replaces (informational: everything below `last` is replaced).
    pub first: u64,
    /// The last version it replaces, which is the squash file's own version.
    pub last: u64,
    /// The old files' chain value at `last`.
    pub chain: Checksum,
    /// The structural schema hash at `last`.
    pub schema: Checksum,
    /// The hash of the rows at `last` ([`generate::data_hash`]).
    pub data: Checksum,
}

impl Squashes {
    /// Parses the directive's arguments.
    ///
    /// ```
    /// use litemigrate_core::squash::Squashes;
    /// let z = "0".repeat(64);
    /// let s = Squashes::parse(&format!("1..=7 chain={z} schema={z} data={z}")).unwrap();
    /// assert_eq!((s.first, s.last), (1, 7));
    /// assert!(Squashes::parse("7 chain=00").is_err());
    /// ```
    pub fn parse(args: &str) -> Result<Squashes, String> {
        const USAGE: &str = "expected `squashes <first>..=<last> chain=<hex> schema=<hex> data=<hex>`";
        let mut it = split_args(args)?.into_iter();
        // The argument syntax reads `1..=7` as key `1..` and value `7`.
        let range = match it.next() {
            Some(a) => match a.key {
                Some(k) if k.ends_with("..") => format!("{k}={}", a.value),
                Some(_) => return Err(USAGE.into()),
                None => a.value,
            },
            None => return Err(USAGE.into()),
        };
        let (first, last) = range
            .split_once("..=")
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
            .filter(|(a, b)| a <= b)
            .ok_or_else(|| format!("`{range}` is not a version range `<first>..=<last>`; {USAGE}"))?;
        let (mut chain, mut schema, mut data) = (None, None, None);
        for a in it {
            let slot = match a.key.as_deref() {
                Some("chain") => &mut chain,
                Some("schema") => &mut schema,
                Some("data") => &mut data,
                _ => return Err(format!("unexpected `{}`; {USAGE}", a.value)),
            };
            if slot.is_some() {
                return Err(format!("option `{}` is given twice", a.key.unwrap_or_default()));
            }
            *slot = Some(a.value.parse::<Checksum>().map_err(|e| e.to_string())?);
        }
        match (chain, schema, data) {
            (Some(chain), Some(schema), Some(data)) => Ok(Squashes {
                first,
                last,
                chain,
                schema,
                data,
            }),
            _ => Err(format!("chain=, schema= and data= are all required; {USAGE}")),
        }
    }

    /// The directive line, as [`generate`] writes it.
    pub fn to_line(&self) -> String {
        format!(
            "-- migrate:squashes {}..={} chain={} schema={} data={}",
            self.first, self.last, self.chain, self.schema, self.data
        )
    }
}

/// The build's proof of a squash file: after it ran, the schema hash and the rows equal what its directive records.
#[cfg(feature = "sqlite")]
pub(crate) fn check_compiled(
    conn: &rusqlite::Connection,
    file: &str,
    s: &Squashes,
    schema: Checksum,
) -> Result<(), crate::compile::CompileError> {
    let mismatch = |what: &str, expected: Checksum, found: Checksum| crate::compile::CompileError::SquashMismatch {
        file: file.to_owned(),
        what: what.to_owned(),
        expected,
        found,
    };
    if schema != s.schema {
        return Err(mismatch("schema", s.schema, schema));
    }
    let data = generate::data_hash(conn).map_err(|e| crate::compile::CompileError::Database {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    if data != s.data {
        return Err(mismatch("data", s.data, data));
    }
    Ok(())
}
