//! FHIR R4 JSON for what leaves the clearinghouse toward FHIR users: one
//! `ExplanationOfBenefit` per claim payment of an 835, gathered in a `Bundle`.
//!
//! Amounts are written as JSON numbers with exactly the decimal digits the 835 carried (serde_json
//! keeps the text of a number; no float ever holds money). Codes carry their systems: X12 claim
//! adjustment group and reason codes, CPT/HCPCS and revenue codes; remark codes (LQ) become
//! process notes the lines point at.
//!
//! The resources are typed structures serialized straight to their JSON (no `serde_json::Value`
//! tree per resource): an 835 of tens of thousands of claim payments becomes FHIR at the
//! speed of the read, one EOB at a time ([`super::stream::RemitWriter::fhir`]).
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Number, Value, json};

use crate::remittance::{Adjustment, ClaimPayment, Remark, Remittance, ServicePayment};

/// Code system of X12 claim adjustment group codes.
pub const GROUP_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-group-codes";
/// Code system of claim adjustment reason codes (CARC).
pub const CARC_SYSTEM: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
/// HL7's adjudication categories.
pub const ADJUDICATION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/adjudication";

/// A decimal as a JSON number with the same digits.
#[derive(Debug, Clone, Copy)]
struct Amount(Decimal);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut digits = [0u8; 48];
        match Number::from_str(crate::amount_text::plain(&self.0, &mut digits)) {
            Ok(n) => n.serialize(s),
            Err(_) => s.serialize_none(),
        }
    }
}

/// A date as FHIR writes it (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy)]
struct Day(NaiveDate);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        // Written directly: `format("%Y-%m-%d")` parses its pattern on every call, and
        // `collect_str` makes a `String` of it.
        let d = self.0;
        let (year, month, day) = (d.year(), d.month(), d.day());
        let Ok(year @ 0..=9999) = u32::try_from(year) else {
            return s.collect_str(&format_args!("{year:04}-{month:02}-{day:02}"));
        };
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let text = [
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(month / 10),
            digit(month),
            b'-',
            digit(day / 10),
            digit(day),
        ];
        s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

#[derive(Debug, Serialize)]
struct Money {
    value: Amount,
    currency: &'static str,
}

fn money(value: Decimal) -> Money {
    Money {
        value: Amount(value),
        currency: "USD",
    }
}

#[derive(Debug, Serialize)]
struct Coding<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Concept<'a> {
    coding: [Coding<'a>; 1],
}

fn concept<'a>(system: Option<&'a str>, code: &'a str, display: Option<&'a str>) -> Concept<'a> {
    Concept {
        coding: [Coding {
            system,
            code,
            display,
        }],
    }
}

#[derive(Debug, Serialize)]
struct Reference {
    reference: &'static str,
}

#[derive(Debug, Serialize)]
struct Text {
    text: &'static str,
}

/// An adjudication entry: a total by HL7 category, or an adjustment by group and reason.
#[derive(Debug, Serialize)]
struct Adjudication<'a> {
    category: Concept<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Concept<'a>>,
    amount: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Amount>,
}

fn adjudication_total(category: &'static str, value: Decimal) -> Adjudication<'static> {
    Adjudication {
        category: concept(Some(ADJUDICATION_SYSTEM), category, None),
        reason: None,
        amount: money(value),
        value: None,
    }
}

fn adjustment(a: &Adjustment) -> Adjudication<'_> {
    Adjudication {
        category: concept(Some(GROUP_SYSTEM), &a.group_code, Some(&a.group)),
        reason: Some(concept(
            Some(CARC_SYSTEM),
            &a.reason_code,
            a.reason.as_deref(),
        )),
        amount: money(a.amount),
        value: a.quantity.map(Amount),
    }
}

/// Adjustments as adjudication entries, after `totals`.
#[derive(Debug)]
struct Adjudications<'a, const N: usize> {
    totals: [Adjudication<'a>; N],
    adjustments: &'a [Adjustment],
}

