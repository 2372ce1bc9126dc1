//! Migration file naming: `{version}_{name}.sql`, or the pair `{version}_{name}.up.sql` + `{version}_{name}.down.sql`.
//!
//! Every entry of a migrations directory is classified here, so the macro, the runtime loader and the CLI agree on
//! what is a migration, what is ignored, and what is a mistake. A misnamed file is an error, never silently skipped.

use std::fmt;

/// The pattern every error message shows, so the fix is obvious from the error alone.
pub const EXPECTED_PATTERN: &str = "expected `{version}_{name}.sql`, or `{version}_{name}.up.sql` with \
`{version}_{name}.down.sql`, where version is decimal digits (a number > 0) and name is lowercase ASCII letters, \
digits and `_`";

/// Which role a file plays for its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// `V_name.sql`: up only, irreversible.
    Simple,
    /// `V_name.up.sql`: the up half of a reversible migration.
    Up,
    /// `V_name.down.sql`: the down half of a reversible migration.
    Down,
}

/// A migration file name that follows the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The version as a number; `0001` and `1` are the same version.
    pub version: u64,
    /// The version as written, so a directory's style (zero padding, timestamps) can be kept.
    pub version_text: String,
    /// The part after the first `_`.
    pub name: String,
    /// Simple, up or down.
    pub kind: FileKind,
}

/// What a directory entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// A migration file.
    Migration(FileName),
    /// Hidden files and Markdown notes, which may sit beside migrations.
    Ignored,
}

/// Why a file name is not a migration name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name does not end in `.sql`.
    #[error("not a `.sql` file")]
    NotSql,
    /// No `_` separates the version from the name.
    #[error("no `_` between the version and the name")]
    NoSeparator,
    /// The version part is empty or has a non-digit.
    #[error("version `{0}` is not decimal digits")]
    VersionNotDigits(String),
    /// The version is all zeros.
    #[error("version `{0}` is zero; versions start at 1")]
    VersionZero(String),
    /// The version does not fit in SQLite's 64-bit signed integer, which the history stores it in.
    #[error("version `{0}` is larger than {max}, the largest integer SQLite stores", max = MAX_VERSION)]
    VersionTooLarge(String),
    /// The name part is empty.
    #[error("the name after the version is empty")]
    EmptyName,
    /// The name part has a character outside `[a-z0-9_]`.
    #[error("name `{name}` has `{bad}`; only lowercase ASCII letters, digits and `_` are allowed")]
    BadNameChar {
        /// The name as written.
        name: String,
        /// The first offending character.
        bad: char,
    },
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = match self.kind {
            FileKind::Simple => ".sql",
            FileKind::Up => ".up.sql",
            FileKind::Down => ".down.sql",
        };
        write!(f, "{}_{}{}", self.version_text, self.name, suffix)
    }
}

/// Whether a file name is ignored outright: hidden files and Markdown notes.
pub fn is_ignored(file_name: &str) -> bool {
    file_name.starts_with('.')
        || file_name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("md"))
}

/// Classifies one directory entry by its file name (not a path).
///
/// ```
/// use litemigrate_core::name::{classify, Classified, FileKind};
///
/// let Classified::Migration(f) = classify("0003_add_users.up.sql").unwrap() else { panic!() };
/// assert_eq!((f.version, f.name.as_str(), f.kind), (3, "add_users", FileKind::Up));
/// assert_eq!(classify("README.md").unwrap(), Classified::Ignored);
/// assert!(classify("3-add-users.sql").is_err());
/// ```
pub fn classify(file_name: &str) -> Result<Classified, NameError> {
    if is_ignored(file_name) {
        return Ok(Classified::Ignored);
    }
    parse(file_name).map(Classified::Migration)
}

/// Parses a migration file name; unlike [`classify`] it has no notion of ignored files.
pub fn parse(file_name: &str) -> Result<FileName, NameError> {
    let (stem, kind) = if let Some(stem) = file_name.strip_suffix(".up.sql") {
        (stem, FileKind::Up)
    } else if let Some(stem) = file_name.strip_suffix(".down.sql") {
        (stem, FileKind::Down)
    } else if let Some(stem) = file_name.strip_suffix(".sql") {
        (stem, FileKind::Simple)
    } else {
        return Err(NameError::NotSql);
    };
    let (version_text, name) = stem.split_once('_').ok_or(NameError::NoSeparator)?;
    let version = parse_version(version_text)?;
    if name.is_empty() {
        return Err(NameError::EmptyName);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(NameError::BadNameChar {
            name: name.to_owned(),
            bad,
        });
    }
    Ok(FileName {
        version,
        version_text: version_text.to_owned(),
        name: name.to_owned(),
        kind,
    })
}

