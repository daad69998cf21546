//! Form and query parameters of the OAuth endpoints (RFC 6749 §3.1, §3.2): a parameter
//! appears at most once, an empty value counts as absent; `resource` may repeat.

use crate::limits::{MAX_OAUTH_PARAM_BYTES, MAX_OAUTH_REQUEST_BYTES};

/// Decodes a query string or form body, refusing one over [`MAX_OAUTH_REQUEST_BYTES`]
/// or with a parameter (name or value) over [`MAX_OAUTH_PARAM_BYTES`]: the endpoints
/// store and echo what they are sent, so what they are sent is bounded.
pub fn parse(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    if raw.len() > MAX_OAUTH_REQUEST_BYTES {
        return Err(format!("the request's parameters must not exceed {MAX_OAUTH_REQUEST_BYTES} bytes"));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw).into_owned().collect();
    check_param_lengths(&pairs)?;
    Ok(pairs)
}

fn check_param_lengths(pairs: &[(String, String)]) -> Result<(), String> {
    match pairs.iter().find(|(k, v)| k.len() > MAX_OAUTH_PARAM_BYTES || v.len() > MAX_OAUTH_PARAM_BYTES) {
        Some((key, _)) => {
            let name: String = key.chars().take(64).collect();
            Err(format!("parameter '{name}' must not exceed {MAX_OAUTH_PARAM_BYTES} bytes"))
        }
        None => Ok(()),
    }
}

/// The character sets a form body may declare, with the aliases Node's decoders accept
/// (Logto decodes `charset=utf16le` or `latin1` bodies before reading the form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Utf16Le,
    Latin1,
}

impl Charset {
    /// The charset a label names (case-insensitive); `None` for one Kido does not decode.
    pub fn from_label(label: &str) -> Option<Self> {
        let label = label.trim().trim_matches('"');
        let is = |names: &[&str]| names.iter().any(|n| n.eq_ignore_ascii_case(label));
        if is(&["utf-8", "utf8", "us-ascii", "ascii"]) {
            Some(Self::Utf8)
        } else if is(&["utf16le", "utf-16le", "ucs2", "ucs-2", "utf16", "utf-16"]) {
            Some(Self::Utf16Le)
        } else if is(&["latin1", "iso-8859-1", "iso8859-1", "binary", "l1", "cp819", "ibm819", "iso-ir-100"]) {
            Some(Self::Latin1)
        } else {
            None
        }
    }
}

/// What a body holding a NUL character (raw or percent-encoded) is answered.
pub const NUL_IN_BODY: &str = "null bytes are not allowed in the request body";

/// A form body (`application/x-www-form-urlencoded`) in `charset`, bounded as [`parse`].
/// UTF-8 bodies are parsed in place; the others are decoded to text first. NUL characters
/// are refused: no stored or compared parameter may hold one.
pub fn parse_form(raw: &[u8], charset: Charset) -> Result<Vec<(String, String)>, String> {
    let pairs = match charset {
        Charset::Utf8 => {
            if raw.contains(&0) {
                return Err(NUL_IN_BODY.into());
            }
            parse(raw)?
        }
        Charset::Utf16Le => {
            if !raw.len().is_multiple_of(2) {
                return Err("the request body is not valid UTF-16LE".into());
            }
            let units = raw.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]]));
            let text: String = char::decode_utf16(units)
                .collect::<Result<_, _>>()
                .map_err(|_| "the request body is not valid UTF-16LE".to_owned())?;
            decoded_form(&text)?
        }
        Charset::Latin1 => decoded_form(&raw.iter().map(|&b| char::from(b)).collect::<String>())?,
    };
    if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(NUL_IN_BODY.into());
    }
    Ok(pairs)
}

fn decoded_form(text: &str) -> Result<Vec<(String, String)>, String> {
    if text.contains('\0') {
        return Err(NUL_IN_BODY.into());
    }
    parse(text.as_bytes())
}

