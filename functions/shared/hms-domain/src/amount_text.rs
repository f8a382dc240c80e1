//! Amounts in JSON as decimal strings (`"1130.00"`), never floats, so no cent is lost between a
//! payer's 835 and a user's ledger. Written straight into the output (no intermediate `String`
//! per amount: a remittance has several per service line). Use as
//! `#[serde(with = "crate::amount_text")]`, or `crate::amount_text::option` for an `Option`.
#![allow(
    clippy::indexing_slicing,
    reason = "a fixed buffer sized for the widest Decimal, filled from its end"
)]

use rust_decimal::Decimal;
use serde::{Deserializer, Serializer};

/// Writes `amount` as a JSON string.
pub fn serialize<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let mut digits = [0u8; 48];
    serializer.serialize_str(plain(amount, &mut digits))
}

/// `amount` as `Decimal`'s `Display` writes it (sign, digits, a point before the last `scale`
/// digits), made in `buffer` from the mantissa: the formatter's machinery costs more than the
/// digits, and a remittance prints several amounts per line.
pub(crate) fn plain<'b>(amount: &Decimal, buffer: &'b mut [u8; 48]) -> &'b str {
    let scale = amount.scale() as usize;
    let mantissa = amount.mantissa();
    let mut magnitude = mantissa.unsigned_abs();
    // Digits from the end of the buffer backwards.
    let mut at = buffer.len();
    let mut written = 0;
    while magnitude > 0 || written <= scale {
        if written == scale && scale > 0 {
            at -= 1;
            buffer[at] = b'.';
        }
        at -= 1;
        // Amounts fit in 64 bits; the 128-bit division is the rare case.
        let digit = match u64::try_from(magnitude) {
            Ok(small) => {
                magnitude = u128::from(small / 10);
                small % 10
            }
            Err(_) => {
                let d = (magnitude % 10) as u64;
                magnitude /= 10;
                d
            }
        };
        buffer[at] = b'0' + digit as u8;
        written += 1;
    }
    if mantissa < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    std::str::from_utf8(&buffer[at..]).unwrap_or_default()
}

/// Reads an amount from a JSON string (or a number, as `rust_decimal` accepts).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    rust_decimal::serde::str::deserialize(deserializer)
}

/// The same for an optional amount (`null` when absent).
pub mod option {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    /// Writes `amount` as a JSON string, or `null`.
    pub fn serialize<S: Serializer>(
        amount: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match amount {
            Some(a) => super::serialize(a, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads an optional amount.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        rust_decimal::serde::str_option::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Line {
        #[serde(with = "crate::amount_text")]
        charge: Decimal,
        #[serde(with = "crate::amount_text::option")]
        paid: Option<Decimal>,
    }

    #[test]
    fn amounts_print_as_decimal_displays_them() {
        let mut next = hms_test_support::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut cases = vec![
            Decimal::ZERO,
            Decimal::new(0, 2),
            Decimal::new(-0, 3),
            Decimal::new(5, 1),
            Decimal::new(-5, 28),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(i64::MIN, 2),
        ];
        for _ in 0..10_000 {
            let (a, b) = (next(), next());
            let mantissa = (i128::from(a) << 32 | i128::from(b >> 32)) >> (b % 64);
            let scale = (next() % 29) as u32;
            if let Ok(d) = Decimal::try_from_i128_with_scale(mantissa, scale) {
                cases.push(d);
                cases.push(-d);
            }
        }
        let mut buffer = [0u8; 48];
        for d in cases {
            assert_eq!(super::plain(&d, &mut buffer), d.to_string(), "{d:?}");
        }
    }

    #[test]
    fn amounts_are_strings_both_ways_with_their_scale() {
        let line = Line {
            charge: Decimal::new(113000, 2),
            paid: None,
        };
        let json = serde_json::to_string(&line).unwrap_or_default();
        assert_eq!(json, r#"{"charge":"1130.00","paid":null}"#);
        let extreme = Line {
            charge: Decimal::MIN,
            paid: Some(Decimal::new(-1, 28)),
        };
        let json = serde_json::to_string(&extreme).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"charge":"-79228162514264337593543950335","paid":"-0.0000000000000000000000000001"}"#
        );
        let back: Result<Line, _> = serde_json::from_str(r#"{"charge":"-0.50","paid":"12"}"#);
        assert_eq!(
            back.ok(),
            Some(Line {
                charge: Decimal::new(-50, 2),
                paid: Some(Decimal::new(12, 0)),
            })
        );
    }
}
