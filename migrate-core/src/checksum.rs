//! Checksums and the chain.
//!
//! These values are stored in every user's history table. Changing how they are computed makes every applied
//! migration look edited, so the tests below pin exact values.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A SHA-256 value: a migration's checksum, a chain value, or a schema hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Checksum(pub [u8; 32]);

impl Checksum {
    /// The chain's starting value: 32 zero bytes.
    pub const ZERO: Checksum = Checksum([0; 32]);

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 12 hex digits, for tables meant for people.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", self.to_hex())
    }
}

/// A string that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 hex value (64 hex digits): {0:?}")]
pub struct ParseChecksumError(pub String);

impl FromStr for Checksum {
    type Err = ParseChecksumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| ParseChecksumError(s.to_owned()))?;
        Ok(Checksum(out))
    }
}

impl TryFrom<&[u8]> for Checksum {
    type Error = ParseChecksumError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; 32]>::try_from(bytes)
            .map(Checksum)
            .map_err(|_| ParseChecksumError(format!("{} bytes", bytes.len())))
    }
}

/// Normalizes SQL text so the checksum does not depend on how git checked the file out: a leading UTF-8 BOM is
/// removed, CRLF and lone CR become LF. Nothing else changes (whitespace and comments are part of what was reviewed).
///
/// ```
/// use litemigrate_core::checksum::normalize;
/// assert_eq!(normalize("\u{feff}a\r\nb\rc\n"), "a\nb\nc\n");
/// ```
pub fn normalize(text: &str) -> Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// SHA-256 of the normalized text.
///
/// ```
/// use litemigrate_core::checksum::checksum;
/// assert_eq!(checksum("CREATE TABLE t(x);\r\n"), checksum("CREATE TABLE t(x);\n"));
/// ```
pub fn checksum(text: &str) -> Checksum {
    Checksum(Sha256::digest(normalize(text).as_bytes()).into())
}

/// One link of the chain: `SHA-256(previous ‖ version as 8 big-endian bytes ‖ checksum)`.
///
/// The chain value of the newest applied migration stands for the whole history up to it, which is what lets the
/// launch check verify everything with one row.
pub fn chain(previous: &Checksum, version: u64, checksum: &Checksum) -> Checksum {
    let mut h = Sha256::new();
    h.update(previous.0);
    h.update(version.to_be_bytes());
    h.update(checksum.0);
    Checksum(h.finalize().into())
}

/// SHA-256 of arbitrary bytes, for schema hashes and backup files.
pub fn sha256(bytes: &[u8]) -> Checksum {
    Checksum(Sha256::digest(bytes).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        assert_eq!(normalize("a\nb"), "a\nb");
        assert!(matches!(normalize("a\nb"), Cow::Borrowed(_)));
        assert_eq!(normalize("a\r\nb\r\n"), "a\nb\n");
        assert_eq!(normalize("a\rb\r"), "a\nb\n");
        assert_eq!(normalize("a\r\r\nb"), "a\n\nb");
        assert_eq!(normalize("\u{feff}x"), "x");
        // Only a leading BOM is removed.
        assert_eq!(normalize("x\u{feff}"), "x\u{feff}");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn pinned_checksums() {
        // Values computed independently (Python hashlib). If these change, every user's history breaks.
        assert_eq!(
            checksum("").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let lf = checksum("CREATE TABLE t(x);\n");
        assert_eq!(
            lf.to_hex(),
            "39e1fa79bb6b043808bf1441729a97295d59efecef487693a0e6db34ebe1ae5e"
        );
        assert_eq!(checksum("CREATE TABLE t(x);\r\n"), lf);
        assert_eq!(checksum("\u{feff}CREATE TABLE t(x);\r\n"), lf);
        assert_eq!(checksum("CREATE TABLE t(x);\r"), lf);
        assert_ne!(checksum("CREATE TABLE t(x); \n"), lf);
    }

    #[test]
    fn pinned_chain() {
        let c1 = checksum("CREATE TABLE t(x);\n");
        let l1 = chain(&Checksum::ZERO, 1, &c1);
        assert_eq!(
            l1.to_hex(),
            "9a55616aaf0cd09ef9f54bf92ecd10ebf9d4363351c3125418dd3f724c797904"
        );
        let l2 = chain(&l1, 20261122103000, &checksum("DROP TABLE t;\n"));
        assert_eq!(
            l2.to_hex(),
            "c957d33c87657930e53c9d34dabb9e9f2a0bb3aad571c4e16ea766549e0f9de4"
        );
        // The version is part of the link: renumbering a file changes the chain.
        assert_ne!(chain(&Checksum::ZERO, 2, &c1), l1);
    }

    #[test]
    fn hex_round_trip() {
        let c = checksum("x");
        assert_eq!(c.to_hex().parse::<Checksum>(), Ok(c));
        assert!("zz".parse::<Checksum>().is_err());
        assert_eq!(Checksum::try_from(&c.0[..]), Ok(c));
        assert!(Checksum::try_from(&c.0[..31]).is_err());
        assert_eq!(c.short().len(), 12);
    }
}
