//! The claim, as our users send it and as the 837 carries it.
//!
//! The JSON form is this model serialized with camelCase names (see `docs` in the README and the
//! fixtures under `tests/fixtures/claims/`). Money is a decimal written as a string
//! (`"125.00"`), dates are `YYYY-MM-DD`, and unknown fields are refused so that a typo is an
//! error, not a silently dropped value.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{MemberId, PatientControlNumber, PayerId};
use crate::party::{Address, Gender, Name, Payer, Provider, Receiver, Submitter};

/// Who is who on a claim: what the 837P and 837I share up to the claim loop.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    pub submitter: &'a Submitter,
    pub receiver: &'a Receiver,
    pub billing_provider: &'a Provider,
    pub pay_to_address: Option<&'a Address>,
    pub subscriber: &'a Subscriber,
    pub patient: Option<&'a Patient>,
    pub payer: &'a Payer,
    /// The claim's patient control number (CLM01).
    pub reference: &'a str,
    /// Sent for reporting (BHT06 `RP`), not for payment (`CH`).
    pub encounter: bool,
}

/// The parties of a claim, owned: what every 837 names above the claim loop, which the 837
/// and FHIR readers read once for either kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Loop 1000A.
    pub submitter: Submitter,
    /// Loop 1000B.
    pub receiver: Receiver,
    /// Loop 2010AA.
    pub billing_provider: Provider,
    /// Loop 2010AB.
    pub pay_to_address: Option<Address>,
    /// Loops 2000B, 2010BA.
    pub subscriber: Subscriber,
    /// Loops 2000C, 2010CA, when the patient is not the subscriber.
    pub patient: Option<Patient>,
    /// Loop 2010BB.
    pub payer: Payer,
}

