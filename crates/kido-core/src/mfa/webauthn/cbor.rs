//! The few CBOR types WebAuthn needs (RFC 8949): integers, byte and text strings, arrays,
//! maps, simple values. Definite lengths only (authenticators encode canonically), nesting
//! and every length bounded by the input, so a hostile attestation costs at most its size.

/// How deep items may nest (an attestation object with its statement needs 4).
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An unsigned or negative integer (CBOR's range fits in i128).
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Bool(bool),
    Null,
}

impl Value {
    /// The value of `key` in a map.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_text(&self, key: &str) -> Option<&Value> {
        self.get(&Value::Text(key.to_owned()))
    }

    pub fn get_int(&self, key: i128) -> Option<&Value> {
        self.get(&Value::Int(key))
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Decodes one item from the start of `input`; returns it and the bytes after it.
pub fn decode_prefix(input: &[u8]) -> Result<(Value, &[u8]), Malformed> {
    let mut reader = Reader { input, at: 0 };
    let value = reader.item(0)?;
    Ok((value, &input[reader.at..]))
}

/// Decodes `input` as exactly one item.
pub fn decode(input: &[u8]) -> Result<Value, Malformed> {
    match decode_prefix(input)? {
        (value, []) => Ok(value),
        _ => Err(Malformed),
    }
}

struct Reader<'a> {
    input: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Malformed> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.input.len()).ok_or(Malformed)?;
        let bytes = &self.input[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    /// The argument of a head with additional information `info`.
    fn argument(&mut self, info: u8) -> Result<u64, Malformed> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            // 28–30 are reserved; 31 is an indefinite length, which authenticators never send.
            _ => return Err(Malformed),
        };
        Ok(self.take(width)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A length or count, no larger than what is left of the input (each element takes a byte at least).
    fn length(&mut self, info: u8) -> Result<usize, Malformed> {
        let n = self.argument(info)?;
        let left = self.input.len() - self.at;
        usize::try_from(n).ok().filter(|n| *n <= left).ok_or(Malformed)
    }

    fn item(&mut self, depth: usize) -> Result<Value, Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        let head = *self.take(1)?.first().ok_or(Malformed)?;
        let (major, info) = (head >> 5, head & 0x1f);
        match major {
            0 => Ok(Value::Int(i128::from(self.argument(info)?))),
            1 => Ok(Value::Int(-1 - i128::from(self.argument(info)?))),
            2 => {
                let n = self.length(info)?;
                Ok(Value::Bytes(self.take(n)?.to_vec()))
            }
            3 => {
                let n = self.length(info)?;
                let text = std::str::from_utf8(self.take(n)?).map_err(|_| Malformed)?;
                Ok(Value::Text(text.to_owned()))
            }
            4 => {
                let n = self.length(info)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let n = self.length(info)?;
                let mut entries: Vec<(Value, Value)> = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = self.item(depth + 1)?;
                    let value = self.item(depth + 1)?;
                    // A key twice is ambiguous: which one would a signature have meant?
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(Malformed);
                    }
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            // Tags carry no meaning WebAuthn uses: read the tagged item as is.
            6 => {
                self.argument(info)?;
                self.item(depth + 1)
            }
            7 => match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 | 23 => Ok(Value::Null),
                _ => Err(Malformed),
            },
            _ => Err(Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_types_webauthn_uses() {
        // {"fmt": "none", "attStmt": {}, "n": -7, "b": h'0102', "a": [1, true, null]}
        let input = [
            0xa5, 0x63, b'f', b'm', b't', 0x64, b'n', b'o', b'n', b'e', 0x67, b'a', b't', b't', b'S', b't', b'm', b't',
            0xa0, 0x61, b'n', 0x26, 0x61, b'b', 0x42, 1, 2, 0x61, b'a', 0x83, 0x01, 0xf5, 0xf6,
        ];
        let v = decode(&input).unwrap();
        assert_eq!(v.get_text("fmt").and_then(Value::as_text), Some("none"));
        assert_eq!(v.get_text("attStmt"), Some(&Value::Map(vec![])));
        assert_eq!(v.get_text("n").and_then(Value::as_int), Some(-7));
        assert_eq!(v.get_text("b").and_then(Value::as_bytes), Some(&[1u8, 2][..]));
        assert_eq!(v.get_text("a"), Some(&Value::Array(vec![Value::Int(1), Value::Bool(true), Value::Null])));
        assert_eq!(decode(&[0x19, 0x01, 0x00]), Ok(Value::Int(256)));
        assert_eq!(decode(&[0x38, 0x63]), Ok(Value::Int(-100)));
    }

    #[test]
    fn refuses_what_is_not_one_bounded_item() {
        // Trailing bytes, truncated strings, lengths beyond the input, indefinite lengths.
        assert_eq!(decode(&[0x01, 0x02]), Err(Malformed));
        assert_eq!(decode(&[0x43, 1, 2]), Err(Malformed));
        assert_eq!(decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Err(Malformed));
        assert_eq!(decode(&[0x9b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), Err(Malformed));
        assert_eq!(decode(&[0x5f, 0x41, 0x00, 0xff]), Err(Malformed));
        assert_eq!(decode(&[0x62, 0xff, 0xfe]), Err(Malformed));
        assert_eq!(decode(&[]), Err(Malformed));
        // Duplicate map keys.
        assert_eq!(decode(&[0xa2, 0x01, 0x01, 0x01, 0x02]), Err(Malformed));
        // Nesting beyond the bound.
        let deep = [0x81u8; 64].iter().copied().chain([0x01]).collect::<Vec<_>>();
        assert_eq!(decode(&deep), Err(Malformed));
        let (v, rest) = decode_prefix(&[0x01, 0x02]).unwrap();
        assert_eq!((v, rest), (Value::Int(1), &[0x02u8][..]));
    }
}
