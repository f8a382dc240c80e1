//! `hms translate` and `hms scrub`: thin glue over `hms-domain` and `hms-service`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use hms_domain::claim_status::{StatusInquiry, inquiry_276};
use hms_domain::claims::{Batch, Claim, ClaimKind, write_837};
use hms_domain::eligibility::{EligibilityInquiry, inquiry_270};
use hms_domain::lossless::Preserved;
use hms_domain::outcome::{Issue, IssueType, OperationOutcome};
use hms_domain::partner::{Envelope, TradingPartner};
use hms_domain::party::Receiver;
use hms_domain::request::{Format, parse_json, problem};
use hms_service::intake::{Reviewed, review};
use hms_service::ports::NoRules;

mod batch;
mod streamed;

use batch::stream_to_837;
use streamed::{Streamed, streamed_or_sets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// ASC X12 5010 (from our JSON).
    X12,
    /// Our JSON (from X12: 835, 271, 277, 837P; with `--lossless`, an 837P or 835 that
    /// `--to x12` turns back into the same X12).
    Json,
    /// FHIR R4 (from X12: an 835 as ExplanationOfBenefits, a 271 as
    /// CoverageEligibilityResponses, in a Bundle).
    Fhir,
    /// A 277CA for an 837P: each claim scrubbed, then accepted or rejected with the reason.
    #[value(name = "277ca")]
    ClaimAck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransactionType {
    /// 837P professional claim (005010X222A1).
    #[value(name = "837P")]
    Professional,
    /// 837I institutional claim (005010X223A2).
    #[value(name = "837I")]
    Institutional,
    /// 270 eligibility inquiry (005010X279A1).
    #[value(name = "270")]
    Eligibility,
    /// 276 claim status inquiry (005010X212).
    #[value(name = "276")]
    Status,
    /// 835 remittance (005010X221A1), from what `--to json --lossless` made of one.
    #[value(name = "835")]
    Remittance,
    /// 271 eligibility response (005010X279A1), from what `--to json --lossless` made of one.
    #[value(name = "271")]
    EligibilityResponse,
    /// 277 claim status response (005010X212), from what `--to json --lossless` made of one.
    #[value(name = "277")]
    StatusResponse,
}

/// `hms translate --to x12 --type 837P|837I INPUT.json`: scrub, then write the 837; a claim
/// with errors gets its OperationOutcome (stdout) and exit 1 instead.
/// How `translate` runs, beyond what to write.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The trading-partner configuration file.
    pub partner: Option<&'a PathBuf>,
    /// Interchange and group control number.
    pub control: u32,
    /// `--to json`: keep what the model does not hold.
    pub lossless: bool,
    /// `--to json|fhir` of an 835: one record (or EOB) per line.
    pub ndjson: bool,
    /// `--to x12 --type 837P|837I`: the payer-rules directory.
    pub rules: Option<&'a Path>,
}

