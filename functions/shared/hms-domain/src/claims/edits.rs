//! The scrubber's edits as data: each with its stable id (the `diagnostics` of the issue it
//! raises), its severity and FHIR issue type, where it points, which claims it applies to, and
//! what it checks in one line (each edit's `description` is its documentation). [`EDITS`] lists
//! every one: `hms scrub --list-edits` prints it, `EDITS.md` is made from it, a payer's
//! [`Profile`](super::scrub::Profile) switches edits off by id, and the tests hold each id to
//! its checks.

use crate::claims::claim::ClaimKind;
use crate::outcome::{IssueSeverity, IssueType};

/// One front-end edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    /// The stable id: the issue's `diagnostics`, what a payer profile names.
    pub id: &'static str,
    /// How bad a finding is: errors stop the claim, warnings do not.
    pub severity: IssueSeverity,
    /// The FHIR issue type of its findings.
    pub code: IssueType,
    /// The claims it applies to.
    pub applies_to: &'static [ClaimKind],
    /// Where its findings point (JSON pointers into our claim; `*` is an index, `...` any
    /// provider or address).
    pub pointer: &'static str,
    /// What it checks, in one line.
    pub description: &'static str,
}

/// Both claim kinds.
const BOTH: &[ClaimKind] = &[ClaimKind::Professional, ClaimKind::Institutional];

pub(crate) const DIAGNOSIS_REQUIRED: Edit = Edit {
    id: "diagnosis-required",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Professional],
    pointer: "/claim/diagnoses",
    description: "A claim names at least one diagnosis, the principal one first.",
};

pub(crate) const DIAGNOSIS_COUNT: Edit = Edit {
    id: "diagnosis-count",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: "/claim/diagnoses, /claim/otherDiagnoses",
    description: "An 837P carries at most 12 diagnoses; an 837I at most 24 besides the principal.",
};

pub(crate) const ICD9_AFTER_ICD10_DATE: Edit = Edit {
    id: "icd9-after-icd10-date",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: BOTH,
    pointer: "/serviceLines/*/serviceDate, /claim/statementTo",
    description: "ICD-9-CM codes are only for services before 2015-10-01, when ICD-10-CM took over.",
};

pub(crate) const ICD9_SHAPE: Edit = Edit {
    id: "icd9-shape",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: BOTH,
    pointer: "/claim/diagnoses/*, /claim/principalDiagnosis, ...",
    description: "A diagnosis marked ICD-9-CM is shaped like one (3 to 5 digits, V or E codes).",
};

pub(crate) const ICD10_SHAPE: Edit = Edit {
    id: "icd10-shape",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: BOTH,
    pointer: "/claim/diagnoses/*, /claim/principalDiagnosis, ...",
    description: "A diagnosis is shaped like an ICD-10-CM code (a letter, a digit, 1 to 5 more).",
};

pub(crate) const DIAGNOSIS_REPEATED: Edit = Edit {
    id: "diagnosis-repeated",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/claim/diagnoses/*",
    description: "No diagnosis is listed twice.",
};

pub(crate) const PLACE_OF_SERVICE: Edit = Edit {
    id: "place-of-service",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Professional],
    pointer: "/claim/placeOfService, /serviceLines/*/placeOfService",
    description: "The place of service is a CMS place of service code.",
};

pub(crate) const FREQUENCY: Edit = Edit {
    id: "frequency",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: BOTH,
    pointer: "/claim/frequency",
    description: "The claim frequency is one the claim kind allows (1 original, 7 replacement, 8 void, ...).",
};

pub(crate) const ASSIGNMENT: Edit = Edit {
    id: "assignment",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Professional],
    pointer: "/claim/assignment",
    description: "The provider's assignment code is A, B or C.",
};

pub(crate) const RELEASE_OF_INFORMATION: Edit = Edit {
    id: "release-of-information",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Professional],
    pointer: "/claim/releaseOfInformation",
    description: "The release of information code is I or Y.",
};

pub(crate) const LINE_COUNT: Edit = Edit {
    id: "line-count",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: "/serviceLines",
    description: "An 837P claim has 1 to 50 service lines; an 837I claim 1 to 999.",
};