impl<const N: usize> Serialize for Adjudications<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(N + self.adjustments.len()))?;
        for total in &self.totals {
            seq.serialize_element(total)?;
        }
        for a in self.adjustments {
            seq.serialize_element(&adjustment(a))?;
        }
        seq.end()
    }
}

#[derive(Debug, Serialize)]
struct HumanName<'a> {
    family: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    given: Option<[&'a str; 1]>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainedPatient<'a> {
    resource_type: &'static str,
    id: &'static str,
    name: [HumanName<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainedCoverage<'a> {
    resource_type: &'static str,
    id: &'static str,
    status: &'static str,
    beneficiary: Reference,
    payor: [Reference; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    subscriber_id: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct SystemValue<'a> {
    system: &'static str,
    value: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContainedOrganization<'a> {
    resource_type: &'static str,
    id: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<[SystemValue<'a>; 1]>,
}

#[derive(Debug, Serialize)]
struct TypedIdentifier<'a> {
    #[serde(rename = "type")]
    kind: Text,
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct Insurance {
    focal: bool,
    coverage: Reference,
}

#[derive(Debug, Serialize)]
struct ValueOnly<'a> {
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct EobPayment<'a> {
    amount: Money,
    identifier: ValueOnly<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<Day>,
}

#[derive(Debug, Serialize)]
struct Quantity {
    value: Amount,
}

#[derive(Debug, Serialize)]
struct Period {
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<Day>,
    end: Day,
}

#[derive(Debug, Serialize)]
struct Modifier<'a> {
    coding: [ModifierCode<'a>; 1],
}

#[derive(Debug, Serialize)]
struct ModifierCode<'a> {
    code: &'a str,
}

/// One service payment as an EOB item: the service, its dates and units, what was charged,
/// paid and adjusted, and the numbers of its remarks among the EOB's process notes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    sequence: usize,
    product_or_service: Concept<'a>,
    adjudication: Adjudications<'a, 2>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    modifier: Vec<Modifier<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serviced_period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serviced_date: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "NoteNumbers::is_empty")]
    note_number: NoteNumbers,
}

impl<'a> Item<'a> {
    /// Item `i` (from 0), whose remarks are process notes from `first_note` on.
    fn new(i: usize, s: &'a ServicePayment, first_note: usize) -> Self {
        let system = match s.code_qualifier.as_str() {
            "NU" => "https://www.nubc.org/CodeSystem/RevenueCodes",
            _ => "http://www.ama-assn.org/go/cpt",
        };
        let (serviced_period, serviced_date) = match (s.service_date, s.service_date_end) {
            (start, Some(end)) => (
                Some(Period {
                    start: start.map(Day),
                    end: Day(end),
                }),
                None,
            ),
            (Some(date), None) => (None, Some(Day(date))),
            (None, None) => (None, None),
        };
        Self {
            sequence: i + 1,
            product_or_service: concept(Some(system), &s.procedure_code, None),
            adjudication: Adjudications {
                totals: [
                    adjudication_total("submitted", s.charge),
                    adjudication_total("benefit", s.paid),
                ],
                adjustments: &s.adjustments,
            },
            modifier: s
                .modifiers
                .iter()
                .map(|m| Modifier {
                    coding: [ModifierCode { code: m }],
                })
                .collect(),
            serviced_period,
            serviced_date,
            quantity: s.units.map(|u| Quantity { value: Amount(u) }),
            note_number: NoteNumbers(first_note..first_note + s.remarks.len()),
        }
    }
}

/// The numbers of an item's process notes: a run of them, written as a list.
#[derive(Debug)]
struct NoteNumbers(std::ops::Range<usize>);

impl NoteNumbers {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for NoteNumbers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

/// A claim payment's service lines as items, numbering their remarks through the EOB.
#[derive(Debug)]
struct Items<'a>(&'a [ServicePayment]);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        let mut note = 1;
        for (i, service) in self.0.iter().enumerate() {
            seq.serialize_element(&Item::new(i, service, note))?;
            note += service.remarks.len();
        }
        seq.end()
    }
}