pub fn translate(
    input: &Path,
    to: Target,
    kind: Option<TransactionType>,
    options: Options<'_>,
) -> Result<ExitCode> {
    let Options {
        partner,
        control,
        lossless,
        ndjson,
        rules,
    } = options;
    let kind = match (to, kind) {
        (Target::Json, _) => return to_json(input, lossless, ndjson),
        (Target::Fhir, _) => return to_fhir(input, ndjson),
        (Target::ClaimAck, _) => return to_claim_ack(input, load_partner(partner)?, control),
        (Target::X12, Some(kind)) => kind,
        (Target::X12, None) => {
            bail!("--to x12 needs --type (837P, 837I, 270, 276, 271, 277 or 835)")
        }
    };
    if control == 0 || control > 999_999_999 {
        bail!("--control must be 1 to 999999999");
    }
    let spooled = Spooled::new(input)?;
    let partner = load_partner(partner)?;
    let partner = partner.as_ref();
    let now = chrono::Local::now().naive_local();
    let envelope = Envelope::new(control, now);
    if let TransactionType::Professional | TransactionType::Institutional = kind {
        let file = spooled.open()?;
        let claim_kind = match kind {
            TransactionType::Institutional => ClaimKind::Institutional,
            _ => ClaimKind::Professional,
        };
        let claims = match streamed_claims(&spooled)? {
            Some(claims) => Some(claims),
            None => match hms_domain::claims::StoredBundle::open(&file) {
                Ok(bundle) => bundle
                    .map(|b| Claims::Bundle(Box::new(b), Box::new(claim_connections(partner)))),
                Err(e) => return print_outcome(&e.outcome()),
            },
        };
        if let Some(claims) = claims {
            return stream_to_837(claims, claim_kind, partner, &envelope, rules);
        }
    }
    let json = read(&spooled.path)?;
    // Each kind gives the X12, or the outcome that says what is wrong with the input.
    let written: std::result::Result<Vec<u8>, OperationOutcome> = match kind {
        TransactionType::Professional if is_preserved(&json) => {
            preserved_837::<hms_domain::claims::ProfessionalClaim>(
                &json,
                now.date(),
                hms_domain::lossless::write_837p_back,
            )?
        }
        TransactionType::Institutional if is_preserved(&json) => {
            preserved_837::<hms_domain::claims::InstitutionalClaim>(
                &json,
                now.date(),
                hms_domain::lossless::write_837i_back,
            )?
        }
        TransactionType::Professional | TransactionType::Institutional => {
            let kind = match kind {
                TransactionType::Institutional => ClaimKind::Institutional,
                _ => ClaimKind::Professional,
            };
            match Batch::read(&json, Some(kind), &claim_connections(partner)) {
                Err(outcome) => Err(outcome),
                Ok(batch) => match intake(noted(batch), now.date(), rules) {
                    Ok(Reviewed::Passed { claims, .. }) => match claims.first() {
                        Some(first) => {
                            let partner = partner_for(partner, first.receiver());
                            Ok(write_837(&claims, &partner, &envelope)?)
                        }
                        None => Err(problem(
                            IssueType::Required,
                            "no-claims",
                            "the batch holds no claim",
                        )),
                    },
                    Ok(Reviewed::Scrubbed { issues, .. } | Reviewed::Held { issues }) => {
                        Err(OperationOutcome::new(issues))
                    }
                    Err(outcome) => Err(outcome),
                },
            }
        }
        TransactionType::Eligibility => {
            let fhir = serde_json::from_slice::<serde_json::Value>(&json)
                .ok()
                .filter(|v| v["resourceType"] == "CoverageEligibilityRequest");
            let parsed = match fhir {
                Some(request) => hms_domain::eligibility::fhir::inquiry_from_fhir(&request),
                None => parse_json::<EligibilityInquiry>(&json),
            };
            match parsed {
                Ok(inquiry) => {
                    let partner = partner_for(partner, &receiver_named(&inquiry.payer));
                    Ok(inquiry_270(&inquiry, &partner, &envelope)?)
                }
                Err(outcome) => Err(outcome),
            }
        }
        TransactionType::Status => match parse_json::<StatusInquiry>(&json) {
            Ok(inquiry) => {
                let partner = partner_for(partner, &receiver_named(&inquiry.payer));
                Ok(inquiry_276(&inquiry, &partner, &envelope)?)
            }
            Err(outcome) => Err(outcome),
        },
        TransactionType::Remittance => written_back(&json, hms_domain::lossless::write_835_back)?,
        TransactionType::EligibilityResponse => {
            written_back(&json, hms_domain::lossless::write_271_back)?
        }
        TransactionType::StatusResponse => {
            written_back(&json, hms_domain::lossless::write_277_back)?
        }
    };
    let x12 = match written {
        Ok(x12) => x12,
        Err(outcome) => return print_outcome(&outcome),
    };
    use std::io::Write;
    std::io::stdout().write_all(&x12)?;
    Ok(ExitCode::SUCCESS)
}

/// The claims of `batch` through the intake path the service runs: the scrubber, then, with
/// a rules directory, each claim through its payer's rule set from that registry (claims of
/// payers it does not name pass as they are).
/// A registry that cannot be opened (a component refused by its pin, say) is an outcome that
/// says why, and nothing is written.
fn intake(
    batch: Batch,
    today: chrono::NaiveDate,
    rules: Option<&Path>,
) -> std::result::Result<Reviewed, OperationOutcome> {
    Ok(review(batch, today, &engine(rules)?))
}

/// The payers' rules of `--rules`: none without a directory; the registry in it, opened.
enum Engine {
    None(NoRules),
    Registry(Box<hms_rules::pipeline::RegistryRules>),
}

impl hms_service::ports::RuleEngine for Engine {
    fn review(&self, claim: &Claim) -> hms_service::ports::RuleVerdict {
        match self {
            Self::None(engine) => engine.review(claim),
            Self::Registry(engine) => engine.review(claim),
        }
    }
}

