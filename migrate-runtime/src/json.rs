//! The runtime's own files in JSON (backup manifests, restore markers, catalog run manifests), read and written
//! through `serde_json::Value` rather than serde's derives: `serde_derive` was ~2 s of every application's first
//! build, for four small flat records. The formats do not depend on the `serde` feature (which only adds
//! `Serialize` to the report types); unknown fields are ignored, as a newer release may add some.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One JSON object being read. Each getter names the field it wanted, so a damaged file's error says what is
/// missing or wrong (`missing field "sha256"`, `field "size": expected an unsigned integer`).
pub(crate) struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The object `v` is, or an error saying it is not one.
    pub(crate) fn of(v: &'a Value) -> Result<Fields<'a>, String> {
        v.as_object()
            .map(Fields)
            .ok_or_else(|| format!("expected a JSON object, found {}", kind(v)))
    }

    fn get(&self, name: &str) -> Result<&'a Value, String> {
        self.0.get(name).ok_or_else(|| format!("missing field {name:?}"))
    }

    fn wrong(name: &str, expected: &str, v: &Value) -> String {
        format!("field {name:?}: expected {expected}, found {}", kind(v))
    }

    pub(crate) fn str(&self, name: &str) -> Result<String, String> {
        let v = self.get(name)?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| Self::wrong(name, "a string", v))
    }

    /// A string that may be missing or `null`.
    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<String>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| Self::wrong(name, "a string", v)),
        }
    }

    pub(crate) fn u64(&self, name: &str) -> Result<u64, String> {
        let v = self.get(name)?;
        v.as_u64().ok_or_else(|| Self::wrong(name, "an unsigned integer", v))
    }

    pub(crate) fn u32(&self, name: &str) -> Result<u32, String> {
        let v = self.get(name)?;
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| Self::wrong(name, "an unsigned 32-bit integer", v))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool, String> {
        let v = self.get(name)?;
        v.as_bool().ok_or_else(|| Self::wrong(name, "true or false", v))
    }

    pub(crate) fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.str(name).map(PathBuf::from)
    }

    /// The elements of an array field.
    pub(crate) fn array(&self, name: &str) -> Result<&'a [Value], String> {
        let v = self.get(name)?;
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| Self::wrong(name, "an array", v))
    }

    /// A field that may be missing or `null`.
    pub(crate) fn opt(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A path as a JSON string. JSON holds Unicode only, so a path that is not valid UTF-8 cannot be recorded (the
/// error names it) rather than being recorded as a different path.
pub(crate) fn path_value(p: &Path) -> Result<Value, String> {
    p.to_str()
        .map(|s| Value::String(s.to_owned()))
        .ok_or_else(|| format!("the path {} is not valid UTF-8", p.display()))
}

/// An object from `(field, value)` pairs.
pub(crate) fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Parses a whole file as JSON.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Pretty-printed JSON, the way the files are written. Printing a `Value` cannot fail (its keys are strings).
pub(crate) fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getters_name_the_field_and_what_was_found() {
        let v = parse(br#"{"a": "x", "n": -1, "b": null, "big": 4294967296}"#).unwrap();
        let f = Fields::of(&v).unwrap();
        assert_eq!(f.str("a").unwrap(), "x");
        assert_eq!(
            f.u64("n").unwrap_err(),
            r#"field "n": expected an unsigned integer, found a number"#
        );
        assert_eq!(f.str("gone").unwrap_err(), r#"missing field "gone""#);
        assert_eq!(f.opt_str("b").unwrap(), None);
        assert_eq!(f.opt_str("gone").unwrap(), None);
        assert!(f.u32("big").is_err());
        assert_eq!(
            Fields::of(&Value::Bool(true)).err().unwrap(),
            "expected a JSON object, found a boolean"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/a\xff.db"));
        assert!(path_value(p).unwrap_err().contains("not valid UTF-8"));
        assert_eq!(path_value(Path::new("/tmp/a.db")).unwrap(), "/tmp/a.db");
    }
}
