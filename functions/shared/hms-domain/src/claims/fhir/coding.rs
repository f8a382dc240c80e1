//! Which coding of a `CodeableConcept` and which `Identifier` of a resource an 837 element
//! takes: chosen by system (and, for identifiers, by type), never by position. A concept
//! often carries a SNOMED CT or local coding first and the billing code after it; an
//! identifier list often leads with an MRN.
//!
//! The rule for every element: a coding of one of the element's systems (URL or OID form) is
//! taken; a coding with no system is taken when its code has the element's shape (our own
//! fixtures and many hand-written claims omit the system); codings of any other system are
//! skipped, and when nothing else is there the issue names the systems it found and the one
//! it needs.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics"
)]

use serde_json::Value;

/// A code system an 837 element takes, with the forms its URI takes in published FHIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct System {
    /// Its name in messages.
    pub name: &'static str,
    /// Its canonical URI first, then the other URIs (OIDs, older URLs) it is published under.
    pub uris: &'static [&'static str],
}

impl System {
    fn has(&self, uri: &str) -> bool {
        self.uris.contains(&uri.trim_end_matches('/'))
    }
}

/// ICD-10-CM, the diagnosis code set of US claims.
pub const ICD10_CM: System = System {
    name: "ICD-10-CM",
    uris: &[
        "http://hl7.org/fhir/sid/icd-10-cm",
        "urn:oid:2.16.840.1.113883.6.90",
        "http://hl7.org/fhir/sid/icd-10-us",
    ],
};
/// WHO ICD-10, which ICD-10-CM extends: its codes are read as ICD-10-CM (the scrubber's code
/// checks still apply).
pub const ICD10: System = System {
    name: "ICD-10",
    uris: &[
        "http://hl7.org/fhir/sid/icd-10",
        "urn:oid:2.16.840.1.113883.6.3",
    ],
};
/// ICD-9-CM diagnoses: only for services before 2015-10-01.
pub const ICD9_CM: System = System {
    name: "ICD-9-CM",
    uris: &[
        "http://hl7.org/fhir/sid/icd-9-cm",
        "urn:oid:2.16.840.1.113883.6.103",
    ],
};
/// ICD-10-PCS inpatient procedures.
pub const ICD10_PCS: System = System {
    name: "ICD-10-PCS",
    uris: &[
        "http://www.cms.gov/Medicare/Coding/ICD10",
        "http://hl7.org/fhir/sid/icd-10-pcs",
        "urn:oid:2.16.840.1.113883.6.4",
    ],
};
/// CPT (HCPCS level I).
pub const CPT: System = System {
    name: "CPT",
    uris: &[
        "http://www.ama-assn.org/go/cpt",
        "urn:oid:2.16.840.1.113883.6.12",
    ],
};
/// HCPCS level II.
pub const HCPCS: System = System {
    name: "HCPCS",
    uris: &[
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "urn:oid:2.16.840.1.113883.6.285",
        "urn:oid:2.16.840.1.113883.6.14",
    ],
};
/// NUBC revenue codes.
pub const REVENUE: System = System {
    name: "NUBC revenue code",
    uris: &[
        "https://www.nubc.org/CodeSystem/RevenueCodes",
        "http://terminology.hl7.org/CodeSystem/ex-revenue-center",
    ],
};
/// NUBC type of bill.
pub const BILL_TYPE: System = System {
    name: "NUBC type of bill",
    uris: &["https://www.nubc.org/CodeSystem/TypeOfBill"],
};
/// CMS place of service codes.
pub const PLACE_OF_SERVICE: System = System {
    name: "CMS place of service",
    uris: &[
        "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
        "http://terminology.hl7.org/CodeSystem/ex-serviceplace",
        "urn:oid:2.16.840.1.113883.6.50",
    ],
};
/// NUCC health care provider taxonomy.
pub const TAXONOMY: System = System {
    name: "NUCC provider taxonomy",
    uris: &[
        "http://nucc.org/provider-taxonomy",
        "urn:oid:2.16.840.1.113883.6.101",
    ],
};
/// X12 claim filing indicator codes (data element 1032).
pub const CLAIM_FILING: System = System {
    name: "X12 claim filing indicator",
    uris: &[
        "https://x12.org/codes/claim-filing-indicator-codes",
        "http://codesystem.x12.org/005010/1032",
        "https://codesystem.x12.org/005010/1032",
    ],
};

