//! Compact JSON appended to a `Vec<u8>`, byte for byte what `serde_json::to_writer` writes,
//! for the outputs that are most of a translation's time: an 835's JSON is four times the
//! file and its FHIR twelve times. `serde_json` escapes every key and string a byte at a
//! time through its formatter; here a string is checked eight bytes at a time (X12 text
//! seldom holds a byte JSON escapes) and copied whole, and a key is a string like any other.
//!
//! `serde_json`'s own values serialize as it does: their numbers (with `arbitrary_precision`,
//! a private struct holding the digits) are written as their text.
#![allow(
    clippy::indexing_slicing,
    reason = "indices come from iterating the slice they index"
)]

use serde::ser::{self, Serialize};

/// Why a value could not be written: what `serde_json` refuses too (a map key that is not a
/// string, number, boolean or char), or the value's own serialization error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonOutError(String);

impl ser::Error for JsonOutError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

impl From<JsonOutError> for std::io::Error {
    fn from(e: JsonOutError) -> Self {
        std::io::Error::other(e)
    }
}

/// Appends `value` to `out` as compact JSON (what `serde_json::to_writer` writes).
pub fn append<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), JsonOutError> {
    value.serialize(&mut Writer { out })
}

/// The struct name `serde_json` gives its numbers with `arbitrary_precision`: one field, the
/// number's digits, written as they are.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What each byte becomes in a JSON string: 0 as it is, else the letter after `\` (`u` for
/// `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether any of the eight bytes of `word` is one JSON escapes (a control byte, `"` or `\`):
/// the exact has-less-than and has-zero bit tricks, so a word without one is copied unlooked.
fn has_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote & HIGH;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash & HIGH;
    control | quote | backslash != 0
}

/// Whether `bytes` holds a byte JSON escapes, looked at a word at a time: whole words, then
/// the last eight bytes (overlapping the words before), or, for text shorter than a word, a
/// word made of overlapping loads of it padded with letters (loads, not a copy into a padded
/// buffer, whose wide read back would wait on the narrow writes).
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    const LETTERS: u64 = 0x6161_6161_6161_6161;
    let word = |at: usize| {
        u64::from_le_bytes(
            bytes
                .get(at..at + 8)
                .and_then(|w| w.try_into().ok())
                .unwrap_or([0; 8]),
        )
    };
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            bytes
                .get(at..at + 4)
                .and_then(|w| w.try_into().ok())
                .unwrap_or([0; 4]),
        ))
    };
    let quarter = |at: usize| {
        u64::from(u16::from_le_bytes(
            bytes
                .get(at..at + 2)
                .and_then(|w| w.try_into().ok())
                .unwrap_or([0; 2]),
        ))
    };
    let n = bytes.len();
    match n {
        0 => false,
        1 => has_escape(LETTERS << 8 | u64::from(bytes[0])),
        2..4 => has_escape(LETTERS << 32 | quarter(n - 2) << 16 | quarter(0)),
        4..8 => has_escape(half(n - 4) << 32 | half(0)),
        _ => {
            let mut at = 0;
            while at + 8 <= n {
                if has_escape(word(at)) {
                    return true;
                }
                at += 8;
            }
            at < n && has_escape(word(n - 8))
        }
    }
}

/// Appends `text` as a JSON string: copied whole when nothing in it needs escaping (nearly
/// always), else a byte at a time.
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if needs_escape(bytes) {
        // Bytes before `copied` are in `out`.
        let mut copied = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if ESCAPE[usize::from(b)] != 0 {
                out.extend_from_slice(&bytes[copied..i]);
                escape(out, b);
                copied = i + 1;
            }
        }
        out.extend_from_slice(&bytes[copied..]);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Appends the escape of `byte`, as `serde_json` writes it.
fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match ESCAPE[usize::from(byte)] {
        b'u' => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xF)],
        ]),
        letter => out.extend_from_slice(&[b'\\', letter]),
    }
}

/// Appends what `serde_json` writes for a float (`null` when not finite).
fn float<T: Serialize>(out: &mut Vec<u8>, value: T) -> Result<(), JsonOutError> {
    serde_json::to_writer(out, &value).map_err(|e| JsonOutError(e.to_string()))
}

