//! Code tables as data (`codes/*.tsv`, each naming its source and version): what the JSON and
//! FHIR output say a code means, so that a user never has to look up `EB*B` or `AAA*N**72`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// FNV-1a: codes are a few bytes, looked up for every adjustment and remark of a remittance,
/// where SipHash's setup outweighs the lookup. The keys are our own tables, fixed at build
/// time, so a caller's codes can only miss; they cannot crowd a bucket.
#[derive(Debug, Clone, Copy)]
struct CodeHasher(u64);

impl Default for CodeHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for CodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// One embedded code list.
#[derive(Debug)]
pub struct CodeTable {
    /// The file's name.
    pub name: &'static str,
    /// Where the list comes from.
    pub source: &'static str,
    /// Its version.
    pub version: &'static str,
    entries: HashMap<&'static str, &'static str, BuildHasherDefault<CodeHasher>>,
}

impl CodeTable {
    /// What `code` means, if the list has it.
    pub fn describe(&self, code: &str) -> Option<&'static str> {
        self.entries.get(code).copied()
    }

    /// How many codes the list has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Why a table file is malformed (a build defect the tests catch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("codes/{file} line {line}: {message}")]
pub struct TableError {
    file: &'static str,
    line: usize,
    message: &'static str,
}

fn parse(name: &'static str, text: &'static str) -> Result<CodeTable, TableError> {
    let mut source = None;
    let mut version = None;
    let mut entries = HashMap::default();
    for (i, line) in text.lines().enumerate() {
        let fail = |message| TableError {
            file: name,
            line: i + 1,
            message,
        };
        if let Some(s) = line.strip_prefix("# source: ") {
            source = Some(s);
        } else if let Some(v) = line.strip_prefix("# version: ") {
            version = Some(v);
        } else if !line.is_empty() && !line.starts_with('#') {
            let (code, description) = line.split_once('\t').ok_or_else(|| fail("no tab"))?;
            if code.is_empty() || description.is_empty() {
                return Err(fail("empty code or description"));
            }
            if entries.insert(code, description).is_some() {
                return Err(fail("duplicate code"));
            }
        }
    }
    Ok(CodeTable {
        name,
        source: source.ok_or(TableError {
            file: name,
            line: 0,
            message: "no source line",
        })?,
        version: version.ok_or(TableError {
            file: name,
            line: 0,
            message: "no version line",
        })?,
        entries,
    })
}

macro_rules! tables {
    ($($(#[$doc:meta])* $fn:ident => $file:literal),* $(,)?) => {
        /// Every embedded table, parsed (for the tests and for listing them).
        pub fn all() -> Vec<Result<&'static CodeTable, &'static TableError>> {
            vec![$($fn()),*]
        }
        $(
            $(#[$doc])*
            pub fn $fn() -> Result<&'static CodeTable, &'static TableError> {
                static TABLE: OnceLock<Result<CodeTable, TableError>> = OnceLock::new();
                TABLE
                    .get_or_init(|| parse($file, include_str!(concat!("../codes/", $file))))
                    .as_ref()
            }
        )*
    };
}

tables! {
    /// Service type codes (1365): EQ01, EB03.
    service_type => "service-type.tsv",
    /// Eligibility or benefit information codes (1390): EB01.
    eligibility_benefit => "eligibility-benefit.tsv",
    /// Coverage level codes (1207): EB02.
    coverage_level => "coverage-level.tsv",
    /// Time period qualifiers (615): EB06.
    time_period => "time-period.tsv",
    /// Reject reason codes (901): AAA03.
    reject_reason => "reject-reason.tsv",
    /// Follow-up action codes (889): AAA04.
    follow_up_action => "follow-up-action.tsv",
    /// Claim status category codes (507): STC01-1.
    claim_status_category => "claim-status-category.tsv",
    /// Place of service codes (CMS, code source 237): CLM05-1, SV105.
    place_of_service => "place-of-service.tsv",
    /// Claim adjustment reason codes (code list 139): CAS02, 05, ...
    claim_adjustment_reason => "carc.tsv",
    /// Remittance advice remark codes (code list 411): LQ02, MIA/MOA remark codes.
    remittance_remark => "rarc.tsv",
}

/// What `code` means in `table`; `None` when the table is defective or lacks the code.
pub fn describe(
    table: fn() -> Result<&'static CodeTable, &'static TableError>,
    code: &str,
) -> Option<&'static str> {
    table().ok()?.describe(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_with_its_source() {
        for table in all() {
            let table = table.unwrap();
            assert!(!table.is_empty(), "{}", table.name);
            assert!(
                table.source.contains("X12") || table.source.contains("CMS"),
                "{}",
                table.name
            );
        }
        assert_eq!(
            describe(service_type, "30"),
            Some("Health Benefit Plan Coverage")
        );
        assert_eq!(
            describe(reject_reason, "72"),
            Some("Invalid/Missing Subscriber/Insured ID")
        );
        assert_eq!(describe(service_type, "ZZZ"), None);
        assert_eq!(
            describe(claim_adjustment_reason, "45").map(|d| d.get(..40).unwrap()),
            Some("Charge exceeds fee schedule/maximum allo")
        );
        assert!(
            describe(remittance_remark, "N130")
                .is_some_and(|d| d.starts_with("Consult plan benefit"))
        );
        assert!(claim_adjustment_reason().unwrap().len() > 200);
        assert!(remittance_remark().unwrap().len() > 700);
        assert!(service_type().unwrap().len() > 180);
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert!(parse("x", "# source: s\n# version: v\nA\tOne\nA\tTwo\n").is_err());
        assert!(parse("x", "# version: v\nA\tOne\n").is_err());
        assert!(parse("x", "# source: s\n# version: v\nA One\n").is_err());
    }
}