/// A JSON object body (`application/json`) as parameters: string values, or arrays of
/// strings for a repeated parameter. Bounded as [`parse`].
pub fn parse_json(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    if raw.len() > MAX_OAUTH_REQUEST_BYTES {
        return Err(format!("the request's parameters must not exceed {MAX_OAUTH_REQUEST_BYTES} bytes"));
    }
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(raw).map_err(|_| "the request body must be a JSON object".to_owned())?;
    let mut pairs = Vec::with_capacity(object.len());
    for (key, value) in object {
        let name: String = key.chars().take(64).collect();
        let not_string = || format!("parameter '{name}' must be a string");
        match value {
            serde_json::Value::String(v) => pairs.push((key, v)),
            serde_json::Value::Array(values) => {
                for v in values {
                    let serde_json::Value::String(v) = v else { return Err(not_string()) };
                    pairs.push((key.clone(), v));
                }
            }
            _ => return Err(not_string()),
        }
    }
    if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(NUL_IN_BODY.into());
    }
    check_param_lengths(&pairs)?;
    Ok(pairs)
}

/// The first parameter given more than once, `resource` aside (RFC 8707 lets it repeat).
pub fn duplicated(pairs: &[(String, String)]) -> Option<&str> {
    pairs.iter().enumerate().find_map(|(i, (k, _))| {
        (k != "resource" && pairs[..i].iter().any(|(earlier, _)| earlier == k)).then_some(k.as_str())
    })
}

pub struct Params<'a>(pub &'a [(String, String)]);

impl<'a> Params<'a> {
    /// A parameter that may appear once; `Err` names the duplicated one.
    pub fn single(&self, key: &str) -> Result<Option<&'a str>, String> {
        let mut values = self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("'{key}' parameter must not be provided twice"));
        }
        Ok(first)
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, key: &str) -> Vec<&'a str> {
        self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str()).collect()
    }
}

/// RFC 7636 §4.1–4.2: a PKCE verifier or S256 challenge is 43 to 128 unreserved characters.
pub fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_all_and_pkce() {
        let pairs =
            vec![("a".to_owned(), "1".to_owned()), ("a".to_owned(), "2".to_owned()), ("b".to_owned(), String::new())];
        let p = Params(&pairs);
        assert!(p.single("a").is_err());
        assert_eq!(p.single("b"), Ok(None));
        assert_eq!(p.all("a"), ["1", "2"]);
        assert!(parse(format!("state={}", "s".repeat(2048)).as_bytes()).is_ok());
        assert!(parse(format!("state={}", "s".repeat(2049)).as_bytes()).is_err());
        let five: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|k| format!("{k}={}", "v".repeat(2000))).collect();
        assert!(parse(five.join("&").as_bytes()).is_err());
        assert_eq!(duplicated(&pairs), Some("a"));
        assert!(is_pkce_value(&"a".repeat(43)) && !is_pkce_value(&"a".repeat(42)) && !is_pkce_value(&"+".repeat(43)));
    }

    #[test]
    fn charsets_json_and_nul() {
        let utf16: Vec<u8> = "grant_type=x&s=\u{e9}".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let pairs = parse_form(&utf16, Charset::Utf16Le).unwrap();
        assert_eq!(pairs, [("grant_type".into(), "x".into()), ("s".into(), "\u{e9}".into())]);
        assert_eq!(parse_form(b"s=\xe9", Charset::Latin1).unwrap(), [("s".to_owned(), "\u{e9}".to_owned())]);
        assert_eq!(parse_form(b"s=%C3%A9", Charset::Latin1).unwrap(), [("s".to_owned(), "\u{e9}".to_owned())]);
        assert_eq!(parse_form(b"a=1\0", Charset::Utf8).unwrap_err(), NUL_IN_BODY);
        assert_eq!(parse_form(b"a=%00", Charset::Utf8).unwrap_err(), NUL_IN_BODY);
        assert_eq!(parse_form(&[b'a', 0, b'=', 0], Charset::Utf16Le).unwrap(), [("a".to_owned(), String::new())]);
        assert!(parse_form(&[b'a', 0, b'='], Charset::Utf16Le).is_err());
        assert_eq!(Charset::from_label("UTF-16LE"), Some(Charset::Utf16Le));
        assert_eq!(Charset::from_label("ISO-8859-1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_label("koi8-r"), None);
        let json = parse_json(br#"{"client_id":"x","resource":["a","b"]}"#).unwrap();
        assert_eq!(json.len(), 3);
        assert!(parse_json(br#"{"a":1}"#).is_err());
        assert!(parse_json(b"[]").is_err());
        assert_eq!(parse_json(br#"{"a":"\u0000"}"#).unwrap_err(), NUL_IN_BODY);
        assert!(parse_json(format!(r#"{{"a":"{}"}}"#, "v".repeat(2049)).as_bytes()).is_err());
    }
}