/// Declares a claim of one kind: the parties every 837 names up to the claim loop (loops 1000A
/// through 2010BB), the claim loop, the kind's own providers and data, and its service lines.
/// What both kinds share is declared here once, so their JSON forms cannot drift apart (serde's
/// `flatten` would share it too, but cannot refuse unknown fields).
macro_rules! claim_of_kind {
    (
        $(#[$doc:meta])*
        $name:ident {
            claim: $info:ty,
            $(#[$lines_doc:meta])*
            service_lines: $line:ty;
            $( $(#[$field_doc:meta])* $field:ident: $field_type:ty, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            /// Who sends the claim to the clearinghouse (loop 1000A).
            pub submitter: Submitter,
            /// The payer's receiving system (loop 1000B).
            pub receiver: Receiver,
            /// The provider or facility billing for the services (loop 2010AA).
            pub billing_provider: Provider,
            /// Where payment goes, when not to the billing provider's address (loop 2010AB).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub pay_to_address: Option<Address>,
            /// The insured (loops 2000B, 2010BA).
            pub subscriber: Subscriber,
            /// The patient, when not the subscriber (loops 2000C, 2010CA).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub patient: Option<Patient>,
            /// The payer (loop 2010BB).
            pub payer: Payer,
            /// The claim itself (loop 2300).
            pub claim: $info,
            $( $(#[$field_doc])* pub $field: $field_type, )*
            /// Other coverage, for coordination of benefits (loops 2320, 2330A, 2330B): on a
            /// secondary claim, the payer ahead and what it paid.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub other_coverage: Vec<OtherCoverage>,
            $(#[$lines_doc])*
            pub service_lines: Vec<$line>,
        }

        impl $name {
            /// A claim of the parties `header` and the claim loop `claim` with its lines;
            /// no other coverage, and none of the kind's own providers or data yet.
            pub fn new(header: Header, claim: $info, service_lines: Vec<$line>) -> Self {
                let Header {
                    submitter,
                    receiver,
                    billing_provider,
                    pay_to_address,
                    subscriber,
                    patient,
                    payer,
                } = header;
                Self {
                    submitter,
                    receiver,
                    billing_provider,
                    pay_to_address,
                    subscriber,
                    patient,
                    payer,
                    claim,
                    $( $field: Default::default(), )*
                    other_coverage: Vec::new(),
                    service_lines,
                }
            }

            /// Who is who on the claim, as the 837 writers and the scrubber's shared edits
            /// take it.
            pub fn parties(&self) -> Parties<'_> {
                Parties {
                    submitter: &self.submitter,
                    receiver: &self.receiver,
                    billing_provider: &self.billing_provider,
                    pay_to_address: self.pay_to_address.as_ref(),
                    subscriber: &self.subscriber,
                    patient: self.patient.as_ref(),
                    payer: &self.payer,
                    reference: self.claim.patient_control_number.as_str(),
                    encounter: self.claim.encounter(),
                }
            }
        }
    };
}

claim_of_kind! {
    /// A professional claim (what an 837P carries): one billing provider, one subscriber (and a
    /// patient when it is someone else), one payer, one claim with its service lines.
    ProfessionalClaim {
        claim: ClaimInformation,
        /// Service lines (loop 2400), at least one and at most 50.
        service_lines: ServiceLine;
        /// The provider who performed the services, when not the billing provider (loop 2310B).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rendering_provider: Option<Provider>,
        /// The provider who referred the patient (loop 2310A).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referring_provider: Option<Provider>,
        /// The provider who supervised the rendering provider (loop 2310D).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supervising_provider: Option<Provider>,
        /// Ambulance transport: why, how far, from where to where (CR1, CRC, loops 2310E and
        /// 2310F).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ambulance: Option<Ambulance>,
    }
}

claim_of_kind! {
    /// An institutional claim (what an 837I carries): a facility's bill (UB-04) for an inpatient
    /// stay or outpatient visit.
    InstitutionalClaim {
        claim: InstitutionalClaimInformation,
        /// Service lines (loop 2400), at least one and at most 999.
        service_lines: InstitutionalLine;
        /// The attending provider (loop 2310A): required unless the claim is only for
        /// non-scheduled transportation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attending_provider: Option<Provider>,
        /// The operating physician (loop 2310B), when a surgical procedure code is billed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operating_provider: Option<Provider>,
    }
}

/// Which payer this claim goes to in the order of benefits (SBR01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Responsibility {
    /// P.
    #[default]
    Primary,
    /// S.
    Secondary,
    /// T.
    Tertiary,
}

impl Responsibility {
    /// The X12 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Primary => "P",
            Self::Secondary => "S",
            Self::Tertiary => "T",
        }
    }
}

/// The insured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscriber {
    /// Member id.
    pub member_id: MemberId,
    /// Name (a person, or an organization for some coverage).
    pub name: Name,
    /// Address (required when the subscriber is the patient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Date of birth (required when the subscriber is the patient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Sex (required when the subscriber is the patient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Group or policy number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_number: Option<String>,
    /// This payer's place in the order of benefits.
    #[serde(default)]
    pub responsibility: Responsibility,
    /// Claim filing indicator (SBR09: `CI` commercial, `MB` Medicare Part B, `MC` Medicaid, ...).
    pub claim_filing_indicator: String,
}

/// The patient, when not the subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patient {
    /// Relationship to the subscriber (PAT01: `01` spouse, `19` child, `20` employee, `21`
    /// unknown, `39` organ donor, `40` cadaver donor, `53` life partner, `G8` other).
    pub relationship: String,
    /// Name.
    pub name: Name,
    /// Address.
    pub address: Address,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    pub gender: Gender,
}

/// Loop 2300: the claim header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimInformation {
    /// The provider's claim number (CLM01).
    pub patient_control_number: PatientControlNumber,
    /// Total charge: the sum of the lines' charges (CLM02).
    #[serde(with = "crate::amount_text")]
    pub total_charge: Decimal,
    /// Place of service code (two digits, CMS list).
    pub place_of_service: String,
    /// Claim frequency (`1` original, `7` replacement, `8` void).
    #[serde(default = "original")]
    pub frequency: String,
    /// Whether the provider's signature is on file (CLM06).
    #[serde(default = "yes")]
    pub provider_signature_on_file: bool,
    /// Assignment or plan participation (CLM07: `A` assigned, `B` lab services only, `C` not
    /// assigned).
    #[serde(default = "assigned")]
    pub assignment: String,
    /// Whether benefits are assigned to the provider (CLM08).
    #[serde(default = "yes")]
    pub benefits_assigned: bool,
    /// Release of information (CLM09: `Y` signed statement, `I` informed consent).
    #[serde(default = "signed")]
    pub release_of_information: String,
    /// Onset of the current illness (DTP*431).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset_date: Option<NaiveDate>,
    /// Date of the accident, when the claim is for one (DTP*439).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accident_date: Option<NaiveDate>,
    /// Prior authorization number (REF*G1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_authorization: Option<String>,
    /// What the services are related to (CLM11-1 to -3: `AA` auto accident, `EM` employment,
    /// `OA` other accident), up to three; payers coordinate with auto and workers'
    /// compensation carriers on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_causes: Vec<String>,
    /// The state or province of an auto accident (CLM11-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accident_state: Option<String>,
    /// The hospital stay the services were given in (DTP*435 admission, DTP*096 discharge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospitalization: Option<Stay>,
    /// What the patient has paid toward these services (AMT*F5).
    #[serde(
        default,
        with = "crate::amount_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub patient_paid: Option<Decimal>,
    /// The referral number the payer gave (REF*9F).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_number: Option<String>,
    /// The payer's claim control number of the claim a replacement (frequency 7) or void (8)
    /// corrects (REF*F8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_claim_number: Option<String>,
    /// Diagnosis codes, principal first; with or without the dot; up to 12.
    pub diagnoses: Vec<String>,
    /// The code set of `diagnoses`: ICD-10-CM unless the claim says ICD-9-CM (only for
    /// services before 2015-10-01, the ICD-10 compliance date).
    #[serde(default, skip_serializing_if = "DiagnosisCodes::is_icd10")]
    pub diagnosis_codes: DiagnosisCodes,
    /// Sent for reporting, not payment (an encounter: BHT06 `RP`); every claim of a batch
    /// must agree.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub encounter: bool,
}