/// The largest version: `i64::MAX`, since the history keeps versions in an SQLite INTEGER (64-bit signed).
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// Parses a version: decimal digits, leading zeros allowed, greater than zero and at most [`MAX_VERSION`].
pub fn parse_version(text: &str) -> Result<u64, NameError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NameError::VersionNotDigits(text.to_owned()));
    }
    match text.parse::<u64>() {
        Ok(0) => Err(NameError::VersionZero(text.to_owned())),
        Ok(v) if v > MAX_VERSION => Err(NameError::VersionTooLarge(text.to_owned())),
        Ok(v) => Ok(v),
        // All digits, so the only way to fail is overflow.
        Err(_) => Err(NameError::VersionTooLarge(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> FileName {
        match classify(s) {
            Ok(Classified::Migration(f)) => f,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn simple_up_down() {
        let f = ok("0001_init.sql");
        assert_eq!(
            (f.version, f.version_text.as_str(), f.name.as_str(), f.kind),
            (1, "0001", "init", FileKind::Simple)
        );
        assert_eq!(ok("2_a.up.sql").kind, FileKind::Up);
        assert_eq!(ok("2_a.down.sql").kind, FileKind::Down);
        assert_eq!(ok("20261122103000_add_users_2.sql").version, 20261122103000);
        assert_eq!(ok("7__leading_underscore.sql").name, "_leading_underscore");
    }

    #[test]
    fn display_round_trips() {
        for s in ["0001_init.sql", "2_a.up.sql", "0003_b_c.down.sql"] {
            assert_eq!(ok(s).to_string(), s);
        }
    }

    #[test]
    fn ignored() {
        for s in [".gitkeep", ".DS_Store", "README.md", "notes.MD", ".0001_x.sql"] {
            assert_eq!(classify(s), Ok(Classified::Ignored), "{s}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(classify("0001_init.txt"), Err(NameError::NotSql));
        assert_eq!(classify("0001_init.SQL"), Err(NameError::NotSql));
        assert_eq!(classify("0001.sql"), Err(NameError::NoSeparator));
        assert_eq!(classify("v1_init.sql"), Err(NameError::VersionNotDigits("v1".into())));
        assert_eq!(classify("_init.sql"), Err(NameError::VersionNotDigits("".into())));
        assert_eq!(classify("-1_init.sql"), Err(NameError::VersionNotDigits("-1".into())));
        assert_eq!(classify("0000_init.sql"), Err(NameError::VersionZero("0000".into())));
        assert_eq!(
            classify("18446744073709551616_x.sql"),
            Err(NameError::VersionTooLarge("18446744073709551616".into()))
        );
        // The history stores versions as SQLite integers: 64-bit signed.
        assert_eq!(ok("9223372036854775807_x.sql").version, MAX_VERSION);
        assert_eq!(
            classify("9223372036854775808_x.sql"),
            Err(NameError::VersionTooLarge("9223372036854775808".into()))
        );
        assert_eq!(
            classify("18446744073709551615_x.sql"),
            Err(NameError::VersionTooLarge("18446744073709551615".into()))
        );
        assert_eq!(classify("0001_.sql"), Err(NameError::EmptyName));
        assert_eq!(
            classify("0001_Init.sql"),
            Err(NameError::BadNameChar {
                name: "Init".into(),
                bad: 'I'
            })
        );
        assert!(matches!(
            classify("0001_add-users.sql"),
            Err(NameError::BadNameChar { bad: '-', .. })
        ));
        assert!(matches!(
            classify("0001_a.b.sql"),
            Err(NameError::BadNameChar { bad: '.', .. })
        ));
        assert!(matches!(
            classify("0001_é.sql"),
            Err(NameError::BadNameChar { bad: 'é', .. })
        ));
        // `.up.sql` must not be misread as a name containing a dot.
        assert!(matches!(
            classify("0001_x.UP.sql"),
            Err(NameError::BadNameChar { bad: '.', .. })
        ));
    }
}
