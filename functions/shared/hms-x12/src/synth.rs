//! Synthetic remittance files for benchmarks and load tests: a valid 835 (005010X221A1) of any
//! size, built with the writer so counts and control numbers are right. Deterministic: the same
//! size gives the same bytes.

use crate::delimiters::Delimiters;
use crate::writer::{Field, InterchangeHeader, InterchangeWriter, WriteError};

/// Writes one interchange holding a single 835 transaction set with enough claim payments (each
/// with two service lines and adjustments) to reach at least `min_bytes`.
pub fn remittance_835(min_bytes: usize) -> Result<Vec<u8>, WriteError> {
    let header = InterchangeHeader {
        sender_qualifier: "ZZ".into(),
        sender_id: "PAYERSIM".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "HMSACH".into(),
        date: "261120".into(),
        time: "0930".into(),
        control_number: 1,
        ack_requested: false,
        usage: 'T',
    };
    let mut w = InterchangeWriter::new(&header, Delimiters::default(), true)?;
    w.begin_group(
        "HP",
        "PAYERSIM",
        "HMSACH",
        "20261120",
        "0930",
        1,
        "005010X221A1",
    )?;
    w.begin_transaction("835", "0001", "")?;
    // Each claim below is at least 300 bytes; BPR02 must equal the sum of CLP04 (no PLB here).
    let claims = min_bytes / 300 + 1;
    let paid_per_claim = 380;
    let total = format!("{}.00", paid_per_claim * claims);
    w.simple(
        "BPR",
        &[
            "I",
            &total,
            "C",
            "ACH",
            "CCP",
            "01",
            "011000015",
            "DA",
            "123456789",
            "1512345678",
            "",
            "01",
            "021000021",
            "DA",
            "987654321",
            "20261121",
        ],
    )?;
    w.simple("TRN", &["1", "EFT20261121001", "1512345678"])?;
    w.simple("DTM", &["405", "20261120"])?;
    w.simple("N1", &["PR", "SIMULATED HEALTH PLAN"])?;
    w.simple("N3", &["100 PAYER WAY"])?;
    w.simple("N4", &["HARTFORD", "CT", "061030001"])?;
    w.simple("PER", &["BL", "PROVIDER SERVICES", "TE", "8005550100"])?;
    w.simple("N1", &["PE", "GOOD HEALTH CLINIC", "XX", "1234567893"])?;
    w.simple("REF", &["TJ", "131234567"])?;
    w.simple("LX", &["1"])?;
    for i in 0..claims {
        let pcn = format!("PCN{i:09}");
        let icn = format!("PAYER{i:012}");
        let member = format!("W{:09}", (i * 7919) % 1_000_000_000);
        w.simple(
            "CLP",
            &[
                &pcn, "1", "500.00", "380.00", "50.00", "12", &icn, "11", "1",
            ],
        )?;
        w.simple(
            "NM1",
            &["QC", "1", "DOE", "JANE", "", "", "", "MI", &member],
        )?;
        w.simple("DTM", &["232", "20261101"])?;
        w.segment(
            "SVC",
            &[
                Field::Composite(vec!["HC", "99214"]),
                "300.00".into(),
                "230.00".into(),
                "".into(),
                "1".into(),
            ],
        )?;
        w.simple("DTM", &["472", "20261101"])?;
        w.simple("CAS", &["CO", "45", "40.00"])?;
        w.simple("CAS", &["PR", "3", "30.00"])?;
        w.simple("REF", &["6R", &format!("L{i}A")])?;
        w.simple("AMT", &["B6", "260.00"])?;
        w.segment(
            "SVC",
            &[
                Field::Composite(vec!["HC", "85025", "QW"]),
                "200.00".into(),
                "150.00".into(),
                "".into(),
                "1".into(),
            ],
        )?;
        w.simple("DTM", &["472", "20261101"])?;
        w.simple("CAS", &["CO", "45", "30.00"])?;
        w.simple("CAS", &["PR", "2", "20.00"])?;
        w.simple("REF", &["6R", &format!("L{i}B")])?;
        w.simple("AMT", &["B6", "170.00"])?;
        w.simple("LQ", &["HE", "N130"])?;
    }
    w.end_transaction()?;
    w.end_group()?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Catalog;
    use crate::validate::validate_bytes;

    #[test]
    fn synthetic_remittance_is_valid_and_large_enough() {
        let bytes = remittance_835(200_000).unwrap();
        assert!(bytes.len() >= 200_000);
        let report = validate_bytes(&bytes, Catalog::embedded().unwrap());
        assert!(!report.has_errors(), "{:?}", report.findings.first());
        assert_eq!(report.interchanges[0].groups[0].transactions.len(), 1);
    }
}