impl ClaimInformation {
    /// Sent for reporting (BHT06 `RP`), not for payment.
    pub fn encounter(&self) -> bool {
        self.encounter
    }
}

/// A hospital stay: admitted, and discharged when it has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stay {
    /// Admission date (DTP*435).
    pub admitted: NaiveDate,
    /// Discharge date (DTP*096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharged: Option<NaiveDate>,
}

/// The code set of a claim's diagnoses (a claim uses one: 5010 does not mix them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosisCodes {
    /// ICD-10-CM (HI qualifiers `ABK`, `ABF`).
    #[default]
    Icd10Cm,
    /// ICD-9-CM (HI qualifiers `BK`, `BF`).
    Icd9Cm,
}

impl DiagnosisCodes {
    /// The HI qualifiers of the principal and of the other diagnoses.
    pub fn qualifiers(self) -> (&'static str, &'static str) {
        match self {
            Self::Icd10Cm => ("ABK", "ABF"),
            Self::Icd9Cm => ("BK", "BF"),
        }
    }

    fn is_icd10(&self) -> bool {
        *self == Self::Icd10Cm
    }
}

fn original() -> String {
    "1".into()
}
fn assigned() -> String {
    "A".into()
}
fn signed() -> String {
    "Y".into()
}
fn yes() -> bool {
    true
}

/// One service line (loop 2400).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceLine {
    /// CPT or HCPCS code.
    pub procedure_code: String,
    /// Up to four modifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
    /// Charge for the line.
    #[serde(with = "crate::amount_text")]
    pub charge: Decimal,
    /// Units of service.
    #[serde(with = "crate::amount_text")]
    pub units: Decimal,
    /// Date of service (the first, for a range).
    pub service_date: NaiveDate,
    /// The last date of service, when the line covers a range (DTP*472 `RD8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date_end: Option<NaiveDate>,
    /// Diagnoses this line treats: 1-based positions in the claim's `diagnoses`, up to four.
    pub diagnosis_pointers: Vec<u8>,
    /// Place of service, when it differs from the claim's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_service: Option<String>,
    /// The provider's own id for the line, echoed on the 835 (REF*6R).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_control_number: Option<String>,
    /// Patients transported, on an ambulance line carrying more than one (QTY*PT).
    #[serde(
        default,
        with = "crate::amount_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub patient_count: Option<Decimal>,
    /// The drug given, for a drug line (loop 2410).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drug: Option<Drug>,
    /// How other payers adjudicated this line (loop 2430), on a secondary claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior_adjudications: Vec<LineAdjudication>,
}

/// A drug identified by its National Drug Code, with the quantity dispensed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Drug {
    /// NDC in the 5-4-2 form, 11 digits (dashes allowed in the JSON).
    pub ndc: String,
    /// Quantity.
    #[serde(with = "crate::amount_text")]
    pub quantity: Decimal,
    /// Unit: `F2` international unit, `GR` gram, `ME` milligram, `ML` milliliter, `UN` unit.
    pub unit: String,
}