fn engine(rules: Option<&Path>) -> std::result::Result<Engine, OperationOutcome> {
    let Some(dir) = rules else {
        return Ok(Engine::None(NoRules));
    };
    let trouble =
        |e: &dyn std::fmt::Display| problem(IssueType::Exception, "rules-registry", e.to_string());
    let host =
        hms_rules::host::RuleHost::new(crate::rules::author_limits()).map_err(|e| trouble(&e))?;
    let registry = hms_rules::registry::Registry::open(&host, dir, rules_cache().as_deref())
        .map_err(|e| trouble(&e))?;
    Ok(Engine::Registry(Box::new(
        hms_rules::pipeline::RegistryRules { host, registry },
    )))
}

/// The claims of the input read one claim at a time, when it is a JSON array of claims or
/// newline-delimited JSON of them; `None` for one claim, a Bundle, or what `--to json
/// --lossless` made of an 837 (an array of transaction sets, written back whole).
fn streamed_claims(spooled: &Spooled) -> Result<Option<Claims<'_>>> {
    // The first element decides, as for the whole input (`is_preserved`). Input without one (not an array, an empty one, one whose first element the scanner
    // cannot give) goes the whole way, whose reader says what is wrong with it.
    let file = std::io::BufReader::new(spooled.open()?);
    let array = hms_domain::claims::first_array_element(file).is_some_and(|first| {
        !serde_json::from_slice::<serde_json::Value>(&first).is_ok_and(|t| preserved_set(&t))
    });
    if array {
        return Ok(Some(Claims::Array(spooled)));
    }
    let file = std::io::BufReader::new(spooled.open()?);
    Ok(hms_domain::claims::is_claim_lines(file).then_some(Claims::Lines(spooled)))
}

/// Most notes of the FHIR reader a streamed batch tells on stderr (a Bundle of 50,000 Claims
/// that each take their claim filing code from the payer directory says so 50,000 times);
/// past it, one line says how many more there were.
const MAX_NOTES: usize = 100;

/// Most findings an outcome of a streamed batch lists; past it, one more issue says how
/// many were left out (a batch of 50,000 claims with an error each is not held to say so).
const MAX_ISSUES: usize = 10_000;

/// Findings of a streamed batch, bounded.
#[derive(Debug, Default)]
struct Findings {
    issues: Vec<hms_domain::outcome::Issue>,
    left_out: usize,
}

impl Findings {
    fn extend(&mut self, issues: impl IntoIterator<Item = hms_domain::outcome::Issue>) {
        for issue in issues {
            if self.issues.len() < MAX_ISSUES {
                self.issues.push(issue);
            } else {
                self.left_out += 1;
            }
        }
    }

    fn outcome(self) -> OperationOutcome {
        OperationOutcome::new(self.into_issues())
    }

    /// The findings, and one more saying how many were left out.
    fn into_issues(mut self) -> Vec<Issue> {
        if self.left_out > 0 {
            self.issues.push(hms_domain::outcome::Issue::error(
                IssueType::TooCostly,
                "too-many-findings",
                format!(
                    "{} more findings are not listed (the first {MAX_ISSUES} are)",
                    self.left_out
                ),
            ));
        }
        self.issues
    }
}

/// The clearinghouse FHIR claims are sent on by: ours, as the partner configuration's
/// submitter when it names one.
fn claim_connections(partner: Option<&TradingPartner>) -> hms_domain::partner::Connections {
    let mut connections = our_connections();
    if let Some(submitter) = partner.and_then(|p| p.submitter.as_ref()) {
        connections.submitter = submitter.clone();
    }
    connections
}

