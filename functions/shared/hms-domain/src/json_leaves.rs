//! The text leaves of a serializable value, each with its JSON pointer, as
//! `serde_json::to_value` would hold them, visited as the value serializes instead of building
//! that tree: the scrubber checks every text of every claim, and a `Value` per claim (a map node
//! and a `String` per field) was an eighth of a batch's time.
//!
//! What `to_value` makes a string is a leaf here: strings, chars, unit enum variants, and what
//! serializes as a string (dates, amounts). Numbers, booleans and nulls are not. Leaves come in
//! serialization order; [`Pointer::key`] sorts them into `to_value`'s (object keys in order,
//! array items by index).

use serde::ser::{self, Serialize};

/// Where a leaf stands: its JSON pointer (`/claim/serviceLines/0/procedure`), and each step's
/// kind for sorting.
#[derive(Debug, Default)]
pub(crate) struct Pointer {
    text: String,
    /// Each step: where it starts in `text`, and whether it is an array index.
    steps: Vec<(usize, bool)>,
}

/// One step of a pointer, ordered as `to_value`'s maps (by key) and arrays (by index) are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// An array item.
    Index(usize),
    /// An object member.
    Key(String),
}

impl Pointer {
    /// The JSON pointer.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Steps below the root.
    pub(crate) fn depth(&self) -> usize {
        self.steps.len()
    }

    /// The sort key that puts leaves in `to_value`'s order.
    pub(crate) fn key(&self) -> Vec<Step> {
        let mut key = Vec::with_capacity(self.steps.len());
        for (i, &(start, index)) in self.steps.iter().enumerate() {
            let end = self.steps.get(i + 1).map_or(self.text.len(), |s| s.0);
            let part = self.text.get(start + 1..end).unwrap_or_default();
            key.push(if index {
                Step::Index(part.parse().unwrap_or(usize::MAX))
            } else {
                Step::Key(part.to_string())
            });
        }
        key
    }

    fn push_key(&mut self, key: &str) {
        self.steps.push((self.text.len(), false));
        self.text.push('/');
        self.text.push_str(key);
    }

    fn push_index(&mut self, index: usize) {
        use std::fmt::Write as _;
        self.steps.push((self.text.len(), true));
        let _ = write!(self.text, "/{index}");
    }

    fn pop(&mut self) {
        if let Some((start, _)) = self.steps.pop() {
            self.text.truncate(start);
        }
    }
}

/// Why a value could not be walked: what `to_value` would refuse too (a map key that is not a
/// string or number), or the value's own serialization error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct WalkError(String);

impl ser::Error for WalkError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Calls `visit` with each text leaf of `value` and its pointer, no deeper than `max_depth`
/// steps (what is deeper is not visited, as a walk of the `Value` that stops there).
pub(crate) fn text_leaves(
    value: &impl Serialize,
    max_depth: usize,
    visit: &mut dyn FnMut(&Pointer, &str),
) -> Result<(), WalkError> {
    let mut walker = Walker {
        at: Pointer::default(),
        max_depth,
        visit,
    };
    value.serialize(&mut walker)
}

struct Walker<'v> {
    at: Pointer,
    max_depth: usize,
    visit: &'v mut dyn FnMut(&Pointer, &str),
}

impl Walker<'_> {
    fn leaf(&mut self, text: &str) {
        if self.at.depth() <= self.max_depth {
            (self.visit)(&self.at, text);
        }
    }

    fn keyed<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), WalkError> {
        self.at.push_key(key);
        let walked = value.serialize(&mut *self);
        self.at.pop();
        walked
    }
}

/// The compound serializer: items of a sequence (counted), members of a struct or map, or a
/// struct that is not JSON data (serde_json's number and raw-value markers), ignored.
struct Compound<'w, 'v> {
    walker: &'w mut Walker<'v>,
    /// The next item's index.
    next: usize,
    /// The map key given, waiting for its value.
    key: Option<String>,
    /// A variant's name wraps the content (`{"Variant": ...}`): popped at the end.
    wrapped: bool,
    /// Not data: skipped.
    ignored: bool,
}

impl<'w, 'v> Compound<'w, 'v> {
    fn new(walker: &'w mut Walker<'v>, variant: Option<&str>) -> Self {
        if let Some(name) = variant {
            walker.at.push_key(name);
        }
        Self {
            walker,
            next: 0,
            key: None,
            wrapped: variant.is_some(),
            ignored: false,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        self.walker.at.push_index(self.next);
        self.next += 1;
        let walked = value.serialize(&mut *self.walker);
        self.walker.at.pop();
        walked
    }

    fn end(self) -> Result<(), WalkError> {
        if self.wrapped {
            self.walker.at.pop();
        }
        Ok(())
    }
}

macro_rules! no_text {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), WalkError> { Ok(()) })*
    };
}

