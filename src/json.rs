//! JSON values, parsed and written without serde: the options, the tenant's answers, token
//! payloads and the events' payloads all go through this small module (serde's generic code
//! weighed ~35 KB of the wasm, gzipped).
//!
//! Objects keep their members in order (a repeated name: the last one counts, as `JSON.parse`
//! does); numbers keep their text, so nothing is lost or reformatted on the way through.

use std::fmt;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object: members in order.
    Object(Vec<(String, Json)>),
}

/// A JSON number, kept as its (checked) text.
#[derive(Debug, Clone, PartialEq)]
pub struct Number(String);

impl Number {
    /// The number as an integer, when it is one (`1`, `1.0`, `1e3`, `1.5e1`) within i64.
    /// Integer arithmetic on the checked text: no float parsing (whose code and tables would
    /// ship in the wasm for a few timestamps).
    pub fn as_i64(&self) -> Option<i64> {
        let text = self.0.as_bytes();
        let (negative, text) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let e = text
            .iter()
            .position(|&b| b == b'e' || b == b'E')
            .unwrap_or(text.len());
        let (mantissa, exponent) = (&text[..e], text.get(e + 1..).unwrap_or_default());
        // The power of ten the digits (point dropped) are multiplied by; capped far beyond i64.
        let mut scale: i64 = 0;
        for &b in exponent.iter().filter(|b| b.is_ascii_digit()) {
            scale = (scale * 10 + i64::from(b - b'0')).min(1 << 30);
        }
        if exponent.first() == Some(&b'-') {
            scale = -scale;
        }
        let dot = mantissa.iter().position(|&b| b == b'.');
        if let Some(at) = dot {
            scale -= (mantissa.len() - at - 1) as i64;
        }
        // Digits past `keep` are below the units: only zeros may be there.
        let count = mantissa.len() - usize::from(dot.is_some());
        let keep = count.saturating_sub(usize::try_from(-scale).unwrap_or(0));
        let mut value: i64 = 0;
        for (i, &b) in mantissa.iter().filter(|&&b| b != b'.').enumerate() {
            let digit = i64::from(b - b'0');
            if i < keep {
                value = value.checked_mul(10)?.checked_add(digit)?;
            } else if digit != 0 {
                return None;
            }
        }
        if value != 0 {
            for _ in 0..scale {
                value = value.checked_mul(10)?;
            }
        }
        Some(if negative { -value } else { value })
    }

    /// The number as a float.
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
}

/// Why text is not JSON: what was wrong and at which byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What was expected or found.
    pub message: &'static str,
    /// The byte offset.
    pub at: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

impl std::error::Error for JsonError {}

static NULL: Json = Json::Null;