/// Where the claims of a batch read one at a time come from.
enum Claims<'f> {
    /// A JSON array of our claims.
    Array(&'f Spooled),
    /// Our claims, one a line (newline-delimited JSON).
    Lines(&'f Spooled),
    /// A FHIR Bundle of Claims, indexed, with the clearinghouse its Claims are sent on by.
    Bundle(
        Box<hms_domain::claims::StoredBundle<'f>>,
        Box<hms_domain::partner::Connections>,
    ),
}

impl Claims<'_> {
    /// How findings point into the input: `/i/...`, or `Bundle.entry[i].resource...`.
    fn frame(&self) -> Batch {
        match self {
            Self::Array(_) | Self::Lines(_) => Batch::streamed(),
            Self::Bundle(..) => Batch::streamed_bundle(),
        }
    }

    /// Reads every claim once, in input order, as a claim of `kind` (or of the kind each
    /// says it is): each with the FHIR reader's notes on it (or the outcome of reading it),
    /// located, to `each` with its place in the input. How many claims there were, or the
    /// outcome that says why the input cannot be read to its end.
    fn read(
        &mut self,
        kind: Option<ClaimKind>,
        mut each: impl FnMut(usize, std::result::Result<(Claim, Vec<Issue>), OperationOutcome>),
    ) -> Result<std::result::Result<usize, OperationOutcome>> {
        use std::convert::Infallible;
        match self {
            Self::Array(spooled) | Self::Lines(spooled) => {
                use hms_domain::claims::{ClaimArrayError, read_claim_array, read_claim_lines};
                let file = std::io::BufReader::with_capacity(1 << 16, spooled.open()?);
                let each = |i, claim: std::result::Result<Claim, OperationOutcome>| {
                    each(i, claim.map(|claim| (claim, vec![])));
                    Ok::<(), Infallible>(())
                };
                let read = match self {
                    Self::Lines(_) => read_claim_lines(file, kind, each),
                    _ => read_claim_array(file, kind, each),
                };
                Ok(read.map_err(|e| match e {
                    ClaimArrayError::Sink(never) => match never {},
                    e => problem(IssueType::Structure, "parse", e.to_string()),
                }))
            }
            Self::Bundle(bundle, connections) => {
                use hms_domain::claims::ClaimBundleError;
                let read = bundle.read_claims_located(kind, connections, |entry, read| {
                    each(
                        entry,
                        read.map(|read| (read.claim, read.notes))
                            .map_err(OperationOutcome::new),
                    );
                    Ok::<(), Infallible>(())
                });
                Ok(match read {
                    Ok(()) => Ok(bundle.claims()),
                    Err(ClaimBundleError::Sink(never)) => match never {},
                    Err(ClaimBundleError::Bundle(e)) => Err(e.outcome()),
                })
            }
        }
    }
}

/// The FHIR reader's notes of a streamed batch, told on stderr up to [`MAX_NOTES`].
#[derive(Debug, Default)]
struct Told {
    told: usize,
    untold: usize,
}

impl Told {
    fn tell(&mut self, notes: &[Issue]) {
        let tell = notes.len().min(MAX_NOTES.saturating_sub(self.told));
        tell_notes(notes.get(..tell).unwrap_or_default());
        self.told += tell;
        self.untold += notes.len() - tell;
    }

    /// Says how many notes were left untold.
    fn finish(self) {
        if self.untold > 0 {
            eprintln!("note: {} more notes like these are not shown", self.untold);
        }
    }
}

/// A temporary file this process writes and reads back, removed when dropped.
#[derive(Debug)]
struct Spool {
    path: PathBuf,
}

impl Spool {
    fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "hms-{what}-{}-{}.spool",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        Self { path }
    }

    /// Creates the file, readable and writable by this user alone: what it holds is claims
    /// and remittances (names, member ids, diagnoses), and the temporary directory is shared.
    fn create(&self) -> std::io::Result<std::io::BufWriter<std::fs::File>> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
            .map(|f| std::io::BufWriter::with_capacity(1 << 16, f))
    }

    fn open(&self) -> Result<std::fs::File> {
        std::fs::File::open(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Where compiled rule sets are cached: this user's own cache directory
/// (`$XDG_CACHE_HOME/hms-ach/rules`, else `~/.cache/hms-ach/rules`), never the rule sets'
/// directory, which may have come from anyone. No cache without a home.
fn rules_cache() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(base.join("hms-ach").join("rules"))
}

/// The receiver an inquiry goes to: its payer.
fn receiver_named(payer: &hms_domain::party::Payer) -> Receiver {
    Receiver {
        name: payer.name.clone(),
        id: payer.id.to_string(),
    }
}

/// Writes a transaction set read with `--to json --lossless` back as X12.
type WriteBack<T> = fn(
    &Preserved<T>,
    &hms_x12::spec::Catalog,
) -> std::result::Result<Vec<u8>, hms_domain::lossless::LosslessError>;

/// The X12 of every transaction set `--to json --lossless` read (and the user may have
/// edited), or the outcome saying where the JSON is wrong.
fn written_back<T: serde::de::DeserializeOwned>(
    json: &[u8],
    write: WriteBack<T>,
) -> Result<std::result::Result<Vec<u8>, OperationOutcome>> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let sets: Vec<Preserved<T>> = match parse_json(json) {
        Ok(sets) => sets,
        Err(outcome) => return Ok(Err(outcome)),
    };
    let mut x12 = vec![];
    for set in &sets {
        x12.extend(write(set, catalog)?);
    }
    Ok(Ok(x12))
}

/// Whether `json` is what `--to json` makes of an 837P: transaction sets read without loss
/// (an array of objects with `model` and `envelope`).
fn is_preserved(json: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(json).is_ok_and(|v| {
        v.as_array()
            .and_then(|a| a.first())
            .is_some_and(preserved_set)
    })
}