impl<'w, 'v> ser::Serializer for &'w mut Walker<'v> {
    type Ok = ();
    type Error = WalkError;
    type SerializeSeq = Compound<'w, 'v>;
    type SerializeTuple = Compound<'w, 'v>;
    type SerializeTupleStruct = Compound<'w, 'v>;
    type SerializeTupleVariant = Compound<'w, 'v>;
    type SerializeMap = Compound<'w, 'v>;
    type SerializeStruct = Compound<'w, 'v>;
    type SerializeStructVariant = Compound<'w, 'v>;

    no_text!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_bytes: &[u8],
    );

    fn serialize_char(self, v: char) -> Result<(), WalkError> {
        self.leaf(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), WalkError> {
        self.leaf(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), WalkError> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), WalkError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), WalkError> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), WalkError> {
        self.leaf(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        self.keyed(variant, value)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'w, 'v>, WalkError> {
        Ok(Compound::new(self, None))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'w, 'v>, WalkError> {
        Ok(Compound::new(self, None))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'v>, WalkError> {
        Ok(Compound::new(self, None))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'v>, WalkError> {
        Ok(Compound::new(self, Some(variant)))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'w, 'v>, WalkError> {
        Ok(Compound::new(self, None))
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Compound<'w, 'v>, WalkError> {
        let mut compound = Compound::new(self, None);
        // serde_json's markers for a number kept as text and a raw value: not strings.
        compound.ignored = name.starts_with("$serde_json::private::");
        Ok(compound)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'w, 'v>, WalkError> {
        Ok(Compound::new(self, Some(variant)))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        self.item(value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        self.item(value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        self.item(value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        self.item(value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), WalkError> {
        // As serde_json makes a map key: a string, or a number or boolean as its text.
        let text = match serde_json::to_value(key) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(serde_json::Value::Number(n)) => n.to_string(),
            Ok(serde_json::Value::Bool(b)) => b.to_string(),
            _ => return Err(ser::Error::custom("a map key that is not a string")),
        };
        self.key = Some(text);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        let key = self.key.take().unwrap_or_default();
        self.walker.keyed(&key, value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        if self.ignored {
            return Ok(());
        }
        self.walker.keyed(key, value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = WalkError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        self.walker.keyed(key, value)
    }
    fn end(self) -> Result<(), WalkError> {
        Compound::end(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::{Value, json};

    /// Every leaf `to_value` holds, with its pointer, walking the `Value` in its own order.
    fn by_value(value: &Value, at: &mut String, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(fields) => {
                for (name, field) in fields {
                    let len = at.len();
                    at.push('/');
                    at.push_str(name);
                    by_value(field, at, out);
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    by_value(item, at, out);
                    at.truncate(len);
                }
            }
            Value::String(text) => out.push((at.clone(), text.clone())),
            _ => {}
        }
    }

    fn leaves(value: &impl Serialize) -> Vec<(String, String)> {
        let mut found = vec![];
        text_leaves(value, 64, &mut |at, text| {
            found.push((at.key(), at.as_str().to_string(), text.to_string()));
        })
        .unwrap();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.into_iter().map(|(_, at, text)| (at, text)).collect()
    }

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    enum Kind {
        Plain,
        Wrapped(String),
        Pair(u8, String),
        Named { inner: String },
    }

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        zeta: String,
        alpha: Vec<String>,
        kinds: Vec<Kind>,
        date: chrono::NaiveDate,
        amount: rust_decimal::Decimal,
        count: u32,
        missing: Option<String>,
        map: std::collections::BTreeMap<u32, char>,
        raw: Value,
    }

    #[test]
    fn leaves_are_the_values_strings_in_its_order() {
        let sample = Sample {
            zeta: "z".into(),
            alpha: (0..12).map(|i| format!("a{i}")).collect(),
            kinds: vec![
                Kind::Plain,
                Kind::Wrapped("w".into()),
                Kind::Pair(1, "p".into()),
                Kind::Named { inner: "n".into() },
            ],
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            amount: rust_decimal::Decimal::new(12_550, 2),
            count: 3,
            missing: None,
            map: [(10, 'x'), (9, 'y')].into_iter().collect(),
            raw: json!({"b": ["1", 2, {"c": "3"}], "a": 1.5}),
        };
        let mut expected = vec![];
        by_value(
            &serde_json::to_value(&sample).unwrap(),
            &mut String::new(),
            &mut expected,
        );
        assert_eq!(leaves(&sample), expected);
        assert!(expected.iter().any(|(at, _)| at == "/alpha/11"));
        assert!(
            expected
                .iter()
                .any(|(at, t)| at == "/amount" && t == "125.50")
        );
    }
}