pub(crate) const ONSET_AFTER_SERVICE: Edit = Edit {
    id: "onset-after-service",
    severity: IssueSeverity::Warning,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/claim/onsetDate",
    description: "The onset of the condition is not after the first date of service (a warning).",
};

pub(crate) const FACILITY_TYPE: Edit = Edit {
    id: "facility-type",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/facilityType",
    description: "The type of bill's facility and classification are two digits, not starting with 0.",
};

pub(crate) const PATIENT_STATUS: Edit = Edit {
    id: "patient-status",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/patientStatus",
    description: "The patient discharge status is an NUBC status code.",
};

pub(crate) const STATEMENT_PERIOD: Edit = Edit {
    id: "statement-period",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/statementTo",
    description: "The statement period does not end before it starts.",
};

pub(crate) const STATEMENT_IN_FUTURE: Edit = Edit {
    id: "statement-in-future",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/statementTo",
    description: "The statement period does not end in the future.",
};

pub(crate) const ADMISSION_REQUIRED: Edit = Edit {
    id: "admission-required",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/admission",
    description: "An inpatient bill names the admission (date and type).",
};

pub(crate) const ADMITTING_DIAGNOSIS_REQUIRED: Edit = Edit {
    id: "admitting-diagnosis-required",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/admittingDiagnosis",
    description: "An inpatient bill names the admitting diagnosis.",
};

pub(crate) const ADMISSION_AFTER_STATEMENT: Edit = Edit {
    id: "admission-after-statement",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/admission/date",
    description: "The admission is not after the statement period ends.",
};

pub(crate) const ADMISSION_BEFORE_BIRTH: Edit = Edit {
    id: "admission-before-birth",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/admission/date",
    description: "The admission is not before the patient's birth.",
};

pub(crate) const ADMISSION_TYPE: Edit = Edit {
    id: "admission-type",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/admission/typeCode",
    description: "The admission type is an NUBC priority code (1, 2, 3, 4, 5 or 9).",
};

pub(crate) const ADMISSION_HOUR: Edit = Edit {
    id: "admission-hour",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/admission/hour",
    description: "The admission hour is an HHMM time.",
};

pub(crate) const DISCHARGE_HOUR: Edit = Edit {
    id: "discharge-hour",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/dischargeHour",
    description: "The discharge hour is an HHMM time.",
};

pub(crate) const ATTENDING_PROVIDER: Edit = Edit {
    id: "attending-provider",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/attendingProvider",
    description: "An institutional claim names its attending provider (loop 2310A).",
};

pub(crate) const ICD9_PROCEDURE_SHAPE: Edit = Edit {
    id: "icd9-procedure-shape",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/principalProcedure/code, /claim/otherProcedures/*/code",
    description: "An ICD-9-CM procedure is 3 or 4 digits.",
};

pub(crate) const ICD10PCS_SHAPE: Edit = Edit {
    id: "icd10pcs-shape",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/principalProcedure/code, /claim/otherProcedures/*/code",
    description: "An ICD-10-PCS procedure is seven letters and digits, without I or O.",
};

pub(crate) const PROCEDURE_DATE: Edit = Edit {
    id: "procedure-date",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/claim/principalProcedure/date, /claim/otherProcedures/*/date",
    description: "A procedure's date falls within the statement period.",
};

pub(crate) const CLAIM_FILING_INDICATOR: Edit = Edit {
    id: "claim-filing-indicator",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: BOTH,
    pointer: "/subscriber/claimFilingIndicator",
    description: "The claim filing indicator is on the TR3's list (SBR09: CI, MB, MC, BL, ...).",
};

pub(crate) const CHARGE_TOTAL: Edit = Edit {
    id: "charge-total",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: BOTH,
    pointer: "/claim/totalCharge",
    description: "The claim's total charge is the sum of its lines' charges.",
};

pub(crate) const REVENUE_CODE: Edit = Edit {
    id: "revenue-code",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/serviceLines/*/revenueCode",
    description: "A line's revenue code is four digits.",
};

pub(crate) const PROCEDURE_SHAPE: Edit = Edit {
    id: "procedure-shape",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: BOTH,
    pointer: "/serviceLines/*/procedureCode",
    description: "A line's procedure is shaped like a CPT or HCPCS code.",
};