/// Whether `set` is a transaction set `--to json --lossless` wrote: a model and an envelope.
fn preserved_set(set: &serde_json::Value) -> bool {
    set.get("model").is_some() && set.get("envelope").is_some()
}

/// The 837 of every preserved transaction set (each in the envelope it came in, with what
/// the model does not hold put back), after the scrubber passed every claim; or the outcome
/// naming each finding as `/{transaction}/model/{claim}/...`.
fn preserved_837<C: Clone + Into<Claim> + serde::de::DeserializeOwned>(
    json: &[u8],
    today: chrono::NaiveDate,
    write: WriteBack<Vec<C>>,
) -> Result<std::result::Result<Vec<u8>, OperationOutcome>> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let sets: Vec<Preserved<Vec<C>>> = match parse_json(json) {
        Ok(sets) => sets,
        Err(outcome) => return Ok(Err(outcome)),
    };
    let mut issues = vec![];
    for (t, set) in sets.iter().enumerate() {
        let claims: Vec<_> = set.model.iter().cloned().map(Into::into).collect();
        let batch = Batch {
            entries: (0..claims.len()).collect(),
            claims,
            format: Format::Json,
            batch: true,
            notes: vec![],
        };
        let mut outcome = batch.scrub(today);
        if outcome.has_errors() {
            for issue in &mut outcome.issue {
                for e in &mut issue.expression {
                    *e = format!("/{t}/model{e}");
                }
            }
            issues.extend(outcome.issue);
        }
    }
    if !issues.is_empty() {
        return Ok(Err(OperationOutcome::new(issues)));
    }
    let mut x12 = vec![];
    for set in &sets {
        x12.extend(write(set, catalog)?);
    }
    Ok(Ok(x12))
}

/// The trading-partner configuration at `path`, when given: read once per run.
fn load_partner(path: Option<&PathBuf>) -> Result<Option<TradingPartner>> {
    path.map(|path| {
        serde_json::from_slice(&read(path)?)
            .with_context(|| format!("{}: not a trading-partner configuration", path.display()))
    })
    .transpose()
}

/// The configured trading partner, or a test partner addressed to the claim's receiver.
fn partner_for(configured: Option<&TradingPartner>, receiver: &Receiver) -> TradingPartner {
    match configured {
        Some(partner) => partner.clone(),
        None => TradingPartner::test_to(&receiver.id),
    }
}

/// Whether `x12` may be translated: the validator runs first, its warnings (a byte-order mark
/// skipped, a base guide read as its addenda) go to stderr, and an input whose structure is
/// broken is refused with its findings there: a broken envelope, a segment the reader cannot
/// read, or one that has no place in its guide (an 835 `CLP` without its `LX`) would be
/// dropped from the translation without a word. Element-level errors do not stop it: a 277CA
/// exists to reject such claims.
fn sound_for_translation(input: &Path, x12: &[u8], catalog: &hms_x12::spec::Catalog) -> bool {
    sound(input, &hms_x12::validate::validate_bytes(x12, catalog))
}

/// [`sound_for_translation`], from the validator's report.
fn sound(input: &Path, report: &hms_x12::validate::Report) -> bool {
    use hms_x12::finding::{AckCode, Severity};
    for warning in report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        eprintln!("hms: {}: note: {warning}", input.display());
    }
    let broken: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| {
            matches!(
                f.ack,
                AckCode::Interchange(_)
                    | AckCode::Group(_)
                    | AckCode::Segment("1" | "2" | "6" | "7")
            )
        })
        .collect();
    if broken.is_empty() {
        return true;
    }
    const SHOWN: usize = 20;
    for finding in broken.iter().take(SHOWN) {
        eprintln!("hms: {}: {finding}", input.display());
    }
    if broken.len() > SHOWN {
        eprintln!(
            "hms: {}: and {} more",
            input.display(),
            broken.len() - SHOWN
        );
    }
    eprintln!(
        "hms: {}: not translated: {} structural error(s) would drop data from the translation (`hms x12 validate` lists every finding)",
        input.display(),
        broken.len()
    );
    false
}

/// The input as a file that can be read twice (validated, then translated), never held in
/// memory: the file named, or standard input copied to a temporary file (removed after).
#[derive(Debug)]
struct Spooled {
    path: PathBuf,
    /// Standard input's copy.
    _copy: Option<Spool>,
}

