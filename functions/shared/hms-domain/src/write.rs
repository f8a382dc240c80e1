//! Writing the domain as X12 5010: what every transaction we send shares (the envelope, NM1,
//! amounts), through the engine's writer, which computes every count and refuses values holding
//! a delimiter.

use hms_x12::Delimiters;
use hms_x12::writer::{InterchangeHeader, InterchangeWriter, WriteError};
use rust_decimal::Decimal;

use crate::partner::{Envelope, TradingPartner, Usage};
use crate::party::Name;

/// `Y` or `N`.
pub(crate) fn yes_no(b: bool) -> &'static str {
    if b { "Y" } else { "N" }
}

/// An opened outbound transaction set: the writer, and the creation date (`CCYYMMDD`) and time
/// (`HHMM`) as the BHT writes them.
pub(crate) struct Opened {
    pub w: InterchangeWriter,
    pub date: String,
    pub time: String,
}

/// Opens an interchange to `partner` (ISA), its functional group (GS, `functional_id`) and one
/// transaction set (ST, `set`), all to guide `version`: every X12 we send starts this way.
pub(crate) fn open(
    partner: &TradingPartner,
    envelope: &Envelope,
    functional_id: &str,
    set: &str,
    version: &str,
) -> Result<Opened, WriteError> {
    open_set(partner, envelope, functional_id, set, version, version)
}

/// As [`open`], with ST03 given apart from GS08: the 835's guide (X221A1) does not use ST03,
/// so an 835 names its guide in GS08 alone.
pub(crate) fn open_set(
    partner: &TradingPartner,
    envelope: &Envelope,
    functional_id: &str,
    set: &str,
    version: &str,
    st03: &str,
) -> Result<Opened, WriteError> {
    let created = envelope.created;
    let header = InterchangeHeader {
        sender_qualifier: partner.sender_qualifier.clone(),
        sender_id: partner.sender_id.clone(),
        receiver_qualifier: partner.receiver_qualifier.clone(),
        receiver_id: partner.receiver_id.clone(),
        date: created.format("%y%m%d").to_string(),
        time: created.format("%H%M").to_string(),
        control_number: envelope.control.interchange,
        ack_requested: partner.ack_requested,
        usage: match partner.usage {
            Usage::Test => 'T',
            Usage::Production => 'P',
        },
    };
    let mut w = InterchangeWriter::new(&header, Delimiters::default(), true)?;
    let date = ccyymmdd(created.date());
    let time = created.format("%H%M").to_string();
    w.begin_group(
        functional_id,
        &partner.application_sender,
        &partner.application_receiver,
        &date,
        &time,
        envelope.control.group,
        version,
    )?;
    let control = format!("{:04}", envelope.control.transaction);
    w.begin_transaction(set, &control, st03)?;
    Ok(Opened { w, date, time })
}

/// NM1's elements for `entity` with `name` and, when not empty, the id qualifier and id: the
/// same layout in every transaction.
pub(crate) fn nm1<'a>(
    entity: &'a str,
    name: &'a Name,
    qualifier: &'a str,
    id: &'a str,
) -> [&'a str; 9] {
    match name {
        Name::Organization { name } => [entity, "2", name, "", "", "", "", qualifier, id],
        Name::Person {
            last,
            first,
            middle,
            suffix,
        } => [
            entity,
            "1",
            last,
            first,
            middle.as_deref().unwrap_or(""),
            "",
            suffix.as_deref().unwrap_or(""),
            qualifier,
            id,
        ],
    }
}

/// Why a claim could not be written as X12.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// A value cannot be written (it holds a delimiter, or an envelope field is too wide).
    #[error("{field}: {source}")]
    Write {
        /// The field of the claim being written.
        field: String,
        /// What the writer refused.
        source: WriteError,
    },
    /// The claim lacks something the guide requires and no default can stand in for.
    #[error("{field}: {message}")]
    Missing {
        /// The field, as a JSON pointer into the claim.
        field: String,
        /// What is missing.
        message: String,
    },
}

pub(crate) fn write_error(field: &str, source: hms_x12::writer::WriteError) -> TranslateError {
    TranslateError::Write {
        field: field.to_string(),
        source,
    }
}

/// An amount as X12 writes a decimal (R): no exponent, no trailing zeros after the point.
pub(crate) fn amount(value: Decimal) -> String {
    value.normalize().to_string()
}

/// `date` as X12 writes a `D8` date (CCYYMMDD), made directly: chrono's `format` parses its
/// pattern on every call, and a claim carries several dates. A year past four digits is left
/// to chrono (the validator refuses what it writes for one).
pub fn ccyymmdd(date: impl std::borrow::Borrow<chrono::NaiveDate>) -> String {
    use chrono::Datelike;
    let date = *date.borrow();
    let Ok(year @ 0..=9999) = u32::try_from(date.year()) else {
        return date.format("%Y%m%d").to_string();
    };
    let (month, day) = (date.month(), date.day());
    [
        year / 1000,
        year / 100,
        year / 10,
        year,
        month / 10,
        month,
        day / 10,
        day,
    ]
    .into_iter()
    .map(|n| char::from(b'0' + (n % 10) as u8))
    .collect()
}

#[cfg(test)]
mod ccyymmdd_tests {
    use chrono::{Days, NaiveDate};

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut date = NaiveDate::from_ymd_opt(-3, 1, 1).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(10_002, 12, 31).unwrap_or_default();
        while date <= last {
            assert_eq!(super::ccyymmdd(date), date.format("%Y%m%d").to_string());
            let borrowed: &NaiveDate = &date;
            assert_eq!(super::ccyymmdd(borrowed), date.format("%Y%m%d").to_string());
            date = date + Days::new(97);
        }
    }
}