pub(crate) const MODIFIER_WITHOUT_PROCEDURE: Edit = Edit {
    id: "modifier-without-procedure",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/serviceLines/*/modifiers",
    description: "A line with modifiers names the procedure they modify.",
};

pub(crate) const MODIFIER_COUNT: Edit = Edit {
    id: "modifier-count",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: "/serviceLines/*/modifiers",
    description: "A line carries at most 4 modifiers.",
};

pub(crate) const LINE_CHARGE: Edit = Edit {
    id: "line-charge",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: "/serviceLines/*/charge",
    description: "A line's charge is not negative.",
};

pub(crate) const LINE_UNITS: Edit = Edit {
    id: "line-units",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: "/serviceLines/*/units, /serviceLines/*/quantity",
    description: "A line's units (or days) are more than zero.",
};

pub(crate) const LINE_UNIT: Edit = Edit {
    id: "line-unit",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/serviceLines/*/unit",
    description: "A line's unit is UN (units) or DA (days).",
};

pub(crate) const SERVICE_OUTSIDE_STATEMENT: Edit = Edit {
    id: "service-outside-statement",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/serviceLines/*/serviceDate",
    description: "A line's date of service falls within the statement period.",
};

pub(crate) const SERVICE_DATE_REQUIRED: Edit = Edit {
    id: "service-date-required",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Institutional],
    pointer: "/serviceLines/*/serviceDate",
    description: "An outpatient line with a procedure has its date of service.",
};

pub(crate) const BILLING_ADDRESS: Edit = Edit {
    id: "billing-address",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: BOTH,
    pointer: "/billingProvider/address",
    description: "The billing provider's street address is given (loop 2010AA N3/N4).",
};

pub(crate) const BILLING_ADDRESS_PO_BOX: Edit = Edit {
    id: "billing-address-po-box",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: BOTH,
    pointer: "/billingProvider/address/lines",
    description: "The billing provider's address is a street address, not a post office box.",
};

pub(crate) const BILLING_NPI: Edit = Edit {
    id: "billing-npi",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: BOTH,
    pointer: "/billingProvider/npi",
    description: "The billing provider has an NPI.",
};

pub(crate) const BILLING_TAX_ID: Edit = Edit {
    id: "billing-tax-id",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: BOTH,
    pointer: "/billingProvider/taxId",
    description: "The billing provider has a tax id (EIN or SSN).",
};

pub(crate) const NPI_CHECK_DIGIT: Edit = Edit {
    id: "npi-check-digit",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: ".../npi",
    description: "Every NPI on the claim passes its Luhn check digit.",
};

pub(crate) const TAXONOMY_SHAPE: Edit = Edit {
    id: "taxonomy-shape",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: ".../taxonomy",
    description: "A provider taxonomy code is shaped like one (10 characters, such as 207Q00000X).",
};

pub(crate) const SUBMITTER_CONTACT: Edit = Edit {
    id: "submitter-contact",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: BOTH,
    pointer: "/submitter/contact",
    description: "The submitter names a contact with a phone number or an email address.",
};

pub(crate) const PHONE: Edit = Edit {
    id: "phone",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: "/submitter/contact/phone",
    description: "A phone number is ten digits.",
};

pub(crate) const SUBSCRIBER_DEMOGRAPHICS: Edit = Edit {
    id: "subscriber-demographics",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: BOTH,
    pointer: "/subscriber/birthDate, /subscriber/gender, /subscriber/address",
    description: "A subscriber who is the patient has a birth date, a gender and an address.",
};

pub(crate) const PATIENT_RELATIONSHIP: Edit = Edit {
    id: "patient-relationship",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: BOTH,
    pointer: "/patient/relationship, /otherCoverage/*/relationship",
    description: "The patient's relationship to the subscriber is a code loop 2000C allows.",
};

pub(crate) const BIRTH_IN_FUTURE: Edit = Edit {
    id: "birth-in-future",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: BOTH,
    pointer: "/subscriber/birthDate, /patient/birthDate",
    description: "A birth date is not in the future.",
};

pub(crate) const AMBULANCE_MISSING: Edit = Edit {
    id: "ambulance-missing",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Professional],
    pointer: "/ambulance",
    description: "A claim with ambulance lines (A0425 to A0436) carries the ambulance transport.",
};