impl Spooled {
    fn new(input: &Path) -> Result<Self> {
        if input != Path::new("-") {
            return Ok(Self {
                path: input.to_path_buf(),
                _copy: None,
            });
        }
        let copy = Spool::new("input");
        let mut file = copy
            .create()
            .with_context(|| format!("cannot spool standard input to {}", copy.path.display()))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)?;
        std::io::Write::flush(&mut file)?;
        Ok(Self {
            path: copy.path.clone(),
            _copy: Some(copy),
        })
    }

    fn open(&self) -> Result<std::fs::File> {
        std::fs::File::open(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))
    }
}

/// Validates `input` streaming (a file of any size, never held in memory): the ST01 of each
/// of its transaction sets when it is sound enough to translate; `None` when it is not (its
/// findings are on stderr).
fn validated(
    input: &Path,
    spooled: &Spooled,
    catalog: &'static hms_x12::spec::Catalog,
) -> Result<Option<Vec<String>>> {
    let report = hms_x12::validate::validate_reader(
        std::io::BufReader::with_capacity(1 << 16, spooled.open()?),
        catalog,
        hms_x12::validate::Options::default(),
    )?;
    if !sound(input, &report) {
        return Ok(None);
    }
    let mut sets: Vec<String> = report
        .interchanges
        .iter()
        .flat_map(|i| &i.groups)
        .flat_map(|g| &g.transactions)
        .map(|t| t.id.to_string())
        .collect();
    sets.dedup();
    Ok(Some(sets))
}