/// Serializer methods that refuse what they are given, with the writer's reason.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, JsonOutError> {
            Err(self.refused())
        })*
    };
}

/// Serializer methods that write an integer's digits through `$write`.
macro_rules! integers {
    ($write:expr; $($method:ident: $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<(), JsonOutError> {
            $write(self, itoa::Buffer::new().format(v))
        })*
    };
}

/// The serializer: everything is appended to `out`.
struct Writer<'o> {
    out: &'o mut Vec<u8>,
}

impl Writer<'_> {
    /// Appends a number's digits.
    fn digits(&mut self, digits: &str) -> Result<(), JsonOutError> {
        self.out.extend_from_slice(digits.as_bytes());
        Ok(())
    }
}

/// An array or object being written (whether an item was written yet), or the digits of a
/// `serde_json` number.
struct Compound<'w, 'o> {
    writer: &'w mut Writer<'o>,
    first: bool,
    raw: bool,
}

impl<'w, 'o> Compound<'w, 'o> {
    fn open(writer: &'w mut Writer<'o>, bracket: u8) -> Self {
        writer.out.push(bracket);
        Self {
            writer,
            first: true,
            raw: false,
        }
    }

    /// The separator before an item.
    fn item(&mut self) {
        if !self.first {
            self.writer.out.push(b',');
        }
        self.first = false;
    }

    /// An object member: its key and value. A key (a field's name, nearly always short and
    /// plain) is written with its comma, quotes and colon in one reservation, without a call.
    #[inline]
    fn member<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), JsonOutError> {
        let bytes = key.as_bytes();
        if needs_escape(bytes) {
            self.item();
            string(self.writer.out, key);
            self.writer.out.push(b':');
        } else {
            let out = &mut *self.writer.out;
            out.reserve(bytes.len() + 4);
            if !self.first {
                out.push(b',');
            }
            self.first = false;
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\":");
        }
        value.serialize(&mut *self.writer)
    }
}

impl<'w, 'o> ser::Serializer for &'w mut Writer<'o> {
    type Ok = ();
    type Error = JsonOutError;
    type SerializeSeq = Compound<'w, 'o>;
    type SerializeTuple = Compound<'w, 'o>;
    type SerializeTupleStruct = Compound<'w, 'o>;
    type SerializeTupleVariant = Compound<'w, 'o>;
    type SerializeMap = Compound<'w, 'o>;
    type SerializeStruct = Compound<'w, 'o>;
    type SerializeStructVariant = Compound<'w, 'o>;

