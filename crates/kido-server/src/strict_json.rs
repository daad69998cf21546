//! A JSON value deserializer that refuses what serde's derive quietly accepts: an array
//! where an object (struct) is expected (`{"profile": [null, null]}` must be a 400, not an
//! empty profile), and notes the keys of an object that no field of its struct takes
//! (`unknown_keys`: accepted, as Logto does, but named). Everything else behaves like
//! `serde_json::Value`'s deserializer.

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde_json::{Map, Value};

pub struct Strict(pub Value);

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(StrictSeq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(StrictMap { entries: map.into_iter(), value: None, fields: None }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            // serde's derive lists every field name and alias (a struct with a flattened
            // field asks for a map instead, and is not checked).
            Value::Object(map) => {
                visitor.visit_map(StrictMap { entries: map.into_iter(), value: None, fields: Some(fields) })
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &"an object")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Strict(other)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Names (an internally tagged enum's `type`) are strings: serde's derive would also take
    /// a variant's index, so `{"type": 0}` would pick the first variant.
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(name) => visitor.visit_string(name),
            other => Err(de::Error::invalid_type(unexpected(&other), &"a string")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        seq tuple tuple_struct map ignored_any
    }
}

struct StrictSeq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for StrictSeq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(Strict(v))).transpose()
    }
}

struct StrictMap {
    entries: <Map<String, Value> as IntoIterator>::IntoIter,
    value: Option<Value>,
    /// The struct's field names, when the map is a struct's.
    fields: Option<&'static [&'static str]>,
}

impl<'de> MapAccess<'de> for StrictMap {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                if self.fields.is_some_and(|fields| !fields.contains(&key.as_str())) {
                    crate::unknown_keys::note(&key);
                }
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("value requested before key"))?;
        seed.deserialize(Strict(value))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Option<Inner>,
        list: Vec<Inner>,
        any: serde_json::Value,
    }

    #[test]
    fn objects_must_be_objects() {
        let ok: Outer =
            Outer::deserialize(Strict(json!({"inner": {"a": 1}, "list": [{}], "any": [1, {"x": null}]}))).unwrap();
        assert_eq!(ok.inner, Some(Inner { a: Some(1) }));
        assert_eq!(ok.any, json!([1, {"x": null}]));
        assert!(Outer::deserialize(Strict(json!({"inner": [null], "list": [], "any": 1}))).is_err());
        assert!(Outer::deserialize(Strict(json!({"inner": null, "list": [[1]], "any": 1}))).is_err());
        assert!(Outer::deserialize(Strict(json!([null, [], 1]))).is_err());
        assert!(Inner::deserialize(Strict(json!({"a": 99999999999u64}))).is_err());
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(tag = "type")]
    enum Tagged {
        First { a: Option<u32> },
        Second,
    }

    #[test]
    fn tags_are_names_not_indexes() {
        assert_eq!(Tagged::deserialize(Strict(json!({"type": "Second"}))).unwrap(), Tagged::Second);
        assert_eq!(
            Tagged::deserialize(Strict(json!({"type": "First", "a": 2}))).unwrap(),
            Tagged::First { a: Some(2) }
        );
        assert!(Tagged::deserialize(Strict(json!({"type": 0}))).is_err());
        assert!(Tagged::deserialize(Strict(json!({"type": 1}))).is_err());
        assert!(Tagged::deserialize(Strict(json!({"type": null}))).is_err());
    }
}