/// National Drug Codes.
pub const NDC: System = System {
    name: "NDC",
    uris: &[
        "http://hl7.org/fhir/sid/ndc",
        "urn:oid:2.16.840.1.113883.6.69",
    ],
};

/// The NPI identifier system.
pub const NPI: System = System {
    name: "NPI",
    uris: &[
        "http://hl7.org/fhir/sid/us-npi",
        "urn:oid:2.16.840.1.113883.4.6",
    ],
};
/// The US federal tax id (the IRS's TIN system, which names an EIN).
pub const TIN: System = System {
    name: "US tax id",
    uris: &["urn:oid:2.16.840.1.113883.4.4"],
};
/// US social security numbers.
pub const SSN: System = System {
    name: "US social security number",
    uris: &[
        "http://hl7.org/fhir/sid/us-ssn",
        "urn:oid:2.16.840.1.113883.4.1",
    ],
};
/// NAIC company codes, one way payers are identified.
pub const NAIC: System = System {
    name: "NAIC company code",
    uris: &["urn:oid:2.16.840.1.113883.6.300"],
};

/// What a concept gave for an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// A code, and the system it was taken under (`None` for a coding without one).
    Code(String, Option<System>),
    /// Codings, but none of the element's systems or shape: the systems seen.
    Other(Vec<String>),
    /// No coding with a code at all.
    Absent,
}

/// The code `concept` gives under one of `systems` (in the order of `systems`), or under no
/// system when `shape` accepts it.
pub fn pick(concept: &Value, systems: &[System], shape: fn(&str) -> bool) -> Pick {
    let codings = || {
        concept["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["code"].is_string())
    };
    for system in systems {
        if let Some(code) = codings().find_map(|c| {
            c["system"]
                .as_str()
                .filter(|s| system.has(s))
                .and(c["code"].as_str())
        }) {
            return Pick::Code(code.trim().to_string(), Some(*system));
        }
    }
    if let Some(code) = codings()
        .filter(|c| c["system"].is_null())
        .filter_map(|c| c["code"].as_str())
        .find(|code| shape(code.trim()))
    {
        return Pick::Code(code.trim().to_string(), None);
    }
    let seen: Vec<String> = codings()
        .map(|c| match (c["system"].as_str(), c["code"].as_str()) {
            (Some(system), _) => system.to_string(),
            (None, Some(code)) => format!("a code {code:?} without a system"),
            (None, None) => "a coding without a system".to_string(),
        })
        .collect();
    if seen.is_empty() {
        Pick::Absent
    } else {
        Pick::Other(seen)
    }
}

/// Whether any coding of `concept` has `code` (whatever its system): for fixed vocabularies
/// (claim type, care team role, supporting info category) whose systems vary by profile.
pub fn has_code(concept: &Value, code: &str) -> bool {
    concept["coding"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["code"] == code))
}

/// The first code of `concept` among `codes`, whatever its system.
pub fn code_among<'c>(concept: &Value, codes: &[&'c str]) -> Option<&'c str> {
    concept["coding"]
        .as_array()?
        .iter()
        .find_map(|c| codes.iter().find(|code| c["code"] == **code).copied())
}