    fn serialize_bool(self, v: bool) -> Result<(), JsonOutError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(Writer::digits;
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128);
    fn serialize_f32(self, v: f32) -> Result<(), JsonOutError> {
        float(self.out, v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), JsonOutError> {
        float(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<(), JsonOutError> {
        string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), JsonOutError> {
        string(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), JsonOutError> {
        let mut seq = Compound::open(self, b'[');
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), JsonOutError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JsonOutError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), JsonOutError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), JsonOutError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonOutError> {
        string(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonOutError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JsonOutError> {
        let mut object = Compound::open(self, b'{');
        object.member(variant, value)?;
        object.writer.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'o>, JsonOutError> {
        Ok(Compound::open(self, b'['))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'o>, JsonOutError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'o>, JsonOutError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'o>, JsonOutError> {
        self.out.push(b'{');
        string(self.out, variant);
        self.out.push(b':');
        Ok(Compound::open(self, b'['))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'o>, JsonOutError> {
        Ok(Compound::open(self, b'{'))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'o>, JsonOutError> {
        if name == NUMBER_TOKEN {
            return Ok(Compound {
                writer: self,
                first: true,
                raw: true,
            });
        }
        Ok(Compound::open(self, b'{'))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'o>, JsonOutError> {
        self.out.push(b'{');
        string(self.out, variant);
        self.out.push(b':');
        Ok(Compound::open(self, b'{'))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonOutError> {
        self.item();
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), JsonOutError> {
        self.writer.out.push(b']');
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonOutError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), JsonOutError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonOutError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), JsonOutError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonOutError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), JsonOutError> {
        self.writer.out.extend_from_slice(b"]}");
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JsonOutError> {
        self.item();
        key.serialize(TextWriter {
            out: &mut *self.writer.out,
            text: Text::Key,
        })?;
        self.writer.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JsonOutError> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), JsonOutError> {
        self.writer.out.push(b'}');
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonOutError> {
        if self.raw {
            return value.serialize(TextWriter {
                out: &mut *self.writer.out,
                text: Text::Digits,
            });
        }
        self.member(key, value)
    }
    fn end(self) -> Result<(), JsonOutError> {
        if !self.raw {
            self.writer.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = JsonOutError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), JsonOutError> {
        self.member(key, value)
    }
    fn end(self) -> Result<(), JsonOutError> {
        self.writer.out.extend_from_slice(b"}}");
        Ok(())
    }
}

/// What a [`TextWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// A map key, as `serde_json` writes one: a string as it is; a number, boolean or char
    /// quoted; anything else refused.
    Key,
    /// The one field of a `serde_json` number: its digits, as they are; anything else refused.
    Digits,
}

/// Writes a map key or a `serde_json` number's digits: text, never a container.
struct TextWriter<'o> {
    out: &'o mut Vec<u8>,
    text: Text,
}

impl TextWriter<'_> {
    /// Why what was given cannot be written as this text.
    fn refused(&self) -> JsonOutError {
        JsonOutError(
            match self.text {
                Text::Key => "key must be a string",
                Text::Digits => "a serde_json number holds its digits as text",
            }
            .into(),
        )
    }

    /// `text` quoted, as a key that is not a string is written.
    fn quoted(self, text: &str) -> Result<(), JsonOutError> {
        if self.text == Text::Digits {
            return Err(self.refused());
        }
        self.out.push(b'"');
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'"');
        Ok(())
    }

    /// A float key, quoted as `serde_json` writes it (finite only).
    fn float(self, v: impl Serialize, finite: bool) -> Result<(), JsonOutError> {
        if self.text == Text::Digits {
            return Err(self.refused());
        }
        if !finite {
            return Err(JsonOutError(
                "float key must be finite (got NaN or +/-inf)".into(),
            ));
        }
        self.out.push(b'"');
        float(self.out, v)?;
        self.out.push(b'"');
        Ok(())
    }

    /// `text` as a JSON string (a key).
    fn string(self, text: &str) -> Result<(), JsonOutError> {
        if self.text == Text::Digits {
            return Err(self.refused());
        }
        string(self.out, text);
        Ok(())
    }
}

impl ser::Serializer for TextWriter<'_> {
    type Ok = ();
    type Error = JsonOutError;
    type SerializeSeq = ser::Impossible<(), JsonOutError>;
    type SerializeTuple = ser::Impossible<(), JsonOutError>;
    type SerializeTupleStruct = ser::Impossible<(), JsonOutError>;
    type SerializeTupleVariant = ser::Impossible<(), JsonOutError>;
    type SerializeMap = ser::Impossible<(), JsonOutError>;
    type SerializeStruct = ser::Impossible<(), JsonOutError>;
    type SerializeStructVariant = ser::Impossible<(), JsonOutError>;

    integers!(Self::quoted;
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> Result<(), JsonOutError> {
        self.quoted(if v { "true" } else { "false" })
    }
    fn serialize_f32(self, v: f32) -> Result<(), JsonOutError> {
        self.float(v, v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> Result<(), JsonOutError> {
        self.float(v, v.is_finite())
    }
    fn serialize_char(self, v: char) -> Result<(), JsonOutError> {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), JsonOutError> {
        match self.text {
            Text::Key => string(self.out, v),
            Text::Digits => self.out.extend_from_slice(v.as_bytes()),
        }
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), JsonOutError> {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), JsonOutError> {
        if self.text == Text::Digits {
            return Err(self.refused());
        }
        value.serialize(self)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), JsonOutError> {
        Err(self.refused())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), JsonOutError> {
        Err(self.refused())
    }
    refuse! {
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    /// `value` as `serde_json` writes it and as `append` does: they must be the same bytes.
    fn same<T: Serialize + ?Sized>(value: &T) {
        let expected = serde_json::to_vec(value).unwrap();
        let mut got = b"prefix ".to_vec();
        append(&mut got, value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got[7..]),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn strings_escape_as_serde_json_escapes_them() {
        let mut every_byte = String::new();
        for c in 0u8..0x80 {
            every_byte.push(char::from(c));
        }
        for text in [
            "",
            "a",
            "plain text of more than eight bytes",
            "\"quoted\"",
            "back\\slash",
            "tab\there, line\nbreak\r\n, bell\u{7}, delete\u{7f}",
            "é ü 漢字 🦀 \u{1f}",
            "12345678\"",
            "1234567\"8",
            every_byte.as_str(),
        ] {
            same(text);
            same(&BTreeMap::from([(text, text)]));
        }
    }

    #[test]
    fn every_shape_writes_as_serde_json_writes_it() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Inner<'a> {
            text: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            unit: (),
        }
        #[derive(Serialize)]
        enum Shape {
            Unit,
            Newtype(i32),
            Tuple(u8, String),
            Struct { a: bool, b: Option<f64> },
        }
        #[derive(Serialize)]
        struct Newtype(u16);
        #[derive(Serialize)]
        struct Outer<'a> {
            inner: Inner<'a>,
            shapes: Vec<Shape>,
            numbers: (i8, i64, u64, i128, u128, f32, f64),
            floats: [f64; 3],
            newtype: Newtype,
            bytes: serde_bytes_like::Bytes<'a>,
            keys: BTreeMap<u32, bool>,
            bool_keys: BTreeMap<bool, char>,
            flag: bool,
            nothing: Option<()>,
        }
        mod serde_bytes_like {
            pub struct Bytes<'a>(pub &'a [u8]);
            impl serde::Serialize for Bytes<'_> {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(self.0)
                }
            }
        }
        same(&Outer {
            inner: Inner {
                text: "x",
                skipped: None,
                unit: (),
            },
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(-7),
                Shape::Tuple(3, "t".into()),
                Shape::Struct {
                    a: true,
                    b: Some(1.5),
                },
            ],
            numbers: (
                i8::MIN,
                i64::MIN,
                u64::MAX,
                i128::MIN,
                u128::MAX,
                0.1,
                -2.5e300,
            ),
            floats: [f64::NAN, f64::INFINITY, 0.0],
            newtype: Newtype(9),
            bytes: serde_bytes_like::Bytes(b"\x00\xff"),
            keys: BTreeMap::from([(1, true), (20, false)]),
            bool_keys: BTreeMap::from([(true, 'c'), (false, '"')]),
            flag: false,
            nothing: None,
        });
        same(&Vec::<u8>::new());
        same(&BTreeMap::<String, u8>::new());
    }

    #[test]
    fn serde_json_values_write_as_serde_json_writes_them() {
        same(&json!({
            "integer": 12,
            "negative": -3,
            "big": 123456789012345678901234567890u128,
            "decimal": 1130.005,
            "array": [null, true, "x", {"nested": []}],
        }));
        let precise: serde_json::Value = serde_json::from_str("[1.000000000000000000001]").unwrap();
        same(&precise);
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        let mut out = vec![];
        assert!(append(&mut out, &BTreeMap::from([((1, 2), 3)])).is_err());
        assert!(serde_json::to_vec(&BTreeMap::from([((1, 2), 3)])).is_err());
    }

    #[test]
    fn text_of_every_length_is_checked_at_every_byte() {
        for len in 0..40 {
            for at in 0..len {
                for b in [b'"', b'\\', 0x00, 0x1f, b'a', 0x7f, 0xC3] {
                    let mut text = vec![b'x'; len];
                    text[at] = b;
                    assert_eq!(
                        needs_escape(&text),
                        ESCAPE[usize::from(b)] != 0,
                        "byte {b:#x} at {at} of {len}"
                    );
                }
            }
            assert!(!needs_escape(&vec![b'x'; len]));
        }
    }

    #[test]
    fn the_word_test_finds_exactly_the_bytes_json_escapes() {
        for b in 0u8..=255 {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = b;
                let expected = ESCAPE[usize::from(b)] != 0;
                assert_eq!(
                    has_escape(u64::from_le_bytes(word)),
                    expected,
                    "byte {b:#x} at {at}"
                );
                // Beside a byte above 0x7f (UTF-8), which must not hide or fake one.
                word[(at + 1) % 8] = 0xC3;
                assert_eq!(
                    has_escape(u64::from_le_bytes(word)),
                    expected,
                    "byte {b:#x} at {at}"
                );
            }
        }
    }
}
