//! The argument syntax of `-- migrate:` directives (not SQL): whitespace-separated `value` or `key=value` words, a
//! value optionally single-quoted. It sits below [`crate::directive`] and the generators whose arguments it splits
//! ([`crate::fts5`]), so neither imports the other for it. Re-exported as `directive::{Arg, split_args}`.

/// One argument of a directive: `value`, `key=value`, or either with a single-quoted value (`''` escapes a quote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The part before `=`, if any.
    pub key: Option<String>,
    /// The value, unquoted.
    pub value: String,
}

/// Splits directive arguments on whitespace, honouring single quotes.
///
/// ```
/// use litemigrate_core::args::split_args;
/// let a = split_args("idx content=docs tokenize='porter unicode61'").unwrap();
/// assert_eq!(a[2].key.as_deref(), Some("tokenize"));
/// assert_eq!(a[2].value, "porter unicode61");
/// ```
pub fn split_args(args: &str) -> Result<Vec<Arg>, String> {
    let mut out = Vec::new();
    let mut chars = args.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = None;
        let mut value = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '=' if key.is_none() && !quoted => key = Some(std::mem::take(&mut value)),
                '\'' => {
                    quoted = true;
                    loop {
                        match chars.next() {
                            Some('\'') if chars.peek() == Some(&'\'') => {
                                chars.next();
                                value.push('\'');
                            }
                            Some('\'') => break,
                            Some(c) => value.push(c),
                            None => return Err(format!("unterminated quote in `{args}`")),
                        }
                    }
                }
                c => value.push(c),
            }
        }
        if key.as_deref() == Some("") {
            return Err(format!("`={value}` has no key"));
        }
        out.push(Arg { key, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let a = split_args(" a  b=c d='e f' g='it''s' ").unwrap();
        let pairs: Vec<(Option<&str>, &str)> = a.iter().map(|a| (a.key.as_deref(), a.value.as_str())).collect();
        assert_eq!(
            pairs,
            [(None, "a"), (Some("b"), "c"), (Some("d"), "e f"), (Some("g"), "it's")]
        );
        assert_eq!(split_args("").unwrap(), vec![]);
        assert!(split_args("x='open").is_err());
        assert!(split_args("=v").is_err());
        assert_eq!(split_args("k=a=b").unwrap()[0].value, "a=b");
    }
}