pub(crate) const AMBULANCE_REASON: Edit = Edit {
    id: "ambulance-reason",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Professional],
    pointer: "/ambulance/reason",
    description: "The ambulance transport reason is A, B, C, D or E.",
};

pub(crate) const AMBULANCE_MILES: Edit = Edit {
    id: "ambulance-miles",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/ambulance/miles",
    description: "The ambulance transport distance is more than zero miles.",
};

pub(crate) const AMBULANCE_CERTIFICATIONS: Edit = Edit {
    id: "ambulance-certifications",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/ambulance/certifications",
    description: "An ambulance transport carries at most three certifications.",
};

pub(crate) const AMBULANCE_CONDITIONS: Edit = Edit {
    id: "ambulance-conditions",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/ambulance/certifications/*/conditions",
    description: "A certification names 1 to 5 conditions.",
};

pub(crate) const AMBULANCE_CONDITION: Edit = Edit {
    id: "ambulance-condition",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Professional],
    pointer: "/ambulance/certifications/*/conditions/*",
    description: "A condition is an ambulance certification condition code.",
};

pub(crate) const COB_MISSING: Edit = Edit {
    id: "cob-missing",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Professional],
    pointer: "/otherCoverage",
    description: "A secondary or tertiary claim names the coverage ahead of it.",
};

pub(crate) const COB_SAME_PAYER: Edit = Edit {
    id: "cob-same-payer",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/otherCoverage/*/payer/id",
    description: "Other coverage is another payer than the one billed.",
};

pub(crate) const COB_PAID_TOTAL: Edit = Edit {
    id: "cob-paid-total",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/otherCoverage/*/paid",
    description: "What the other payer paid is the sum of its line payments.",
};

pub(crate) const COB_PAID_MISSING: Edit = Edit {
    id: "cob-paid-missing",
    severity: IssueSeverity::Error,
    code: IssueType::Required,
    applies_to: &[ClaimKind::Professional],
    pointer: "/otherCoverage/*/paid",
    description: "A secondary claim says what the payer ahead paid.",
};

pub(crate) const COB_PAYER_UNKNOWN: Edit = Edit {
    id: "cob-payer-unknown",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/adjudications/*/payerId",
    description: "A line's adjudication names a payer of the other coverage.",
};

pub(crate) const COB_LINE_BALANCE: Edit = Edit {
    id: "cob-line-balance",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/adjudications/*/paid",
    description: "A line's adjudication balances: paid plus adjustments is the line's charge.",
};

pub(crate) const NDC_SHAPE: Edit = Edit {
    id: "ndc-shape",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/drug/ndc",
    description: "A drug's NDC is 11 digits (5-4-2).",
};

pub(crate) const NDC_UNIT: Edit = Edit {
    id: "ndc-unit",
    severity: IssueSeverity::Error,
    code: IssueType::CodeInvalid,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/drug/unit",
    description: "A drug's unit is F2, GR, ME, ML or UN.",
};

pub(crate) const NDC_QUANTITY: Edit = Edit {
    id: "ndc-quantity",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/drug/quantity",
    description: "A drug's quantity is more than zero.",
};

pub(crate) const ADDRESS_LINES: Edit = Edit {
    id: "address-lines",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: ".../address/lines",
    description: "An address has one or two street lines.",
};

pub(crate) const STATE: Edit = Edit {
    id: "state",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: ".../address/state",
    description: "A state is a two-letter code.",
};

pub(crate) const POSTAL_CODE: Edit = Edit {
    id: "postal-code",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: BOTH,
    pointer: ".../address/postalCode",
    description: "A ZIP code is 5 or 9 digits.",
};