/// A claim adjustment another payer made: group, reason (CARC), amount, quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimAdjustment {
    /// Group code (`CO`, `CR`, `OA`, `PI`, `PR`).
    pub group: String,
    /// Claim adjustment reason code.
    pub reason: String,
    /// Amount.
    #[serde(with = "crate::amount_text")]
    pub amount: Decimal,
    /// Quantity, when the reason needs one.
    #[serde(
        default,
        with = "crate::amount_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Decimal>,
}

/// Another payer's coverage of the patient and, when it has paid, its adjudication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OtherCoverage {
    /// That payer's place in the order of benefits.
    pub responsibility: Responsibility,
    /// The patient's relationship to that coverage's subscriber (SBR02: `18` self, `01`
    /// spouse, `19` child, `20` employee, `21` unknown, `39`, `40`, `53`, `G8`).
    pub relationship: String,
    /// Group or policy number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_number: Option<String>,
    /// Claim filing indicator of that coverage.
    pub claim_filing_indicator: String,
    /// That coverage's subscriber.
    pub subscriber_name: Name,
    /// Member id with that payer.
    pub member_id: MemberId,
    /// That payer.
    pub payer: Payer,
    /// What it paid on the claim (AMT*D).
    #[serde(
        default,
        with = "crate::amount_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub paid: Option<Decimal>,
    /// When it adjudicated the claim (DTP*573), when lines carry no date of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjudication_date: Option<NaiveDate>,
    /// Its claim-level adjustments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<ClaimAdjustment>,
    /// Whether benefits are assigned under that coverage (OI03), when it differs from the
    /// claim's (CLM08).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benefits_assigned: Option<bool>,
    /// Release of information under that coverage (OI06), when it differs from the claim's
    /// (CLM09).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_of_information: Option<String>,
}

/// How another payer adjudicated one line (loop 2430).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineAdjudication {
    /// That payer's id, as in `otherCoverage[].payer.id`.
    pub payer_id: PayerId,
    /// What it paid on the line.
    #[serde(with = "crate::amount_text")]
    pub paid: Decimal,
    /// The procedure it adjudicated (when it differs from the line's, say after bundling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_code: Option<String>,
    /// Units it paid.
    #[serde(with = "crate::amount_text")]
    pub units: Decimal,
    /// When.
    pub adjudication_date: NaiveDate,
    /// Its line adjustments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<ClaimAdjustment>,
}

/// Ambulance transport information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ambulance {
    /// Patient weight in pounds (CR102), when the transport depends on it.
    #[serde(
        default,
        with = "crate::amount_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub patient_weight_pounds: Option<Decimal>,
    /// Why (CR104: `A` to the nearest facility, `B` for the benefit of a preferred physician,
    /// `C` for the nearness of family, `D` for the care of a specialist or special equipment,
    /// `E` other).
    pub reason: String,
    /// Loaded miles (CR106).
    #[serde(with = "crate::amount_text")]
    pub miles: Decimal,
    /// Why a round trip, when it was one (CR109).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trip_purpose: Option<String>,
    /// Why a stretcher, when one was needed (CR110).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stretcher_purpose: Option<String>,
    /// Certification conditions (CRC*07), at most three.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certifications: Vec<AmbulanceCertification>,
    /// Where the patient was picked up (loop 2310E).
    pub pickup: Address,
    /// Where the patient was taken (loop 2310F), and the facility's name when there is one.
    pub dropoff: Address,
    /// Name of the drop-off facility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropoff_name: Option<String>,
}

/// One ambulance certification (CRC*07): whether the conditions apply, and which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmbulanceCertification {
    /// Whether the conditions apply (`Y`) or not (`N`).
    pub applies: bool,
    /// Condition codes (01 admitted, 04 moved by stretcher, 05 unconscious or in shock, 06
    /// needed physical restraints, 07 visible hemorrhaging, 08 ambulance service medically
    /// necessary, 09 emergency, 12 bed confined; up to five).
    pub conditions: Vec<String>,
}