#[derive(Debug, Serialize)]
struct ProcessNote<'a> {
    number: usize,
    #[serde(rename = "type")]
    kind: &'static str,
    text: RemarkText<'a>,
}

/// `remark code {code}[: {description}]`, written without building the string.
#[derive(Debug)]
struct RemarkText<'a>(&'a Remark);

impl Serialize for RemarkText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0.description {
            Some(d) => s.collect_str(&format_args!("remark code {}: {d}", self.0.code)),
            None => s.collect_str(&format_args!("remark code {}", self.0.code)),
        }
    }
}

/// Every remark of a claim payment's lines, numbered from 1 in line order.
#[derive(Debug)]
struct ProcessNotes<'a>(&'a [ServicePayment]);

impl ProcessNotes<'_> {
    fn is_empty(&self) -> bool {
        self.0.iter().all(|s| s.remarks.is_empty())
    }
}

impl Serialize for ProcessNotes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (n, remark) in self.0.iter().flat_map(|s| &s.remarks).enumerate() {
            seq.serialize_element(&ProcessNote {
                number: n + 1,
                kind: "display",
                text: RemarkText(remark),
            })?;
        }
        seq.end()
    }
}

/// `eob-{n}`.
#[derive(Debug, Clone, Copy)]
struct EobId(usize);

impl Serialize for EobId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("eob-{}", self.0))
    }
}

/// The `ExplanationOfBenefit` of one claim payment, borrowing from the payment and the claim
/// payment it describes: serialized as it is written, never built as a JSON tree.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eob<'a> {
    resource_type: &'static str,
    id: EobId,
    contained: (
        ContainedPatient<'a>,
        ContainedCoverage<'a>,
        ContainedOrganization<'a>,
        ContainedOrganization<'a>,
    ),
    identifier: Vec<TypedIdentifier<'a>>,
    status: &'static str,
    created: Day,
    #[serde(rename = "type")]
    claim_type: Concept<'a>,
    #[serde(rename = "use")]
    usage: &'static str,
    patient: Reference,
    insurer: Reference,
    provider: Reference,
    outcome: &'static str,
    disposition: &'a str,
    insurance: [Insurance; 1],
    item: Items<'a>,
    adjudication: Adjudications<'a, 0>,
    total: [Adjudication<'static>; 2],
    payment: EobPayment<'a>,
    #[serde(skip_serializing_if = "ProcessNotes::is_empty")]
    process_note: ProcessNotes<'a>,
}