impl Json {
    /// Parses JSON text (RFC 8259; surrounding whitespace allowed, nothing after the value).
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut p = Parser {
            text,
            s: text.as_bytes(),
            at: 0,
            depth: 0,
        };
        let value = p.value()?;
        p.space();
        if p.at != p.s.len() {
            return Err(p.fail("trailing characters"));
        }
        Ok(value)
    }

    /// An object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(members: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A member of an object (the last of that name), `None` otherwise.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == name).map(|m| &m.1),
            _ => None,
        }
    }

    /// Sets a member of an object (replacing one of that name); does nothing on other values.
    pub fn set(&mut self, name: &str, value: Json) {
        if let Json::Object(members) = self {
            members.retain(|(k, _)| k != name);
            members.push((name.to_string(), value));
        }
    }

    /// An optional string member: `Some(None)` when absent or `null`, `Some(Some(text))` for a
    /// string, `None` for anything else (how stored records read their optional fields).
    pub fn opt_str(&self, name: &str) -> Option<Option<String>> {
        match self.get(name) {
            None | Some(Json::Null) => Some(None),
            Some(Json::String(s)) => Some(Some(s.clone())),
            Some(_) => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as a float, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Json::String(_))
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// What kind of value this is, for messages: `a string`, `an object`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

impl std::ops::Index<&str> for Json {
    type Output = Json;
    /// The member of that name, or `null` (also when this is not an object).
    fn index(&self, name: &str) -> &Json {
        self.get(name).unwrap_or(&NULL)
    }
}

impl PartialEq<&str> for Json {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<str> for Json {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::String(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::String(s)
    }
}

impl From<&String> for Json {
    fn from(s: &String) -> Self {
        Json::String(s.clone())
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Self {
        Json::Number(Number(n.to_string()))
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Self {
        Json::Number(Number(n.to_string()))
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Self {
        Json::Number(Number(n.to_string()))
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}

impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Self {
        Json::Array(v.into_iter().map(Into::into).collect())
    }
}

/// A value that has a JSON form, by reference (as `serde_json::json!` takes its values).
pub trait ToJson {
    /// The JSON form.
    fn to_json(&self) -> Json;
}

impl ToJson for Json {
    fn to_json(&self) -> Json {
        self.clone()
    }
}

impl ToJson for str {
    fn to_json(&self) -> Json {
        Json::String(self.to_string())
    }
}

impl ToJson for String {
    fn to_json(&self) -> Json {
        Json::String(self.clone())
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Json {
        Json::Bool(*self)
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_json(&self) -> Json {
                Json::Number(Number(self.to_string()))
            }
        }
    )*};
}
integers!(i32, i64, u16, u32, u64, usize);

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Json {
        (**self).to_json()
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Json {
        self.as_ref().map_or(Json::Null, ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

/// `obj! { "name": value, … }`: a JSON object, each value by reference through [`ToJson`].
macro_rules! obj {
    ($($k:literal : $v:expr),* $(,)?) => {
        $crate::json::Json::object([$(($k, $crate::json::ToJson::to_json(&$v))),*])
    };
}
pub(crate) use obj;

/// Writes a string as a JSON string literal.
fn write_str(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        f.write_str(&s[start..i])?;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let n = c as usize;
            f.write_str("\\u00")?;
            f.write_char(char::from(HEX[n >> 4]))?;
            f.write_char(char::from(HEX[n & 15]))?;
        } else {
            f.write_str(escape)?;
        }
        start = i + c.len_utf8();
    }
    f.write_str(&s[start..])?;
    f.write_char('"')
}

impl fmt::Display for Json {
    /// Compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(true) => f.write_str("true"),
            Json::Bool(false) => f.write_str("false"),
            Json::Number(n) => f.write_str(&n.0),
            Json::String(s) => write_str(f, s),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str("]")
            }
            Json::Object(members) => {
                f.write_str("{")?;
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_str(f, k)?;
                    f.write_str(":")?;
                    v.fmt(f)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Nesting deeper than this is refused (the tenant's answers nest three levels).
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    /// The text, and the same as bytes.
    text: &'a str,
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn fail(&self, message: &'static str) -> JsonError {
        JsonError {
            message,
            at: self.at,
        }
    }

    fn space(&mut self) {
        while matches!(self.s.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        if self.s[self.at..].starts_with(word) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        self.space();
        match self.s.get(self.at) {
            None => Err(self.fail("unexpected end")),
            Some(b'n') if self.eat(b"null") => Ok(Json::Null),
            Some(b't') if self.eat(b"true") => Ok(Json::Bool(true)),
            Some(b'f') if self.eat(b"false") => Ok(Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.nest()?;
                let mut items = Vec::new();
                self.space();
                if !self.eat(b"]") {
                    loop {
                        items.push(self.value()?);
                        self.space();
                        if self.eat(b"]") {
                            break;
                        }
                        if !self.eat(b",") {
                            return Err(self.fail("expected , or ]"));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                self.nest()?;
                let mut members = Vec::new();
                self.space();
                if !self.eat(b"}") {
                    loop {
                        self.space();
                        if self.s.get(self.at) != Some(&b'"') {
                            return Err(self.fail("expected a member name"));
                        }
                        let name = self.string()?;
                        self.space();
                        if !self.eat(b":") {
                            return Err(self.fail("expected :"));
                        }
                        members.push((name, self.value()?));
                        self.space();
                        if self.eat(b"}") {
                            break;
                        }
                        if !self.eat(b",") {
                            return Err(self.fail("expected , or }"));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Json::Object(members))
            }
            Some(_) => Err(self.fail("expected a value")),
        }
    }

    fn nest(&mut self) -> Result<(), JsonError> {
        self.at += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.fail("nested too deeply"));
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.s.get(self.at), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        self.eat(b"-");
        let int_start = self.at;
        let int = self.digits();
        if int == 0 || (int > 1 && self.s[int_start] == b'0') {
            return Err(self.fail("bad number"));
        }
        if self.eat(b".") && self.digits() == 0 {
            return Err(self.fail("bad number"));
        }
        if matches!(self.s.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.s.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail("bad number"));
            }
        }
        Ok(Json::Number(Number(self.text[start..self.at].to_string())))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self
            .s
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.fail("bad \\u escape"))?;
        let mut n = 0;
        for &b in hex {
            let d = char::from(b)
                .to_digit(16)
                .ok_or_else(|| self.fail("bad \\u escape"))?;
            n = n * 16 + d;
        }
        self.at += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(self.s.get(self.at), None | Some(b'"' | b'\\' | 0..=0x1f)) {
                self.at += 1;
            }
            // The run starts and stops at ASCII bytes: on character boundaries of the text.
            out.push_str(&self.text[start..self.at]);
            match self.s.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = match self.s.get(self.at) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) && self.eat(b"\\u") {
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.fail("bad surrogate pair"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            // A lone surrogate becomes U+FFFD, as a lossy decoder would.
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                        _ => return Err(self.fail("bad escape")),
                    };
                    out.push(c);
                    self.at += 1;
                }
                Some(_) => return Err(self.fail("control character in a string")),
                None => return Err(self.fail("unterminated string")),
            }
        }
    }
}

/// For tests that write their JSON with `serde_json::json!`.
#[cfg(test)]
pub(crate) fn from_serde(v: serde_json::Value) -> Json {
    Json::parse(&v.to_string()).expect("serde_json writes JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_what_serde_json_does() {
        let cases = [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\n\u00e9\ud83d\ude00"},"n":-1.5e3}"#,
            r#"[]"#,
            r#"{}"#,
            r#""\u0001 tab\t""#,
            "0",
            r#"[1,2.25,-0,1E+2]"#,
            r#"{"ünï":"cödé ✓"}"#,
        ];
        for text in cases {
            let ours = Json::parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            let back: serde_json::Value = serde_json::from_str(&ours.to_string()).unwrap();
            assert_eq!(back, theirs, "{text}");
        }
        let v = Json::parse(r#" {"exp": 1700000000, "f": 1.0e1, "s": "x", "dup": 1, "dup": 2} "#)
            .unwrap();
        assert_eq!(v["exp"].as_i64(), Some(1_700_000_000));
        assert_eq!(v["f"].as_i64(), Some(10));
        for (text, want) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("12", Some(12)),
            ("-12", Some(-12)),
            ("1.0", Some(1)),
            ("1.50e1", Some(15)),
            ("1e3", Some(1000)),
            ("2E+2", Some(200)),
            ("1500e-2", Some(15)),
            ("1.5", None),
            ("15e-1", None),
            ("0.0", Some(0)),
            ("9223372036854775807", Some(i64::MAX)),
            ("92233720368547758070", None),
            ("9223372036854775808", None),
            ("1e30", None),
            ("0e99", Some(0)),
            ("0e-99", Some(0)),
            ("0.000e-999", Some(0)),
            ("0.001e-999", None),
            ("1.5e99999999999", None),
            ("1.2e1", Some(12)),
            ("120e-1", Some(12)),
            ("-1500e-3", None),
            ("-1500e-2", Some(-15)),
            ("-9223372036854775807", Some(-i64::MAX)),
        ] {
            let n = Json::parse(text).unwrap();
            assert_eq!(n.as_i64(), want, "{text}");
        }
        assert_eq!(v["s"], "x");
        assert_eq!(v["dup"].as_i64(), Some(2));
        assert!(v["missing"].is_null());
        assert_eq!(
            Json::object([("a", Json::from("x\u{1}y"))]).to_string(),
            r#"{"a":"x\u0001y"}"#
        );
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "\"\\x\"",
            "\"a",
            "nul",
            "[1] 2",
            "{'a':1}",
            "\"\u{1}\"",
            "1e",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad:?}"
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(Json::parse(&deep).is_err());
    }
}