pub(crate) const MODIFIER_SHAPE: Edit = Edit {
    id: "modifier-shape",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/modifiers/*",
    description: "A modifier is two letters or digits.",
};

pub(crate) const MODIFIER_REPEATED: Edit = Edit {
    id: "modifier-repeated",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/modifiers/*",
    description: "No modifier is listed twice on a line.",
};

pub(crate) const POINTER_COUNT: Edit = Edit {
    id: "pointer-count",
    severity: IssueSeverity::Error,
    code: IssueType::Value,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/diagnosisPointers",
    description: "A line points at 1 to 4 of the claim's diagnoses.",
};

pub(crate) const POINTER_RANGE: Edit = Edit {
    id: "pointer-range",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/diagnosisPointers/*",
    description: "A diagnosis pointer names a diagnosis the claim has.",
};

pub(crate) const POINTER_REPEATED: Edit = Edit {
    id: "pointer-repeated",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/diagnosisPointers/*",
    description: "No diagnosis pointer is repeated on a line.",
};

pub(crate) const SERVICE_IN_FUTURE: Edit = Edit {
    id: "service-in-future",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/serviceDate",
    description: "A line's date of service is not in the future.",
};

pub(crate) const SERVICE_BEFORE_BIRTH: Edit = Edit {
    id: "service-before-birth",
    severity: IssueSeverity::Error,
    code: IssueType::BusinessRule,
    applies_to: &[ClaimKind::Professional],
    pointer: "/serviceLines/*/serviceDate",
    description: "A line's date of service is not before the patient's birth.",
};

/// Every edit, in the order the scrubber runs them.
pub const EDITS: &[Edit] = &[
    DIAGNOSIS_REQUIRED,
    DIAGNOSIS_COUNT,
    ICD9_AFTER_ICD10_DATE,
    ICD9_SHAPE,
    ICD10_SHAPE,
    DIAGNOSIS_REPEATED,
    PLACE_OF_SERVICE,
    FREQUENCY,
    ASSIGNMENT,
    RELEASE_OF_INFORMATION,
    LINE_COUNT,
    ONSET_AFTER_SERVICE,
    FACILITY_TYPE,
    PATIENT_STATUS,
    STATEMENT_PERIOD,
    STATEMENT_IN_FUTURE,
    ADMISSION_REQUIRED,
    ADMITTING_DIAGNOSIS_REQUIRED,
    ADMISSION_AFTER_STATEMENT,
    ADMISSION_BEFORE_BIRTH,
    ADMISSION_TYPE,
    ADMISSION_HOUR,
    DISCHARGE_HOUR,
    ATTENDING_PROVIDER,
    ICD9_PROCEDURE_SHAPE,
    ICD10PCS_SHAPE,
    PROCEDURE_DATE,
    CLAIM_FILING_INDICATOR,
    CHARGE_TOTAL,
    REVENUE_CODE,
    PROCEDURE_SHAPE,
    MODIFIER_WITHOUT_PROCEDURE,
    MODIFIER_COUNT,
    LINE_CHARGE,
    LINE_UNITS,
    LINE_UNIT,
    SERVICE_OUTSIDE_STATEMENT,
    SERVICE_DATE_REQUIRED,
    BILLING_ADDRESS,
    BILLING_ADDRESS_PO_BOX,
    BILLING_NPI,
    BILLING_TAX_ID,
    NPI_CHECK_DIGIT,
    TAXONOMY_SHAPE,
    SUBMITTER_CONTACT,
    PHONE,
    SUBSCRIBER_DEMOGRAPHICS,
    PATIENT_RELATIONSHIP,
    BIRTH_IN_FUTURE,
    AMBULANCE_MISSING,
    AMBULANCE_REASON,
    AMBULANCE_MILES,
    AMBULANCE_CERTIFICATIONS,
    AMBULANCE_CONDITIONS,
    AMBULANCE_CONDITION,
    COB_MISSING,
    COB_SAME_PAYER,
    COB_PAID_TOTAL,
    COB_PAID_MISSING,
    COB_PAYER_UNKNOWN,
    COB_LINE_BALANCE,
    NDC_SHAPE,
    NDC_UNIT,
    NDC_QUANTITY,
    ADDRESS_LINES,
    STATE,
    POSTAL_CODE,
    MODIFIER_SHAPE,
    MODIFIER_REPEATED,
    POINTER_COUNT,
    POINTER_RANGE,
    POINTER_REPEATED,
    SERVICE_IN_FUTURE,
    SERVICE_BEFORE_BIRTH,
];

/// The edit with `id`.
pub fn edit(id: &str) -> Option<&'static Edit> {
    EDITS.iter().find(|e| e.id == id)
}
