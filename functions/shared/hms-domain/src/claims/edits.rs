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

/// The professional claims only.
const PROFESSIONAL: &[ClaimKind] = &[ClaimKind::Professional];
/// The institutional claims only.
const INSTITUTIONAL: &[ClaimKind] = &[ClaimKind::Institutional];
/// Both claim kinds.
const BOTH: &[ClaimKind] = &[ClaimKind::Professional, ClaimKind::Institutional];

/// Declares each edit as a constant the scrubber raises findings through, and [`EDITS`], all of
/// them in order: one line of the table per edit (name = id, severity, issue type, claim kinds,
/// where it points, then what it checks).
macro_rules! registry {
    ($($name:ident = $id:literal, $severity:ident, $code:ident, $applies:ident, $pointer:literal,
        $description:literal;)*) => {
        $(
            pub(crate) const $name: Edit = Edit {
                id: $id,
                severity: IssueSeverity::$severity,
                code: IssueType::$code,
                applies_to: $applies,
                pointer: $pointer,
                description: $description,
            };
        )*

        /// Every edit, in the order the scrubber runs them.
        pub const EDITS: &[Edit] = &[$($name),*];
    };
}

registry! {
    TEXT_CHARACTERS = "text-characters", Error, Value, BOTH, "/** (any text)",
        "Text holds no control characters (X12's character sets have none).";
    TEXT_LENGTH = "text-length", Error, Value, BOTH, "/** (any text)",
        "A name, address, id or other text is no longer than the 837 element that carries it.";
    DATE_RANGE = "date-range", Error, Value, BOTH, "/** (any date)",
        "A date is between 1850 and 2199 (an X12 date is CCYYMMDD; a year 0000 is none).";
    DIAGNOSIS_REQUIRED = "diagnosis-required", Error, Required, PROFESSIONAL, "/claim/diagnoses",
        "A claim names at least one diagnosis, the principal one first.";
    DIAGNOSIS_COUNT = "diagnosis-count", Error, Value, BOTH,
        "/claim/diagnoses, /claim/otherDiagnoses",
                "An 837P carries at most 12 diagnoses; an 837I at most 24 besides the principal.";
    ICD9_AFTER_ICD10_DATE = "icd9-after-icd10-date", Error, BusinessRule, BOTH,
        "/serviceLines/*/serviceDate, /claim/statementTo",
                "ICD-9-CM codes are only for services before 2015-10-01, when ICD-10-CM took over.";
    ICD9_SHAPE = "icd9-shape", Error, CodeInvalid, BOTH,
        "/claim/diagnoses/*, /claim/principalDiagnosis, ...",
                "A diagnosis marked ICD-9-CM is shaped like one (3 to 5 digits, V or E codes).";
    ICD10_SHAPE = "icd10-shape", Error, CodeInvalid, BOTH,
        "/claim/diagnoses/*, /claim/principalDiagnosis, ...",
                "A diagnosis is shaped like an ICD-10-CM code (a letter, a digit, 1 to 5 more).";
    DIAGNOSIS_REPEATED = "diagnosis-repeated", Error, BusinessRule, PROFESSIONAL,
        "/claim/diagnoses/*",
                "No diagnosis is listed twice.";
    PLACE_OF_SERVICE = "place-of-service", Error, CodeInvalid, PROFESSIONAL,
        "/claim/placeOfService, /serviceLines/*/placeOfService",
                "The place of service is a CMS place of service code.";
    FREQUENCY = "frequency", Error, CodeInvalid, BOTH, "/claim/frequency",
        "The claim frequency is one its kind allows (1 original, 7 replacement, 8 void, ...).";
    ASSIGNMENT = "assignment", Error, CodeInvalid, PROFESSIONAL, "/claim/assignment",
        "The provider's assignment code is A, B or C.";
    RELEASE_OF_INFORMATION = "release-of-information", Error, CodeInvalid, PROFESSIONAL,
        "/claim/releaseOfInformation",
                "The release of information code is I or Y.";
    LINE_COUNT = "line-count", Error, Value, BOTH, "/serviceLines",
        "An 837P claim has 1 to 50 service lines; an 837I claim 1 to 999.";
    ONSET_AFTER_SERVICE = "onset-after-service", Warning, BusinessRule, PROFESSIONAL,
        "/claim/onsetDate",
                "The onset of the condition is not after the first date of service (a warning).";
    FACILITY_TYPE = "facility-type", Error, CodeInvalid, INSTITUTIONAL, "/claim/facilityType",
        "The type of bill's facility and classification are two digits, not starting with 0.";
    PATIENT_STATUS = "patient-status", Error, CodeInvalid, INSTITUTIONAL, "/claim/patientStatus",
        "The patient discharge status is an NUBC status code.";
    STATEMENT_PERIOD = "statement-period", Error, BusinessRule, INSTITUTIONAL, "/claim/statementTo",
        "The statement period does not end before it starts.";
    STATEMENT_IN_FUTURE = "statement-in-future", Error, BusinessRule, INSTITUTIONAL,
        "/claim/statementTo",
                "The statement period does not end in the future.";
    ADMISSION_REQUIRED = "admission-required", Error, Required, INSTITUTIONAL, "/claim/admission",
        "An inpatient bill names the admission (date and type).";
    ADMITTING_DIAGNOSIS_REQUIRED = "admitting-diagnosis-required", Error, Required, INSTITUTIONAL,
        "/claim/admittingDiagnosis",
                "An inpatient bill names the admitting diagnosis.";
    ADMISSION_AFTER_STATEMENT = "admission-after-statement", Error, BusinessRule, INSTITUTIONAL,
        "/claim/admission/date",
                "The admission is not after the statement period ends.";
    ADMISSION_BEFORE_BIRTH = "admission-before-birth", Error, BusinessRule, INSTITUTIONAL,
        "/claim/admission/date",
                "The admission is not before the patient's birth.";
    ADMISSION_TYPE = "admission-type", Error, CodeInvalid, INSTITUTIONAL,
        "/claim/admission/typeCode",
                "The admission type is an NUBC priority code (1, 2, 3, 4, 5 or 9).";
    ADMISSION_HOUR = "admission-hour", Error, Value, INSTITUTIONAL, "/claim/admission/hour",
        "The admission hour is an HHMM time.";
    DISCHARGE_HOUR = "discharge-hour", Error, Value, INSTITUTIONAL, "/claim/dischargeHour",
        "The discharge hour is an HHMM time.";
    ATTENDING_PROVIDER = "attending-provider", Error, Required, INSTITUTIONAL, "/attendingProvider",
        "An institutional claim names its attending provider (loop 2310A).";
    ICD9_PROCEDURE_SHAPE = "icd9-procedure-shape", Error, CodeInvalid, INSTITUTIONAL,
        "/claim/principalProcedure/code, /claim/otherProcedures/*/code",
                "An ICD-9-CM procedure is 3 or 4 digits.";
    ICD10PCS_SHAPE = "icd10pcs-shape", Error, CodeInvalid, INSTITUTIONAL,
        "/claim/principalProcedure/code, /claim/otherProcedures/*/code",
                "An ICD-10-PCS procedure is seven letters and digits, without I or O.";
    PROCEDURE_DATE = "procedure-date", Error, BusinessRule, INSTITUTIONAL,
        "/claim/principalProcedure/date, /claim/otherProcedures/*/date",
                "A procedure's date falls within the statement period.";
    CLAIM_FILING_INDICATOR = "claim-filing-indicator", Error, CodeInvalid, BOTH,
        "/subscriber/claimFilingIndicator",
                "The claim filing indicator is on the TR3's list (SBR09: CI, MB, MC, BL, ...).";
    CHARGE_TOTAL = "charge-total", Error, BusinessRule, BOTH, "/claim/totalCharge",
        "The claim's total charge is the sum of its lines' charges.";
    REVENUE_CODE = "revenue-code", Error, CodeInvalid, INSTITUTIONAL, "/serviceLines/*/revenueCode",
        "A line's revenue code is four digits.";
    PROCEDURE_SHAPE = "procedure-shape", Error, CodeInvalid, BOTH, "/serviceLines/*/procedureCode",
        "A line's procedure is shaped like a CPT or HCPCS code.";
    MODIFIER_WITHOUT_PROCEDURE = "modifier-without-procedure", Error, BusinessRule, INSTITUTIONAL,
        "/serviceLines/*/modifiers",
                "A line with modifiers names the procedure they modify.";
    MODIFIER_COUNT = "modifier-count", Error, Value, BOTH, "/serviceLines/*/modifiers",
        "A line carries at most 4 modifiers.";
    LINE_CHARGE = "line-charge", Error, Value, BOTH, "/serviceLines/*/charge",
        "A line's charge is not negative.";
    LINE_UNITS = "line-units", Error, Value, BOTH,
        "/serviceLines/*/units, /serviceLines/*/quantity",
                "A line's units (or days) are more than zero.";
    LINE_UNIT = "line-unit", Error, CodeInvalid, INSTITUTIONAL, "/serviceLines/*/unit",
        "A line's unit is UN (units) or DA (days).";
    SERVICE_OUTSIDE_STATEMENT = "service-outside-statement", Error, BusinessRule, INSTITUTIONAL,
        "/serviceLines/*/serviceDate",
                "A line's date of service falls within the statement period.";
    SERVICE_DATE_REQUIRED = "service-date-required", Error, Required, INSTITUTIONAL,
        "/serviceLines/*/serviceDate",
                "An outpatient line with a procedure has its date of service.";
    BILLING_ADDRESS = "billing-address", Error, Required, BOTH, "/billingProvider/address",
        "The billing provider's street address is given (loop 2010AA N3/N4).";
    BILLING_ADDRESS_PO_BOX = "billing-address-po-box", Error, BusinessRule, BOTH,
        "/billingProvider/address/lines",
                "The billing provider's address is a street address, not a post office box.";
    BILLING_NPI = "billing-npi", Error, Required, BOTH, "/billingProvider/npi",
        "The billing provider has an NPI.";
    BILLING_TAX_ID = "billing-tax-id", Error, Required, BOTH, "/billingProvider/taxId",
        "The billing provider has a tax id (EIN or SSN).";
    NPI_CHECK_DIGIT = "npi-check-digit", Error, Value, BOTH, ".../npi",
        "Every NPI on the claim passes its Luhn check digit.";
    TAXONOMY_SHAPE = "taxonomy-shape", Error, Value, BOTH, ".../taxonomy",
        "A provider taxonomy code is shaped like one (10 characters, such as 207Q00000X).";
    SUBMITTER_CONTACT = "submitter-contact", Error, Required, BOTH, "/submitter/contact",
        "The submitter names a contact with a phone number or an email address.";
    PHONE = "phone", Error, Value, BOTH, "/submitter/contact/phone",
        "A phone number is ten digits.";
    SUBSCRIBER_DEMOGRAPHICS = "subscriber-demographics", Error, Required, BOTH,
        "/subscriber/birthDate, /subscriber/gender, /subscriber/address",
                "A subscriber who is the patient has a birth date, a gender and an address.";
    PATIENT_RELATIONSHIP = "patient-relationship", Error, CodeInvalid, BOTH,
        "/patient/relationship, /otherCoverage/*/relationship",
                "The patient's relationship to the subscriber is a code loop 2000C allows.";
    BIRTH_IN_FUTURE = "birth-in-future", Error, BusinessRule, BOTH,
        "/subscriber/birthDate, /patient/birthDate",
                "A birth date is not in the future.";
    AMBULANCE_MISSING = "ambulance-missing", Error, Required, PROFESSIONAL, "/ambulance",
        "A claim with ambulance lines (A0425 to A0436) carries the ambulance transport.";
    AMBULANCE_REASON = "ambulance-reason", Error, CodeInvalid, PROFESSIONAL, "/ambulance/reason",
        "The ambulance transport reason is A, B, C, D or E.";
    AMBULANCE_MILES = "ambulance-miles", Error, Value, PROFESSIONAL, "/ambulance/miles",
        "The ambulance transport distance is more than zero miles.";
    AMBULANCE_CERTIFICATIONS = "ambulance-certifications", Error, Value, PROFESSIONAL,
        "/ambulance/certifications",
                "An ambulance transport carries at most three certifications.";
    AMBULANCE_CONDITIONS = "ambulance-conditions", Error, Value, PROFESSIONAL,
        "/ambulance/certifications/*/conditions",
                "A certification names 1 to 5 conditions.";
    AMBULANCE_CONDITION = "ambulance-condition", Error, CodeInvalid, PROFESSIONAL,
        "/ambulance/certifications/*/conditions/*",
                "A condition is an ambulance certification condition code.";
    COB_MISSING = "cob-missing", Error, Required, PROFESSIONAL, "/otherCoverage",
        "A secondary or tertiary claim names the coverage ahead of it.";
    COB_SAME_PAYER = "cob-same-payer", Error, BusinessRule, PROFESSIONAL,
        "/otherCoverage/*/payer/id",
                "Other coverage is another payer than the one billed.";
    COB_PAID_TOTAL = "cob-paid-total", Error, BusinessRule, PROFESSIONAL, "/otherCoverage/*/paid",
        "What the other payer paid is the sum of its line payments.";
    COB_PAID_MISSING = "cob-paid-missing", Error, Required, PROFESSIONAL, "/otherCoverage/*/paid",
        "A secondary claim says what the payer ahead paid.";
    COB_PAYER_UNKNOWN = "cob-payer-unknown", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/adjudications/*/payerId",
                "A line's adjudication names a payer of the other coverage.";
    COB_ADJUSTMENT_GROUP = "cob-adjustment-group", Error, CodeInvalid, PROFESSIONAL,
        "/otherCoverage/*/adjustments/*/group",
        "Another payer's adjustment group is CO, CR, OA, PI or PR (CAS01).";
    COB_LINE_BALANCE = "cob-line-balance", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/adjudications/*/paid",
                "A line's adjudication balances: paid plus adjustments is the line's charge.";
    NDC_SHAPE = "ndc-shape", Error, Value, PROFESSIONAL, "/serviceLines/*/drug/ndc",
        "A drug's NDC is 11 digits (5-4-2).";
    NDC_UNIT = "ndc-unit", Error, CodeInvalid, PROFESSIONAL, "/serviceLines/*/drug/unit",
        "A drug's unit is F2, GR, ME, ML or UN.";
    NDC_QUANTITY = "ndc-quantity", Error, Value, PROFESSIONAL, "/serviceLines/*/drug/quantity",
        "A drug's quantity is more than zero.";
    RELATED_CAUSES = "related-causes", Error, CodeInvalid, PROFESSIONAL, "/claim/relatedCauses/*",
        "Related causes are AA, EM or OA, at most two and none twice (CLM11-1, -2).";
    ACCIDENT_STATE = "accident-state", Error, Value, PROFESSIONAL, "/claim/accidentState",
        "An auto accident (AA) names its state, a USPS or Canada Post code (CLM11-4); no other claim does.";
    ADDRESS_LINES = "address-lines", Error, Value, BOTH, ".../address/lines",
        "An address has one or two street lines.";
    STATE = "state", Error, Value, BOTH, ".../address/state",
        "A state is a US state or Canadian province code (USPS, Canada Post; X12 element 156).";
    POSTAL_CODE = "postal-code", Error, Value, BOTH, ".../address/postalCode",
        "A ZIP code is 5 or 9 digits.";
    BILLING_ZIP9 = "billing-zip-9", Error, Value, INSTITUTIONAL, "/billingProvider/address/postalCode",
        "The billing provider's ZIP code has all 9 digits (837I 2010AA N403).";
    MODIFIER_SHAPE = "modifier-shape", Error, Value, PROFESSIONAL, "/serviceLines/*/modifiers/*",
        "A modifier is two letters or digits.";
    MODIFIER_REPEATED = "modifier-repeated", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/modifiers/*",
                "No modifier is listed twice on a line.";
    POINTER_COUNT = "pointer-count", Error, Value, PROFESSIONAL,
        "/serviceLines/*/diagnosisPointers",
                "A line points at 1 to 4 of the claim's diagnoses.";
    POINTER_RANGE = "pointer-range", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/diagnosisPointers/*",
                "A diagnosis pointer names a diagnosis the claim has.";
    POINTER_REPEATED = "pointer-repeated", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/diagnosisPointers/*",
                "No diagnosis pointer is repeated on a line.";
    SERVICE_IN_FUTURE = "service-in-future", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/serviceDate",
                "A line's date of service is not in the future.";
    SERVICE_BEFORE_BIRTH = "service-before-birth", Error, BusinessRule, PROFESSIONAL,
        "/serviceLines/*/serviceDate",
                "A line's date of service is not before the patient's birth.";
}

/// The edit with `id`.
pub fn edit(id: &str) -> Option<&'static Edit> {
    EDITS.iter().find(|e| e.id == id)
}
