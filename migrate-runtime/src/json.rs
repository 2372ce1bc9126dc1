//! The runtime's own files in JSON (backup manifests, restore markers, catalog run manifests), read and written as
//! JSON values (the `jzon` crate) rather than through serde: serde_json, serde_core and serde's derive were ~5 s of
//! CPU of every application's first build, for four small flat records. The formats do not depend on the `serde`
//! feature (which adds `Serialize` to the report types, these records included, through [`Ser`]); unknown fields are
//! ignored, as a newer release may add some. Objects keep their fields in the order written.

use jzon::JsonValue;
use jzon::object::Object;
use std::path::{Path, PathBuf};

/// A JSON value.
pub(crate) type Value = JsonValue;

/// One JSON object being read. Each getter names the field it wanted, so a damaged file's error says what is
/// missing or wrong (`missing field "sha256"`, `field "size": expected an unsigned integer`).
pub(crate) struct Fields<'a>(&'a Object);

impl<'a> Fields<'a> {
    /// The object `v` is, or an error saying it is not one.
    pub(crate) fn of(v: &'a Value) -> Result<Fields<'a>, String> {
        match v {
            Value::Object(o) => Ok(Fields(o)),
            other => Err(format!("expected a JSON object, found {}", kind(other))),
        }
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
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| Self::wrong(name, "a string", v)),
        }
    }

    /// An unsigned integer, exactly: a fraction, an exponent or a number beyond `u64` is an error, never rounded.
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
        match self.get(name)? {
            Value::Array(items) => Ok(items),
            other => Err(Self::wrong(name, "an array", other)),
        }
    }

    /// A field that may be missing or `null`.
    pub(crate) fn opt(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) | Value::Short(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A path as a JSON string. JSON holds Unicode only, so a path that is not valid UTF-8 cannot be recorded (the
/// error names it) rather than being recorded as a different path.
pub(crate) fn path_value(p: &Path) -> Result<Value, String> {
    p.to_str()
        .map(Value::from)
        .ok_or_else(|| format!("the path {} is not valid UTF-8", p.display()))
}

/// An object from `(field, value)` pairs, in that order.
pub(crate) fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut o = Object::with_capacity(N);
    for (k, v) in fields {
        o.insert(k, v);
    }
    Value::Object(o)
}

/// Parses a whole file as JSON (which is UTF-8).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    jzon::parse(text).map_err(|e| e.to_string())
}

/// Pretty-printed JSON, the way the files are written.
pub(crate) fn pretty(v: &Value) -> Vec<u8> {
    v.pretty(2).into_bytes()
}

/// `Serialize` (feature `serde`) for types with a `to_json(&self) -> Result<Value, String>`: through the same
/// values their file is written from, so `--json` output and the file agree field for field.
macro_rules! serialize_as_written {
    ($($t:ty),*) => {$(
        #[cfg(feature = "serde")]
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                crate::json::Ser(&self.to_json().map_err(serde::ser::Error::custom)?).serialize(s)
            }
        }
    )*};
}
pub(crate) use serialize_as_written;

/// A JSON value as serde sees it, for the `Serialize` of types whose JSON form is written here (`BackupInfo`,
/// `BackupRun`), so `--json` output and the files agree field for field.
#[cfg(feature = "serde")]
pub(crate) struct Ser<'a>(pub(crate) &'a Value);

#[cfg(feature = "serde")]
impl serde::Serialize for Ser<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Number(_) => match (self.0.as_u64(), self.0.as_i64()) {
                (Some(n), _) => s.serialize_u64(n),
                (None, Some(n)) => s.serialize_i64(n),
                (None, None) => s.serialize_f64(self.0.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(_) | Value::Short(_) => s.serialize_str(self.0.as_str().unwrap_or_default()),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Ser(item))?;
                }
                seq.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(k, &Ser(v))?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getters_name_the_field_and_what_was_found() {
        let v = parse(br#"{"a": "x", "n": -1, "b": null, "big": 4294967296, "f": 1.5, "huge": 18446744073709551616, "max": 18446744073709551615}"#).unwrap();
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
        assert_eq!(f.u64("big").unwrap(), 4294967296);
        // Never rounded: a fraction or a number beyond u64 is refused, u64::MAX read exactly.
        assert!(f.u64("f").is_err() && f.u64("huge").is_err());
        assert_eq!(f.u64("max").unwrap(), u64::MAX);
        assert!(parse(b"{\"a\": \xff}").unwrap_err().contains("UTF-8"));
        assert_eq!(
            Fields::of(&Value::Boolean(true)).err().unwrap(),
            "expected a JSON object, found a boolean"
        );
    }

    #[test]
    fn objects_keep_their_field_order_and_round_trip() {
        let v = object([
            ("z", 1u64.into()),
            ("a", Value::from(vec!["x", "y"])),
            ("m", Value::Null),
        ]);
        let text = String::from_utf8(pretty(&v)).unwrap();
        assert!(text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap(), "{text}");
        assert_eq!(parse(text.as_bytes()).unwrap(), v);
    }

    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/a\xff.db"));
        assert!(path_value(p).unwrap_err().contains("not valid UTF-8"));
        assert_eq!(path_value(Path::new("/tmp/a.db")).unwrap().as_str(), Some("/tmp/a.db"));
    }
}
