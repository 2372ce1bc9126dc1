//! Recomputing the checksums other tools store, from the embedded up SQL, to name the files edited since.
//!
//! The embedded SQL is normalized (LF line ends, no BOM), while sqlx and refinery hashed the file's bytes as read:
//! a file checked out with CRLF line ends is compared in both forms, so only a real edit is reported.

use super::applied::Stored;
use sha2::{Digest, Sha384};
use std::hash::{Hash, Hasher};

/// Whether `stored` is the checksum of this migration's file as the tool computed it.
pub(crate) fn matches(stored: &Stored, version: u64, name: &str, sql: &str) -> bool {
    let crlf = sql.replace('\n', "\r\n");
    let forms = [sql, crlf.as_str()];
    match stored {
        Stored::Sha384(sum) => forms
            .iter()
            .any(|s| Sha384::digest(s.as_bytes()).as_slice() == sum.as_slice()),
        Stored::SipHash(sum) => forms.iter().any(|s| refinery(version, name, s) == Some(*sum)),
        // Flyway's CRC32 runs over the lines without their line ends, so CRLF never changes it.
        Stored::Crc32(sum) => flyway(sql) == *sum,
    }
}

/// refinery's checksum: SipHash-1-3 (keys 0) of `name`, the version as refinery's `i32`, and the SQL, each fed
/// through `Hash` as refinery does.
pub(crate) fn refinery(version: u64, name: &str, sql: &str) -> Option<u64> {
    let version = i32::try_from(version).ok()?;
    let mut h = siphasher::sip::SipHasher13::new();
    name.hash(&mut h);
    version.hash(&mut h);
    sql.hash(&mut h);
    Some(h.finish())
}

/// Flyway's checksum: CRC32 over every line's bytes, line ends left out, as a signed 32-bit integer.
pub(crate) fn flyway(sql: &str) -> i32 {
    let mut h = crc32fast::Hasher::new();
    for line in sql.lines() {
        h.update(line.as_bytes());
    }
    h.finalize() as i32
}