/// The value of the identifier of `resource` in `system`, or typed with one of `types`
/// (v2-0203 codes such as `NPI`, `TAX`, `MB`).
pub fn identifier<'v>(
    resource: &'v Value,
    system: Option<&System>,
    types: &[&str],
) -> Option<&'v str> {
    resource["identifier"]
        .as_array()?
        .iter()
        .find(|i| {
            system.is_some_and(|s| i["system"].as_str().is_some_and(|u| s.has(u)))
                || types.iter().any(|t| has_code(&i["type"], t))
        })
        .and_then(|i| i["value"].as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Whether `identifier` is in `system`.
pub fn in_system(identifier: &Value, system: &System) -> bool {
    identifier["system"].as_str().is_some_and(|u| system.has(u))
}

/// Code shapes, for codings without a system.
pub mod shape {
    /// ICD-10-CM: a letter, then two more characters, then up to four, with or without the dot.
    pub fn icd10(code: &str) -> bool {
        let plain: Vec<char> = code.chars().filter(|c| *c != '.').collect();
        (3..=7).contains(&plain.len())
            && plain.first().is_some_and(char::is_ascii_uppercase)
            && plain.iter().all(char::is_ascii_alphanumeric)
            && plain.get(1).is_some_and(char::is_ascii_digit)
    }
    /// CPT or HCPCS: five characters, letters and digits.
    pub fn procedure(code: &str) -> bool {
        code.chars().count() == 5 && code.chars().all(|c| c.is_ascii_alphanumeric())
    }
    /// A modifier: two characters.
    pub fn modifier(code: &str) -> bool {
        code.chars().count() == 2 && code.chars().all(|c| c.is_ascii_alphanumeric())
    }
    /// A place of service: two digits.
    pub fn place(code: &str) -> bool {
        code.chars().count() == 2 && code.chars().all(|c| c.is_ascii_digit())
    }
    /// A revenue code: four digits (three when the leading zero is left off).
    pub fn revenue(code: &str) -> bool {
        (3..=4).contains(&code.chars().count()) && code.chars().all(|c| c.is_ascii_digit())
    }
    /// A claim filing indicator: one of the X12 list (element 1032) in 5010.
    pub fn claim_filing(code: &str) -> bool {
        [
            "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM",
            "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ",
        ]
        .contains(&code)
    }
    /// A NUCC taxonomy code: ten characters ending in `X`.
    pub fn taxonomy(code: &str) -> bool {
        code.chars().count() == 10 && code.ends_with('X')
    }
    /// Anything: for elements whose systems are fixed by the profile.
    pub fn any(_: &str) -> bool {
        true
    }
    /// Nothing: for elements that need their system.
    pub fn none(_: &str) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_billing_code_is_found_after_a_snomed_one() {
        let concept = json!({"coding": [
            {"system": "http://snomed.info/sct", "code": "44054006"},
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}
        ]});
        assert_eq!(
            pick(&concept, &[ICD10_CM], shape::icd10),
            Pick::Code("E11.9".into(), Some(ICD10_CM))
        );
    }

    #[test]
    fn a_snomed_code_alone_is_named_and_not_taken() {
        let concept = json!({"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]});
        assert_eq!(
            pick(&concept, &[ICD10_CM], shape::icd10),
            Pick::Other(vec!["http://snomed.info/sct".into()])
        );
        assert_eq!(pick(&json!({}), &[ICD10_CM], shape::icd10), Pick::Absent);
    }

    #[test]
    fn a_code_without_a_system_is_taken_only_in_the_elements_shape() {
        assert_eq!(
            pick(
                &json!({"coding": [{"code": "99213"}]}),
                &[CPT, HCPCS],
                shape::procedure
            ),
            Pick::Code("99213".into(), None)
        );
        assert!(matches!(
            pick(
                &json!({"coding": [{"code": "exam"}]}),
                &[CPT, HCPCS],
                shape::procedure
            ),
            Pick::Other(_)
        ));
    }

    #[test]
    fn identifiers_are_found_by_system_oid_or_type() {
        let org = json!({"identifier": [
            {"system": "http://hospital.example/mrn", "value": "M1"},
            {"system": "urn:oid:2.16.840.1.113883.4.6", "value": "1912301953"},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "TAX"}]}, "value": "587654321"}
        ]});
        assert_eq!(identifier(&org, Some(&NPI), &["NPI"]), Some("1912301953"));
        assert_eq!(identifier(&org, Some(&TIN), &["TAX"]), Some("587654321"));
        assert_eq!(identifier(&org, Some(&SSN), &["SS"]), None);
    }
}