/// Loop 2300 of the 837I.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstitutionalClaimInformation {
    /// The facility's claim number (CLM01).
    pub patient_control_number: PatientControlNumber,
    /// Total charge: the sum of the lines' charges (CLM02).
    #[serde(with = "crate::amount_text")]
    pub total_charge: Decimal,
    /// Type of bill, first two digits: facility type and bill classification (CLM05-1: `11`
    /// hospital inpatient, `13` hospital outpatient, `21` skilled nursing inpatient, ...).
    pub facility_type: String,
    /// Claim frequency, the bill type's third digit (`1` admit through discharge, `7`
    /// replacement, `8` void, ...).
    #[serde(default = "original")]
    pub frequency: String,
    /// Assignment or plan participation (CLM07: `A`, `B`, `C`).
    #[serde(default = "assigned")]
    pub assignment: String,
    /// Benefits assignment certification (CLM08: `Y`, `N`, `W` not applicable).
    #[serde(default = "yes_code")]
    pub benefits_assignment: String,
    /// Release of information (CLM09: `Y`, `I`).
    #[serde(default = "signed")]
    pub release_of_information: String,
    /// First day of the period the bill covers (DTP*434).
    pub statement_from: NaiveDate,
    /// Last day of it.
    pub statement_to: NaiveDate,
    /// The admission, for inpatient bills (DTP*435, CL101, CL102).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission: Option<Admission>,
    /// Discharge hour, `HHMM`, on the final inpatient bill (DTP*096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharge_hour: Option<String>,
    /// Patient discharge status (CL103: `01` home, `02` short-term hospital, `03` skilled
    /// nursing, `20` expired, `30` still a patient, ...).
    pub patient_status: String,
    /// Prior authorization number (REF*G1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_authorization: Option<String>,
    /// The referral number the payer gave (REF*9F).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_number: Option<String>,
    /// The payer's claim control number of the bill a replacement or void corrects (REF*F8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_claim_number: Option<String>,
    /// Principal diagnosis (ICD-10-CM, HI*ABK).
    pub principal_diagnosis: String,
    /// Admitting diagnosis (HI*ABJ), required on inpatient bills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitting_diagnosis: Option<String>,
    /// Other diagnoses (HI*ABF), up to 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_diagnoses: Vec<String>,
    /// Principal procedure (ICD-10-PCS, HI*BBR), on inpatient bills with a procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_procedure: Option<CodedEvent>,
    /// Other procedures (HI*BBQ), up to 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_procedures: Vec<CodedEvent>,
    /// Occurrence codes with their dates (HI*BH), up to 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<CodedEvent>,
    /// Value codes with their amounts (HI*BE), up to 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueCode>,
    /// Condition codes (HI*BG), up to 24.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The code set of the diagnoses and procedures: ICD-10 unless the bill says ICD-9
    /// (services before 2015-10-01).
    #[serde(default, skip_serializing_if = "DiagnosisCodes::is_icd10")]
    pub diagnosis_codes: DiagnosisCodes,
}

impl InstitutionalClaimInformation {
    /// A facility's bill is always for payment: an 837I carries no encounters here.
    pub fn encounter(&self) -> bool {
        false
    }
}

fn yes_code() -> String {
    "Y".into()
}

/// An admission: when, how urgent, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Admission {
    /// Admission date.
    pub date: NaiveDate,
    /// Admission hour, `HHMM`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<String>,
    /// Priority (CL101: `1` emergency, `2` urgent, `3` elective, `4` newborn, `5` trauma,
    /// `9` unknown).
    pub type_code: String,
    /// Point of origin (CL102).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_code: Option<String>,
}

/// A code with the date it happened (a procedure, an occurrence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodedEvent {
    /// The code.
    pub code: String,
    /// The date.
    pub date: NaiveDate,
}

/// A value code with its amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueCode {
    /// The code.
    pub code: String,
    /// The amount.
    #[serde(with = "crate::amount_text")]
    pub amount: Decimal,
}

/// One institutional service line (loop 2400).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstitutionalLine {
    /// Revenue code (four digits, NUBC).
    pub revenue_code: String,
    /// CPT or HCPCS code, when the payer needs one (outpatient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_code: Option<String>,
    /// Up to four modifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
    /// Charge.
    #[serde(with = "crate::amount_text")]
    pub charge: Decimal,
    /// Units (`UN`) or days (`DA`).
    #[serde(default = "units")]
    pub unit: String,
    /// How many.
    #[serde(with = "crate::amount_text")]
    pub quantity: Decimal,
    /// Date of service (DTP*472), required on outpatient lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date: Option<NaiveDate>,
    /// The facility's own id for the line (REF*6R).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_control_number: Option<String>,
}

fn units() -> String {
    "UN".into()
}