impl<'a> Eob<'a> {
    /// The EOB numbered `index + 1` for `claim` of `remit`, made on `created` (R4 requires
    /// the date the resource was made; the check or EFT date is the payment's).
    pub fn new(
        remit: &'a Remittance,
        claim: &'a ClaimPayment,
        index: usize,
        created: NaiveDate,
    ) -> Self {
        // Inpatient adjudication (MIA) or revenue-code lines (NU) mark an institutional
        // claim; CLP08 alone cannot, it holds a place of service on professional claims.
        let institutional =
            claim.inpatient || claim.services.iter().any(|s| s.code_qualifier == "NU");
        let claim_type = if institutional {
            "institutional"
        } else {
            "professional"
        };
        let patient = claim.patient.as_ref();
        let mut identifier = vec![TypedIdentifier {
            kind: Text {
                text: "patient control number",
            },
            value: &claim.patient_control_number,
        }];
        if let Some(payer_number) = &claim.payer_claim_control_number {
            identifier.push(TypedIdentifier {
                kind: Text {
                    text: "payer claim control number",
                },
                value: payer_number,
            });
        }
        let payee_npi = remit
            .payee
            .id
            .as_ref()
            .filter(|id| id.qualifier == "XX")
            .map(|id| {
                [SystemValue {
                    system: "http://hl7.org/fhir/sid/us-npi",
                    value: &id.value,
                }]
            });
        Self {
            resource_type: "ExplanationOfBenefit",
            id: EobId(index + 1),
            contained: (
                ContainedPatient {
                    resource_type: "Patient",
                    id: "patient",
                    name: [HumanName {
                        family: patient.map_or("", |p| p.last.as_str()),
                        given: patient.and_then(|p| p.first.as_deref()).map(|f| [f]),
                    }],
                },
                ContainedCoverage {
                    resource_type: "Coverage",
                    id: "coverage",
                    status: "active",
                    beneficiary: Reference {
                        reference: "#patient",
                    },
                    payor: [Reference {
                        reference: "#payer",
                    }],
                    subscriber_id: patient.and_then(|p| p.id.as_deref()),
                },
                ContainedOrganization {
                    resource_type: "Organization",
                    id: "payer",
                    name: &remit.payer.name,
                    identifier: None,
                },
                ContainedOrganization {
                    resource_type: "Organization",
                    id: "payee",
                    name: &remit.payee.name,
                    identifier: payee_npi,
                },
            ),
            identifier,
            status: "active",
            created: Day(created),
            claim_type: concept(
                Some("http://terminology.hl7.org/CodeSystem/claim-type"),
                claim_type,
                None,
            ),
            usage: "claim",
            patient: Reference {
                reference: "#patient",
            },
            insurer: Reference {
                reference: "#payer",
            },
            provider: Reference {
                reference: "#payee",
            },
            outcome: "complete",
            disposition: &claim.status,
            insurance: [Insurance {
                focal: true,
                coverage: Reference {
                    reference: "#coverage",
                },
            }],
            item: Items(&claim.services),
            adjudication: Adjudications {
                totals: [],
                adjustments: &claim.adjustments,
            },
            total: [
                adjudication_total("submitted", claim.charge),
                adjudication_total("benefit", claim.paid),
            ],
            payment: EobPayment {
                amount: money(claim.paid),
                identifier: ValueOnly {
                    value: &remit.payment.trace_number,
                },
                date: remit.payment.date.map(Day),
            },
            process_note: ProcessNotes(&claim.services),
        }
    }
}

/// The `ExplanationOfBenefit` for one claim payment of `remit`, as a JSON value (for callers
/// that change it before writing; [`Eob`] writes it directly).
pub fn explanation_of_benefit(
    remit: &Remittance,
    claim: &ClaimPayment,
    index: usize,
    created: NaiveDate,
) -> Value {
    serde_json::to_value(Eob::new(remit, claim, index, created)).unwrap_or(Value::Null)
}

/// A `Bundle` (type `collection`) with one `ExplanationOfBenefit` per claim payment, made on
/// `created`.
pub fn remittance_bundle(remits: &[Remittance], created: NaiveDate) -> Value {
    let mut entries = vec![];
    for remit in remits {
        for claim in &remit.claims {
            let eob = explanation_of_benefit(remit, claim, entries.len(), created);
            entries.push(json!({ "resource": eob }));
        }
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

    use super::*;

    #[test]
    fn days_and_amounts_write_as_their_display() {
        for (y, m, d) in [
            (2026, 12, 7),
            (1, 1, 1),
            (999, 10, 31),
            (10_000, 2, 29),
            (-5, 6, 15),
        ] {
            let Some(date) = NaiveDate::from_ymd_opt(y, m, d) else {
                continue;
            };
            let expected = format!("\"{y:04}-{m:02}-{d:02}\"");
            assert_eq!(serde_json::to_string(&Day(date)).unwrap(), expected);
        }
        for text in [
            "0",
            "0.00",
            "-1.5",
            "1130.00",
            "79228162514264337593543950335",
            "-0.01",
        ] {
            let amount: Decimal = text.parse().unwrap();
            assert_eq!(serde_json::to_string(&Amount(amount)).unwrap(), text);
        }
    }
}