/// `hms translate --to json FILE`: every 835 in the file as our JSON remittance, every 271 as
/// our eligibility view, or every 277 as claim statuses (an array in each case); an
/// 837's claims as our JSON.
fn to_json(input: &Path, lossless: bool, ndjson: bool) -> Result<ExitCode> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let spooled = Spooled::new(input)?;
    // Which streamed translation the sets found call for (`None`: none).
    let streams = |sets: &[String]| {
        let has = |set: &str| sets.iter().any(|s| s == set);
        if lossless {
            None
        } else if has("835") {
            Some(Streamed::Json)
        } else if has("837") && !has("271") && !has("277") {
            Some(Streamed::Claims)
        } else {
            None
        }
    };
    let sets = match streamed_or_sets(input, &spooled, catalog, ndjson, &streams)? {
        Ok(sets) => sets,
        Err(exit) => return Ok(exit),
    };
    let has = |set: &str| sets.iter().any(|s| s == set);
    if ndjson {
        bail!("--ndjson writes 835s and 837s (without --lossless); this input holds neither");
    }
    let x12 = read(&spooled.path)?;
    let json = if has("835") && lossless {
        pretty(hms_domain::lossless::read_835(&x12, catalog))
    } else if has("835") {
        pretty(hms_domain::remittance::read_835(&x12, catalog))
    } else if has("271") && lossless {
        pretty(hms_domain::lossless::read_271(&x12, catalog))
    } else if has("271") {
        pretty(hms_domain::eligibility::read_271(&x12, catalog))
    } else if has("277") && lossless {
        pretty(hms_domain::lossless::read_277(&x12, catalog))
    } else if has("277") {
        pretty(hms_domain::claim_status::read_277(&x12, catalog))
    } else if has("837") && lossless {
        // Professional or institutional, by the guide the file names: each kind keeps what
        // its own model does not hold.
        let institutional = hms_x12::tree::parse(&x12, catalog)
            .map(|doc| {
                doc.interchanges
                    .iter()
                    .flat_map(|i| &i.groups)
                    .flat_map(|g| &g.transactions)
                    .any(|t| {
                        t.guide
                            .as_deref()
                            .is_some_and(|g| g.starts_with("005010X223"))
                    })
            })
            .unwrap_or(false);
        if institutional {
            pretty(hms_domain::lossless::read_837i(&x12, catalog))
        } else {
            pretty(hms_domain::lossless::read_837p(&x12, catalog))
        }
    } else if has("837") {
        pretty(hms_domain::claims::read_837(&x12, catalog))
    } else {
        Err(format!(
            "no 835, 271, 277 or 837P transaction set to translate (found: {})",
            if sets.is_empty() {
                "none".into()
            } else {
                sets.join(", ")
            }
        ))
    };
    match json {
        Ok(text) => {
            outln!("{}", text?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("hms: {}: {e}", input.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// What was read, as pretty JSON, or why it could not be read.
fn pretty<T: serde::Serialize, E: std::fmt::Display>(
    read: std::result::Result<T, E>,
) -> std::result::Result<serde_json::Result<String>, String> {
    read.map(|r| serde_json::to_string_pretty(&r))
        .map_err(|e| e.to_string())
}

/// `hms translate --to fhir FILE`: for an 835, a Bundle with one ExplanationOfBenefit per
/// claim payment; for a 271, one CoverageEligibilityResponse per member.
fn to_fhir(input: &Path, ndjson: bool) -> Result<ExitCode> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let spooled = Spooled::new(input)?;
    let streams = |sets: &[String]| sets.iter().any(|s| s == "835").then_some(Streamed::Fhir);
    if let Err(exit) = streamed_or_sets(input, &spooled, catalog, ndjson, &streams)? {
        return Ok(exit);
    }
    if ndjson {
        bail!("--ndjson writes 835s; this input holds none");
    }
    let x12 = read(&spooled.path)?;
    let is_271 = hms_x12::Tokenizer::new(&x12)
        .flatten()
        .any(|s| s.id() == b"ST" && s.value(1) == b"271");
    if is_271 {
        return match hms_domain::eligibility::read_271(&x12, catalog) {
            Ok(responses) => {
                let today = chrono::Local::now().date_naive();
                let bundle = hms_domain::eligibility::fhir::responses_to_fhir(&responses, today);
                outln!("{}", serde_json::to_string_pretty(&bundle)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("hms: {}: {e}", input.display());
                Ok(ExitCode::from(1))
            }
        };
    }
    match hms_domain::remittance::read_835(&x12, catalog) {
        Ok(remits) => {
            let bundle = hms_domain::remittance::fhir::remittance_bundle(
                &remits,
                chrono::Utc::now().date_naive(),
            );
            outln!("{}", serde_json::to_string_pretty(&bundle)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("hms: {}: {e}", input.display());
            Ok(ExitCode::from(1))
        }
    }
}

/// `hms translate --to 277ca FILE.837`: every claim of the 837P or 837I scrubbed, and the
/// 277CA that accepts or rejects each.
fn to_claim_ack(input: &Path, partner: Option<TradingPartner>, control: u32) -> Result<ExitCode> {
    let catalog = hms_x12::spec::Catalog::embedded()
        .map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    let x12 = read(input)?;
    if !sound_for_translation(input, &x12, catalog) {
        return Ok(ExitCode::from(1));
    }
    let claims = match hms_domain::claims::read_837::read_837(&x12, catalog) {
        Ok(claims) => claims,
        Err(e) => {
            eprintln!("hms: {}: {e}", input.display());
            return Ok(ExitCode::from(1));
        }
    };
    let now = chrono::Local::now().naive_local();
    let outcomes: Vec<OperationOutcome> = claims.iter().map(|c| c.scrub(now.date())).collect();
    let batch: Vec<hms_domain::claims::ack_277ca::Reviewed<'_>> = claims
        .iter()
        .zip(&outcomes)
        .map(|(claim, outcome)| hms_domain::claims::ack_277ca::Reviewed { claim, outcome })
        .collect();
    let Some(first) = claims.first() else {
        bail!("{}: the 837 holds no claims", input.display());
    };
    // Addressed back to the submitter.
    let submitter = Receiver {
        name: first.submitter().name.clone(),
        id: first.submitter().id.clone(),
    };
    let partner = partner_for(partner.as_ref(), &submitter);
    let reference = hms_x12::Tokenizer::new(&x12)
        .flatten()
        .find(|s| s.id() == b"BHT")
        .map(|s| String::from_utf8_lossy(s.value(3)).into_owned())
        .unwrap_or_else(|| "UNKNOWN".into());
    let source = hms_domain::claims::ack_277ca::InformationSource {
        name: "HMS-ACH".into(),
        id: partner.sender_id.clone(),
    };
    let envelope = Envelope::new(control, now);
    let ack = hms_domain::claims::ack_277ca::claim_acknowledgment(
        &batch,
        &source,
        &reference,
        now.date(),
        &partner,
        &envelope,
    )?;
    use std::io::Write;
    std::io::stdout().write_all(&ack)?;
    Ok(ExitCode::SUCCESS)
}

/// `hms scrub INPUT.json`: the OperationOutcome on stdout; exit 0 clean, 1 with errors. The
/// input is our JSON professional or institutional claim (or an array of them) or a FHIR `Claim` (or a `Bundle`
/// of them); expressions are JSON pointers or FHIRPath accordingly, naming the claim of a
/// batch.
pub fn scrub(input: &Path, off: &[String]) -> Result<ExitCode> {
    let off: Vec<&str> = off.iter().map(String::as_str).collect();
    let profile = hms_domain::claims::scrub::Profile::switching_off(&off)?;
    let today = chrono::Local::now().date_naive();
    let spooled = Spooled::new(input)?;
    let file = spooled.open()?;
    let claims = match streamed_claims(&spooled)? {
        Some(claims) => Some(claims),
        None => match hms_domain::claims::StoredBundle::open(&file) {
            Ok(bundle) => bundle.map(|b| Claims::Bundle(Box::new(b), Box::new(our_connections()))),
            Err(e) => return print_outcome(&e.outcome()),
        },
    };
    if let Some(claims) = claims {
        return stream_scrub(claims, today, &profile);
    }
    let json = read(&spooled.path)?;
    let outcome = match Batch::read(&json, None, &our_connections()) {
        Ok(batch) => {
            let mut outcome = batch.scrub_with(today, &profile);
            outcome.issue.extend(batch.notes);
            outcome
        }
        Err(outcome) => outcome,
    };
    print_outcome(&outcome)
}

/// `hms scrub` of a JSON array of claims or a FHIR Bundle of Claims, a claim at a time: the
/// outcome a batch read whole gets (the scrubber's findings, then the FHIR reader's notes; or,
/// when a claim cannot be read, why), its lists bounded as a streamed batch's are.
fn stream_scrub(
    mut claims: Claims<'_>,
    today: chrono::NaiveDate,
    profile: &hms_domain::claims::scrub::Profile,
) -> Result<ExitCode> {
    let frame = claims.frame();
    let (mut unreadable, mut found, mut notes) = (
        Findings::default(),
        Findings::default(),
        Findings::default(),
    );
    let read = claims.read(None, |i, claim| match claim {
        Ok((claim, noted)) => {
            found.extend(frame.scrub_claim(i, &claim, today, profile));
            notes.extend(noted);
        }
        Err(outcome) => unreadable.extend(outcome.issue),
    })?;
    match read {
        Err(outcome) => print_outcome(&outcome),
        Ok(0) => print_outcome(&problem(
            IssueType::Required,
            "no-claims",
            "the input holds no claims",
        )),
        Ok(_) if !unreadable.issues.is_empty() => print_outcome(&unreadable.outcome()),
        Ok(_) => {
            let mut outcome = found.outcome();
            outcome.issue.extend(notes.into_issues());
            print_outcome(&outcome)
        }
    }
}

/// `hms scrub --list-edits`: every edit of the registry as a Markdown table.
pub fn list_edits() -> Result<ExitCode> {
    use std::fmt::Write as _;
    let mut table =
        String::from("| id | severity | claims | points at | checks |\n|---|---|---|---|---|\n");
    for edit in hms_domain::claims::edits::EDITS {
        let kinds: Vec<&str> = edit
            .applies_to
            .iter()
            .map(|k| match k {
                ClaimKind::Professional => "837P",
                ClaimKind::Institutional => "837I",
            })
            .collect();
        let _ = writeln!(
            table,
            "| `{}` | {:?} | {} | `{}` | {} |",
            edit.id,
            edit.severity,
            kinds.join(", "),
            edit.pointer,
            edit.description
        );
    }
    match std::io::Write::write_all(&mut std::io::stdout(), table.as_bytes()) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        written => written.map(|()| ExitCode::SUCCESS).map_err(Into::into),
    }
}

/// The clearinghouse of FHIR claims when the partner configuration names none, with the
/// local payer directory.
fn our_connections() -> hms_domain::partner::Connections {
    hms_domain::partner::Connections::local()
}

/// `batch`, its FHIR reader's notes (a default it took from the payer directory) told on
/// stderr, where they do not mix with the X12 on stdout.
fn noted(batch: Batch) -> Batch {
    tell_notes(&batch.notes);
    batch
}

/// The FHIR reader's notes, on stderr.
fn tell_notes(notes: &[hms_domain::outcome::Issue]) {
    for note in notes {
        eprintln!(
            "note: {} ({})",
            note.details.text,
            note.expression.join(", ")
        );
    }
}

fn print_outcome(outcome: &OperationOutcome) -> Result<ExitCode> {
    outln!("{}", serde_json::to_string_pretty(outcome)?);
    Ok(if outcome.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = vec![];
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed expectation is the test failing
    use super::*;

    #[test]
    fn a_spool_is_its_users_alone_and_gone_when_dropped() {
        use std::os::unix::fs::PermissionsExt;
        let spool = Spool::new("test");
        let mut file = spool.create().unwrap();
        std::io::Write::write_all(&mut file, b"PHI").unwrap();
        drop(file);
        let mode = std::fs::metadata(&spool.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let path = spool.path.clone();
        drop(spool);
        assert!(!path.exists());
    }
}
