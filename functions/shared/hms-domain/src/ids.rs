//! Identifiers as newtypes: a value that exists has passed its shape check, so code that holds an
//! [`Npi`] never asks again whether it is one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not ten digits.
    #[error("an NPI is 10 digits; got {0:?}")]
    NpiShape(String),
    /// Ten digits whose last is not the Luhn check digit (with the 80840 prefix).
    #[error("NPI {0} fails its check digit (Luhn over 80840 + the first nine digits)")]
    NpiCheckDigit(String),
    /// Not nine digits.
    #[error("a tax identification number is 9 digits (dashes allowed); got {0:?}")]
    TaxId(String),
    /// Empty, too long, or holding characters X12 cannot carry.
    #[error("{kind} must be 1 to {max} printable characters; got {value:?}")]
    Text {
        /// What the identifier is.
        kind: &'static str,
        /// Its maximum length.
        max: usize,
        /// The value refused.
        value: String,
    },
}

/// A National Provider Identifier: ten digits, the last meant to be a Luhn check digit computed
/// over the card-issuer prefix 80840 and the first nine (CMS, "Requirements for NPI check
/// digit").
///
/// The type holds the shape; the check digit is asked separately ([`Npi::check`]) because a
/// claim with a mistyped NPI must still be read, kept and answered (the scrubber's
/// `npi-check-digit` edit, a 277CA rejection), not dropped with the file it came in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Npi(String);

impl Npi {
    /// Parses an NPI's shape: ten digits.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::NpiShape(value.to_string()));
        }
        Ok(Self(value.to_string()))
    }

    /// Parses an NPI and checks its check digit: for inquiries, which no scrubber sees.
    pub fn parse_checked(value: &str) -> Result<Self, IdError> {
        let npi = Self::parse(value)?;
        npi.check()?;
        Ok(npi)
    }

    /// Whether the last digit is the Luhn check digit of the first nine (with the 80840 prefix).
    pub fn check(&self) -> Result<(), IdError> {
        let digits: Vec<u32> = self.0.chars().filter_map(|c| c.to_digit(10)).collect();
        match digits.split_last() {
            Some((&last, first_nine)) if npi_check_digit(first_nine) == last => Ok(()),
            _ => Err(IdError::NpiCheckDigit(self.0.clone())),
        }
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Luhn check digit of an NPI's first nine digits: the constant 24 stands for the 80840
/// prefix's contribution, as the CMS description of the algorithm gives it.
fn npi_check_digit(first_nine: &[u32]) -> u32 {
    let mut sum = 24;
    for (i, &d) in first_nine.iter().enumerate() {
        // Doubled: every other digit, starting with the first (rightmost of the payload).
        sum += if i % 2 == 0 {
            let twice = d * 2;
            twice / 10 + twice % 10
        } else {
            d
        };
    }
    (10 - sum % 10) % 10
}

/// A federal tax identification number (EIN or SSN), kept as nine digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaxId(String);

impl TaxId {
    /// Parses `123456789` or `12-3456789`.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let digits: String = value.chars().filter(|c| *c != '-').collect();
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::TaxId(value.to_string()));
        }
        Ok(Self(digits))
    }

    /// The nine digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks free-text identifiers: 1 to `max` printable ASCII characters.
fn text(kind: &'static str, max: usize, value: &str) -> Result<String, IdError> {
    let fits = !value.is_empty()
        && value.len() <= max
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && value.trim() == value;
    if fits {
        Ok(value.to_string())
    } else {
        Err(IdError::Text {
            kind,
            max,
            value: value.to_string(),
        })
    }
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses the identifier (1 to its maximum of printable characters).
            pub fn parse(value: &str) -> Result<Self, IdError> {
                text($kind, $max, value).map(Self)
            }

            /// The identifier as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_id!(
    /// The member identifier a payer assigned to a subscriber (NM109 of loop 2010BA).
    MemberId,
    "a member id",
    80
);
text_id!(
    /// The payer's identifier at the clearinghouse (NM109 of loop 2010BB, qualifier PI).
    PayerId,
    "a payer id",
    80
);
text_id!(
    /// The provider's own claim number, echoed back on the 277CA and the 835 (CLM01).
    PatientControlNumber,
    "a patient control number",
    38
);

macro_rules! serde_by_str {
    ($($name:ident),*) => {$(
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

serde_by_str!(Npi, TaxId, MemberId, PayerId, PatientControlNumber);

/// Deserializes an NPI and checks its check digit (`#[serde(deserialize_with)]`): for
/// inquiries, which go to the payer as they are, with no scrubber in between.
pub fn checked_npi<'de, D: Deserializer<'de>>(d: D) -> Result<Npi, D::Error> {
    let text = String::deserialize(d)?;
    Npi::parse_checked(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit_follows_the_cms_example() {
        // CMS's worked example: 123456789 has check digit 3.
        assert!(Npi::parse_checked("1234567893").is_ok());
        assert_eq!(
            Npi::parse_checked("1234567890"),
            Err(IdError::NpiCheckDigit("1234567890".into()))
        );
        assert!(matches!(Npi::parse("123456789"), Err(IdError::NpiShape(_))));
        assert!(matches!(
            Npi::parse("12345678a3"),
            Err(IdError::NpiShape(_))
        ));
        // The billing provider NPI of the 837P TR3 example.
        assert!(Npi::parse_checked("1912301953").is_ok());
        // The shape alone: a mistyped NPI is still an NPI, to be reported by the scrubber.
        assert!(Npi::parse("1234567890").is_ok_and(|n| n.check().is_err()));
    }

    #[test]
    fn every_wrong_check_digit_is_caught() {
        for last in 0..10 {
            let candidate = format!("123456789{last}");
            assert_eq!(
                Npi::parse_checked(&candidate).is_ok(),
                last == 3,
                "{candidate}"
            );
        }
    }

    #[test]
    fn text_ids_refuse_what_x12_cannot_carry() {
        assert!(MemberId::parse("W123456789").is_ok());
        assert!(MemberId::parse("").is_err());
        assert!(MemberId::parse(" W1").is_err());
        assert!(MemberId::parse("W1\u{e9}").is_err());
        assert!(TaxId::parse("12-3456789").is_ok());
        assert!(TaxId::parse("12345678").is_err());
    }
}
