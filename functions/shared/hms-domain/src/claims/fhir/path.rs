//! Where a scrubber finding about a claim read from FHIR points in the FHIR it came from.

/// A scrubber issue's JSON pointer into our claim, as a FHIRPath into the FHIR `Claim` it was
/// read from (the fields that have a home in the resource; others name the Claim itself).
pub fn fhirpath_of(pointer: &str) -> String {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let rest = |from: usize, map: &dyn Fn(&str) -> &str| {
        parts
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|p| map(p))
            .filter(|p| !p.is_empty())
            .map(|p| format!(".{p}"))
            .collect::<String>()
    };
    match parts.as_slice() {
        ["serviceLines", n, field, ..] => {
            let field = match *field {
                "procedureCode" => "productOrService",
                "modifiers" => "modifier",
                "charge" => "net",
                "units" => "quantity",
                "serviceDate" => "servicedDate",
                "diagnosisPointers" => "diagnosisSequence",
                "placeOfService" => "locationCodeableConcept",
                other => other,
            };
            format!("Claim.item[{n}].{field}")
        }
        ["serviceLines", n] => format!("Claim.item[{n}]"),
        ["claim", "diagnoses", n, ..] => format!("Claim.diagnosis[{n}].diagnosisCodeableConcept"),
        ["claim", "totalCharge"] => "Claim.total".into(),
        ["claim", "patientControlNumber"] => "Claim.identifier[0].value".into(),
        ["claim", "placeOfService"] => "Claim.item[0].locationCodeableConcept".into(),
        ["billingProvider", ..] => format!(
            "Claim.provider{}",
            rest(1, &|p| match p {
                "taxId" | "npi" => "identifier",
                "lines" => "line",
                other => other,
            })
        ),
        [
            "renderingProvider" | "attendingProvider" | "operatingProvider",
            ..,
        ] => "Claim.careTeam.provider".into(),
        // The institutional Claim's fields.
        ["claim", "statementFrom"] => "Claim.billablePeriod.start".into(),
        ["claim", "statementTo"] => "Claim.billablePeriod.end".into(),
        [
            "claim",
            "principalDiagnosis" | "admittingDiagnosis" | "otherDiagnoses",
            ..,
        ] => "Claim.diagnosis".into(),
        ["claim", "principalProcedure" | "otherProcedures", ..] => "Claim.procedure".into(),
        [
            "claim",
            "facilityType" | "frequency" | "admission" | "patientStatus",
            ..,
        ] => "Claim.supportingInfo".into(),
        ["subscriber", "claimFilingIndicator"] => "Claim.insurance.coverage.type".into(),
        ["subscriber", "memberId"] => "Claim.insurance.coverage.subscriberId".into(),
        ["subscriber", ..] | ["patient", ..] => format!(
            "Claim.patient{}",
            rest(1, &|p| match p {
                "lines" => "line",
                "relationship" => "",
                other => other,
            })
        ),
        ["payer", ..] => "Claim.insurer".into(),
        _ => "Claim".into(),
    }
}
