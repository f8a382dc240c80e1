//! A FHIR `Bundle` of Claims read from a file a Claim at a time: what a billing system's
//! nightly export of thousands of Claims becomes an 837 from without being held whole (held,
//! its `serde_json::Value` takes about ten times the file).
//!
//! A Claim refers to its Patient, Coverage, payer and providers anywhere in the Bundle, before
//! or after it, by `fullUrl`, `Type/id`, a conditional reference or an identifier. So the file
//! is read twice: once to index every entry (where its text lies, and hashes of its `fullUrl`,
//! type and id, and identifier values: a few dozen bytes an entry, never the resources), then
//! each Claim is read with a [`Resources`] that reads an entry from the file when a reference
//! first leads to it, and forgets it when the Claim is read. The references resolve exactly as
//! for a Bundle in memory: the same lookups, over the entries whose hashes match, checked
//! against their text.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key yields Null when absent and never panics; slices are read with get"
)]

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};
use std::io;
use std::os::unix::fs::FileExt;

use serde_json::Value;

use crate::claims::claim::ClaimKind;
use crate::claims::fhir::{self, resources::Resources};
use crate::claims::intake::{ArrayElements, MAX_CLAIM_BYTES, ScanError};
use crate::outcome::{Issue, IssueType, OperationOutcome};
use crate::partner::Connections;

/// The most entries a Bundle read from a file may have: its index takes 35 to 70 bytes an
/// entry (a word for where the entry lies, a word and a half a key with its directory, the
/// slack of growing vectors; about 30 MB at the bound, which keeps the whole process under
/// 64 MiB: the Bundle of 50,000 Claims below peaks at 42 MB), and a day's export of
/// claims fits (50,000 Claims, each with its own Patient, Coverage, providers and Conditions,
/// are 450,000 entries).
pub const MAX_BUNDLE_ENTRIES: usize = 500_000;

/// The most entries one Claim's references may read (the Claim's parties, each once).
pub const MAX_REFERRED_ENTRIES: usize = 4_096;

/// The most entries one lookup reads to decide a reference (entries sharing a `fullUrl`, a
/// type and id, or an identifier value). Past it the reference is ambiguous: a Bundle in which
/// a thousand resources carry one identifier names no one of them by it.
pub const MAX_CANDIDATES: usize = 1_000;

/// The most bytes of entries one Claim's references may read: what the Claim's parties take,
/// held while it is read (a Claim itself may take [`MAX_CLAIM_BYTES`]).
pub const MAX_REFERRED_BYTES: u64 = MAX_CLAIM_BYTES as u64;

/// Why a Bundle in a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The Bundle's JSON is broken where it was scanned.
    #[error("the input is not a FHIR Bundle: {problem} at byte {offset}")]
    NotBundle {
        /// What was found.
        problem: &'static str,
        /// Byte offset in the input.
        offset: u64,
    },
    /// One entry (or another member of the Bundle) is larger than any claim may be.
    #[error("Bundle.entry[{entry}] is larger than {MAX_CLAIM_BYTES} bytes")]
    TooLarge {
        /// The entry's index (the number of entries before it).
        entry: usize,
    },
    /// More entries than [`MAX_BUNDLE_ENTRIES`].
    #[error(
        "the Bundle has more than {MAX_BUNDLE_ENTRIES} entries: send its Claims in several Bundles"
    )]
    TooManyEntries,
    /// An entry is not JSON.
    #[error("Bundle.entry[{entry}] is not JSON: {source}")]
    NotJson {
        /// The entry's index.
        entry: usize,
        /// What the JSON parser found.
        #[source]
        source: serde_json::Error,
    },
    /// The file could not be read.
    #[error("reading the Bundle: {0}")]
    Read(#[source] io::Error),
}

impl BundleError {
    /// The error as an outcome for whoever sent the Bundle: FHIRPath to the entry when one is
    /// to blame.
    pub fn outcome(&self) -> OperationOutcome {
        let (code, diagnostics, entry) = match self {
            Self::NotBundle { .. } => (IssueType::Structure, "parse", None),
            Self::TooLarge { entry } => (IssueType::TooLong, "too-large", Some(*entry)),
            Self::TooManyEntries => (IssueType::TooCostly, "too-many-entries", None),
            Self::NotJson { entry, .. } => (IssueType::Structure, "parse", Some(*entry)),
            Self::Read(_) => (IssueType::Exception, "read", None),
        };
        let mut issue = Issue::error(code, diagnostics, self.to_string());
        if let Some(entry) = entry {
            issue.expression = vec![format!("Bundle.entry[{entry}]")];
        }
        OperationOutcome::new(vec![issue])
    }
}

/// Why the Claims of a stored Bundle stopped coming.
#[derive(Debug, thiserror::Error)]
pub enum ClaimBundleError<E: std::error::Error + 'static> {
    /// The file could not be read again.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Whoever took the claims stopped.
    #[error("taking the claims: {0}")]
    Sink(#[source] E),
}

/// Bits of a [`Span`] that hold the length: an entry takes at most [`MAX_CLAIM_BYTES`].
const LEN_BITS: u32 = 25;

/// Where an entry's text lies in the file: its offset (below 512 GB) and length, in one word.
#[derive(Debug, Clone, Copy)]
struct Span(u64);

impl Span {
    fn new(offset: u64, len: usize) -> Option<Self> {
        let len = u64::try_from(len).ok().filter(|&l| l < 1 << LEN_BITS)?;
        (offset < 1 << (64 - LEN_BITS)).then_some(Self(offset << LEN_BITS | len))
    }

    fn offset(self) -> u64 {
        self.0 >> LEN_BITS
    }

    fn len(self) -> usize {
        // Below 2^25: fits any usize this code runs on.
        usize::try_from(self.0 & ((1 << LEN_BITS) - 1)).unwrap_or(usize::MAX)
    }
}

/// Bits of a key that hold the entry's index: [`MAX_BUNDLE_ENTRIES`] fits.
const ENTRY_BITS: u32 = 20;
const _: () = assert!(MAX_BUNDLE_ENTRIES < 1 << ENTRY_BITS);

/// Lookup keys, each the top 44 bits of a key's hash and the index of the entry that has it
/// in one word; kept sorted, so that a key's entries are one run, in input order, and found
/// through a directory of where each bucket of hashes starts.
///
/// A binary search of the whole list missed the cache at nearly every step past the first few
/// (a Bundle of 50,000 Claims holds about 450,000 keys a list, 3.6 MB each): a tenth of the
/// time of reading its Claims went to those loads. The directory (a word for about every two
/// keys) takes a reference to its run in two loads.
#[derive(Debug, Default)]
struct Keyed {
    /// Keys, sorted.
    keys: Vec<u64>,
    /// Where the keys of each bucket (the top bits of the hash) start in `keys`, with the end
    /// of the last one after it; empty until [`Keyed::sort`].
    starts: Vec<u32>,
    /// How far a key's hash (its top 44 bits) is shifted right to give its bucket.
    shift: u32,
}

/// Bits of a key's hash kept in the key: what is left beside the entry's index.
const HASH_BITS: u32 = 64 - ENTRY_BITS;

impl Keyed {
    fn push(&mut self, key: u64) {
        self.keys.push(key);
    }

    /// Sorts the keys and builds the directory: about one bucket for every two keys, so a
    /// bucket holds one or two keys and the directory half a word a key.
    fn sort(&mut self) {
        self.keys.sort_unstable();
        self.keys.shrink_to_fit();
        let buckets = (self.keys.len() / 2).max(1).next_power_of_two();
        let bits = buckets.trailing_zeros();
        self.shift = HASH_BITS - bits;
        let mut starts = Vec::with_capacity(buckets + 1);
        let mut at = 0usize;
        for bucket in 0..buckets as u64 {
            while self
                .keys
                .get(at)
                .is_some_and(|&k| (k >> ENTRY_BITS) >> self.shift < bucket)
            {
                at += 1;
            }
            // Below MAX_BUNDLE_ENTRIES times the keys an entry has: fits a u32.
            starts.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        starts.push(u32::try_from(self.keys.len()).unwrap_or(u32::MAX));
        self.starts = starts;
    }

    /// The keys whose hash is `hash` (a key's top 44 bits), in input order.
    fn run(&self, hash: u64) -> &[u64] {
        let bucket = usize::try_from(hash >> self.shift).unwrap_or(usize::MAX);
        let bound = |b: usize| self.starts.get(b).map(|&at| at as usize);
        let (Some(start), Some(end)) = (bound(bucket), bound(bucket.saturating_add(1))) else {
            return &[];
        };
        let keys = self.keys.get(start..end).unwrap_or_default();
        let first = keys.partition_point(|&k| k >> ENTRY_BITS < hash);
        let after = keys.get(first..).unwrap_or_default();
        // Past MAX_CANDIDATES the caller refuses the run: it is not walked further.
        let len = after
            .iter()
            .take(MAX_CANDIDATES + 1)
            .take_while(|&&k| k >> ENTRY_BITS == hash)
            .count();
        after.get(..len).unwrap_or_default()
    }
}

/// The word a key of hash `hash` on entry `entry` is kept as.
fn keyed(hash: u64, entry: u32) -> u64 {
    (hash >> ENTRY_BITS) << ENTRY_BITS | u64::from(entry)
}

/// A FHIR Bundle in a file, indexed: its Claims are read one at a time
/// ([`StoredBundle::read_claims`]), each resolving its references against the whole Bundle.
#[derive(Debug)]
pub struct StoredBundle<'f> {
    file: &'f File,
    entries: Vec<Span>,
    /// The entries whose resource is a Claim, with where each lies.
    claims: Vec<(u32, Span)>,
    urls: Keyed,
    ids: Keyed,
    identifiers: Keyed,
}

/// Entries one reader read for the Claim it is reading, each once: a fixed pool of slots
/// (never grown while a Claim is read, so what was read stays where the reader borrowed it).
/// Each thread reading Claims has its own; the index they read by is shared.
#[derive(Debug)]
struct Referred {
    slots: Vec<OnceCell<Value>>,
    /// Which slot holds which entry.
    slot_of: RefCell<HashMap<u32, usize>>,
    /// Bytes of entries read for the Claim being read.
    loaded_bytes: Cell<u64>,
    /// What went wrong reading an entry for the Claim being read.
    trouble: RefCell<Option<Trouble>>,
}

impl Referred {
    fn new(entries: usize) -> Self {
        Self {
            slots: std::iter::repeat_with(OnceCell::new)
                .take(MAX_REFERRED_ENTRIES.min(entries))
                .collect(),
            slot_of: RefCell::new(HashMap::new()),
            loaded_bytes: Cell::new(0),
            trouble: RefCell::new(None),
        }
    }

    /// Empties what the Claim just read loaded; what went wrong loading it.
    fn forget(&mut self) -> Option<Trouble> {
        for (_, slot) in self.slot_of.get_mut().drain() {
            if let Some(cell) = self.slots.get_mut(slot) {
                cell.take();
            }
        }
        self.loaded_bytes.set(0);
        self.trouble.get_mut().take()
    }
}

/// A stored Bundle as one reader resolves a Claim's references against it: the shared index,
/// with the entries this reader read for its Claim.
#[derive(Debug, Clone, Copy)]
pub struct Referring<'a> {
    bundle: &'a StoredBundle<'a>,
    referred: &'a Referred,
}

/// Claims read on another thread and not yet taken: enough that neither thread waits on the
/// other's slower Claims, few enough that memory stays a few Claims.
const READ_AHEAD: usize = 16;

/// What reading one Claim of a stored Bundle gives: its entry's index and the claim (or the
/// outcome that says why it cannot be read).
type ReadClaim = Result<(usize, Result<fhir::Read, OperationOutcome>), BundleError>;

/// A Claim of a [`StoredBundle`] read, with what the reader noted on the way (defaults it
/// assumed, references it could not follow), located in the Bundle.
#[derive(Debug)]
pub struct LocatedClaim {
    /// The claim.
    pub claim: crate::claims::Claim,
    /// The reader's notes, their FHIRPaths from the Bundle.
    pub notes: Vec<Issue>,
}

/// Why an entry a reference led to could not be read.
#[derive(Debug)]
enum Trouble {
    /// The file could not be read.
    Read(io::Error),
    /// The Claim's references read more than [`MAX_REFERRED_BYTES`].
    TooMuch,
}

/// What the first scan learned about the input.
enum Scanned {
    /// A Bundle, indexed.
    Bundle,
    /// Not a Bundle, or one with Bundles among its entries: read whole.
    Other,
}

impl<'f> StoredBundle<'f> {
    /// Indexes the Bundle in `file`, reading it once from its start, in memory bounded by its
    /// largest entry and its number of entries. `None` when the file holds no Bundle (a
    /// Claim, an array, text that is not JSON) or a Bundle with Bundles among its entries:
    /// those are read whole, whose reader says what is wrong with them.
    pub fn open(file: &'f File) -> Result<Option<Self>, BundleError> {
        let mut bundle = Self {
            file,
            entries: vec![],
            claims: vec![],
            urls: Keyed::default(),
            ids: Keyed::default(),
            identifiers: Keyed::default(),
        };
        match bundle.scan()? {
            Scanned::Other => return Ok(None),
            Scanned::Bundle => {}
        }
        for keyed in [&mut bundle.urls, &mut bundle.ids, &mut bundle.identifiers] {
            keyed.sort();
        }
        bundle.entries.shrink_to_fit();
        Ok(Some(bundle))
    }

    /// How many Claims the Bundle holds.
    pub fn claims(&self) -> usize {
        self.claims.len()
    }

    /// Reads every Claim of the Bundle, in input order, as a claim of `kind` (or of the kind
    /// each says it is), sent on by the clearinghouse of `connections`: each read (or the
    /// outcome that says why it cannot be, its FHIRPaths from `Claim`) goes to `each` with its
    /// entry's index. One Claim and the entries it refers to are in memory at a time on each
    /// reading thread, and at most sixteen Claims read ahead.
    ///
    /// With more than one core, a second thread reads every other Claim beside this one (each
    /// Claim is read on its own, so the claims are the same either way); `each` is called on
    /// this thread, in input order.
    pub fn read_claims<E: std::error::Error + 'static>(
        &mut self,
        kind: Option<ClaimKind>,
        connections: &Connections,
        each: impl FnMut(usize, Result<fhir::Read, OperationOutcome>) -> Result<(), E>,
    ) -> Result<(), ClaimBundleError<E>> {
        let beside = std::thread::available_parallelism().is_ok_and(|cores| cores.get() > 1);
        self.read_claims_by(beside, kind, connections, each)
    }

    /// [`StoredBundle::read_claims`], with every other Claim read on a second thread when
    /// `beside`.
    fn read_claims_by<E: std::error::Error + 'static>(
        &self,
        beside: bool,
        kind: Option<ClaimKind>,
        connections: &Connections,
        mut each: impl FnMut(usize, Result<fhir::Read, OperationOutcome>) -> Result<(), E>,
    ) -> Result<(), ClaimBundleError<E>> {
        let bundle = self;
        let claims = bundle.claims.len();
        if !beside || claims < 2 {
            let mut referred = Referred::new(bundle.entries.len());
            for at in 0..claims {
                let (entry, read) = bundle.read_claim(&mut referred, at, kind, connections)?;
                each(entry, read).map_err(ClaimBundleError::Sink)?;
            }
            return Ok(());
        }
        std::thread::scope(|scope| {
            let (send, receive) = std::sync::mpsc::sync_channel::<ReadClaim>(READ_AHEAD);
            // The odd Claims, on the other thread; it stops at its first failure, or when
            // this thread stops taking them (the receiver is dropped).
            scope.spawn(move || {
                let mut referred = Referred::new(bundle.entries.len());
                for at in (1..claims).step_by(2) {
                    let read = bundle.read_claim(&mut referred, at, kind, connections);
                    let failed = read.is_err();
                    if send.send(read).is_err() || failed {
                        break;
                    }
                }
            });
            let mut referred = Referred::new(bundle.entries.len());
            for at in 0..claims {
                let read = if at % 2 == 0 {
                    bundle.read_claim(&mut referred, at, kind, connections)
                } else {
                    receive.recv().unwrap_or_else(|_| {
                        Err(BundleError::Read(io::Error::other(
                            "the thread reading Claims beside this one stopped",
                        )))
                    })
                };
                let (entry, read) = read?;
                each(entry, read).map_err(ClaimBundleError::Sink)?;
            }
            Ok(())
        })
    }

    /// Claim number `at` (of the Bundle's Claims, from 0), read with `referred` for the
    /// entries it refers to, which it empties again.
    fn read_claim(
        &self,
        referred: &mut Referred,
        at: usize,
        kind: Option<ClaimKind>,
        connections: &Connections,
    ) -> ReadClaim {
        let Some(&(entry, span)) = self.claims.get(at) else {
            return Err(BundleError::Read(io::Error::other(format!(
                "no Claim {at} in the Bundle's index"
            ))));
        };
        let value = self.read_entry(span).map_err(BundleError::Read)?;
        let claim = &value["resource"];
        let read = {
            let resources = Resources::stored(Referring {
                bundle: self,
                referred,
            });
            fhir::read(
                claim,
                &resources,
                kind.unwrap_or_else(|| ClaimKind::of(claim)),
                connections,
            )
        };
        let read = match referred.forget() {
            None => read,
            Some(Trouble::Read(e)) => return Err(BundleError::Read(e)),
            Some(Trouble::TooMuch) => Err(OperationOutcome::new(vec![Issue::error(
                IssueType::TooCostly,
                "too-large",
                format!(
                    "the resources the Claim refers to take more than {MAX_REFERRED_BYTES} bytes or {MAX_REFERRED_ENTRIES} entries"
                ),
            )])),
        };
        Ok((entry as usize, read))
    }

    /// [`StoredBundle::read_claims`] as a batch reports it: each Claim's notes, or the findings
    /// that say why it cannot be read, with FHIRPaths from the Bundle
    /// (`Bundle.entry[i].resource...`), as [`crate::claims::Batch::read`] of the whole Bundle
    /// locates them.
    pub fn read_claims_located<E: std::error::Error + 'static>(
        &mut self,
        kind: Option<ClaimKind>,
        connections: &Connections,
        mut each: impl FnMut(usize, Result<LocatedClaim, Vec<Issue>>) -> Result<(), E>,
    ) -> Result<(), ClaimBundleError<E>> {
        let frame = crate::claims::Batch::streamed_bundle();
        self.read_claims(kind, connections, |entry, read| {
            let located = match read {
                Ok(read) => Ok(LocatedClaim {
                    claim: read.claim,
                    notes: frame.locate(
                        entry,
                        OperationOutcome {
                            resource_type: "OperationOutcome".into(),
                            issue: read.notes,
                        },
                        false,
                    ),
                }),
                Err(outcome) => Err(frame.locate(entry, outcome, false)),
            };
            each(entry, located)
        })
    }

    /// The entry at `span`, parsed: it was parsed when the file was indexed, and the file is
    /// the caller's and unchanged, so what fails here is the reading.
    fn read_entry(&self, span: Span) -> io::Result<Value> {
        let mut text = vec![0; span.len()];
        self.file.read_exact_at(&mut text, span.offset())?;
        serde_json::from_slice(&text).map_err(io::Error::other)
    }

    /// The first read: the Bundle's members scanned (strings and nesting followed, never
    /// parsed whole), each entry parsed on its own and indexed.
    fn scan(&mut self) -> Result<Scanned, BundleError> {
        let mut bytes = ArrayElements::new(io::BufReader::with_capacity(
            1 << 16,
            At {
                file: self.file,
                offset: 0,
            },
        ));
        // Broken JSON before the Bundle says what it is (its `resourceType`) is the whole
        // reader's to explain: it may be a Claim.
        let mut resource_type: Option<String> = None;
        let mut seen_entry = false;
        let broken = |problem, offset, resource_type: &Option<String>| match resource_type {
            Some(t) if t == "Bundle" => Err(BundleError::NotBundle { problem, offset }),
            _ => Ok(Scanned::Other),
        };
        let mut first_member = true;
        match next_token(&mut bytes)? {
            Some(b'{') => {}
            _ => return Ok(Scanned::Other),
        }
        loop {
            let offset = bytes.offset();
            match next_token(&mut bytes)? {
                Some(b'}') if first_member => break,
                Some(b'"') => {}
                _ => return broken("expected a member name", offset, &resource_type),
            }
            first_member = false;
            let name: String = match bytes.scan_element(b'"') {
                Ok(text) => match serde_json::from_slice(text) {
                    Ok(name) => name,
                    Err(_) => {
                        return broken("a member name that is not JSON", offset, &resource_type);
                    }
                },
                Err(e) => return scan_failed(e, &resource_type, self.entries.len()),
            };
            let offset = bytes.offset();
            if next_token(&mut bytes)? != Some(b':') {
                return broken("expected `:`", offset, &resource_type);
            }
            let offset = bytes.offset();
            let Some(first) = next_token(&mut bytes)? else {
                return broken("the Bundle ends inside a member", offset, &resource_type);
            };
            match name.as_str() {
                "entry" if first == b'[' && !seen_entry => {
                    seen_entry = true;
                    bytes.open_nested();
                    loop {
                        let index = self.entries.len();
                        let text = match bytes.next_element() {
                            Ok(Some(text)) => text,
                            Ok(None) => break,
                            Err(e) => return scan_failed(e, &resource_type, index),
                        };
                        if index >= MAX_BUNDLE_ENTRIES {
                            return Err(BundleError::TooManyEntries);
                        }
                        let len = text.len();
                        let entry: keys::Entry<'_> =
                            serde_json::from_slice(text).map_err(|source| {
                                BundleError::NotJson {
                                    entry: index,
                                    source,
                                }
                            })?;
                        if entry.resource.kind.as_deref() == Some("Bundle") {
                            return Ok(Scanned::Other);
                        }
                        let hashed = Hashed::of(&entry);
                        let span = Span::new(bytes.element_start(), len)
                            .ok_or(BundleError::TooLarge { entry: index })?;
                        self.index(&hashed, index, span);
                    }
                }
                "entry" => {
                    let problem = if seen_entry {
                        "a second `entry`"
                    } else {
                        "`entry` is not an array"
                    };
                    return broken(problem, offset, &resource_type);
                }
                _ => {
                    // Every other member is read past, but only if it is JSON: what the
                    // Bundle read whole would refuse is refused here too.
                    let text = match bytes.scan_element(first) {
                        Ok(text) => text,
                        Err(e) => return scan_failed(e, &resource_type, self.entries.len()),
                    };
                    if name == "resourceType" {
                        resource_type = serde_json::from_slice(text).ok();
                    } else if serde_json::from_slice::<keys::Checked>(text).is_err() {
                        return broken("a member that is not JSON", offset, &resource_type);
                    }
                }
            }
            let offset = bytes.offset();
            match next_token(&mut bytes)? {
                Some(b',') => {}
                Some(b'}') => break,
                _ => return broken("expected `,` or `}`", offset, &resource_type),
            }
        }
        let offset = bytes.offset();
        if next_token(&mut bytes)?.is_some() {
            return broken("text after the Bundle", offset, &resource_type);
        }
        Ok(match resource_type.as_deref() {
            Some("Bundle") => Scanned::Bundle,
            _ => Scanned::Other,
        })
    }

    /// Records entry `index`, at `span`: what a Bundle in memory indexes of it
    /// ([`Resources::of`]), as hashes.
    fn index(&mut self, entry: &Hashed, index: usize, span: Span) {
        self.entries.push(span);
        let Ok(at) = u32::try_from(index) else {
            return;
        };
        let Some(claim) = entry.claim else {
            return;
        };
        if let Some(h) = entry.url {
            self.urls.push(keyed(h, at));
        }
        if let Some(h) = entry.id {
            self.ids.push(keyed(h, at));
        }
        for &h in &entry.identifiers {
            self.identifiers.push(keyed(h, at));
        }
        if claim {
            self.claims.push((at, span));
        }
    }
}

impl<'a> Referring<'a> {
    /// The resource of the last entry whose `fullUrl` is `url` (none when more than
    /// [`MAX_CANDIDATES`] entries hash as it does).
    pub(crate) fn by_url(&self, url: &str) -> Option<&'a Value> {
        self.candidates(&self.bundle.urls, &url)?
            .into_iter()
            .rfind(|e| e["fullUrl"].as_str() == Some(url))
            .map(|e| &e["resource"])
    }

    /// The resource of type `kind` with id `id`: `Some(None)` when resources that differ share
    /// them, as a Bundle in memory decides (or more than [`MAX_CANDIDATES`] might).
    pub(crate) fn by_id(&self, kind: &str, id: &str) -> Option<Option<&'a Value>> {
        let Some(candidates) = self.candidates(&self.bundle.ids, &(kind, id)) else {
            return Some(None);
        };
        let mut same = candidates
            .into_iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == kind && r["id"].as_str() == Some(id));
        let first = same.next()?;
        if same.any(|other| other != first) {
            return Some(None);
        }
        Some(Some(first))
    }

    /// In input order, the resources with an identifier of value `value` (and, should their
    /// hashes meet, a few more: the caller checks each); `None` past [`MAX_CANDIDATES`], which
    /// the caller takes for an ambiguous reference: a Bundle in which a thousand resources
    /// carry one identifier names no one of them by it.
    pub(crate) fn carrying(&self, value: &str) -> Option<Vec<&'a Value>> {
        let entries = self.candidates(&self.bundle.identifiers, &value)?;
        Some(entries.into_iter().map(|e| &e["resource"]).collect())
    }

    /// The entries (read from the file) whose key hashes as `key` does, in input order;
    /// `None` past [`MAX_CANDIDATES`].
    fn candidates<K: Hash + ?Sized>(&self, keyed: &Keyed, key: &K) -> Option<Vec<&'a Value>> {
        let run = keyed.run(hash_of(key) >> ENTRY_BITS);
        if run.len() > MAX_CANDIDATES {
            return None;
        }
        let entry_mask = (1 << ENTRY_BITS) - 1;
        Some(
            run.iter()
                .filter_map(|&k| self.load(u32::try_from(k & entry_mask).ok()?))
                .collect(),
        )
    }

    /// Entry `entry`, read from the file the first time the Claim being read needs it.
    fn load(&self, entry: u32) -> Option<&'a Value> {
        let referred = self.referred;
        if let Some(&slot) = referred.slot_of.borrow().get(&entry) {
            return referred.slots.get(slot)?.get();
        }
        if referred.trouble.borrow().is_some() {
            return None;
        }
        let span = *self.bundle.entries.get(entry as usize)?;
        let bytes = referred.loaded_bytes.get() + span.len() as u64;
        let slot = referred.slot_of.borrow().len();
        let Some(cell) = referred
            .slots
            .get(slot)
            .filter(|_| bytes <= MAX_REFERRED_BYTES)
        else {
            *referred.trouble.borrow_mut() = Some(Trouble::TooMuch);
            return None;
        };
        referred.loaded_bytes.set(bytes);
        match self.bundle.read_entry(span) {
            Ok(value) => {
                referred.slot_of.borrow_mut().insert(entry, slot);
                Some(cell.get_or_init(|| value))
            }
            Err(e) => {
                *referred.trouble.borrow_mut() = Some(Trouble::Read(e));
                None
            }
        }
    }
}

/// The hashes an entry is indexed by, as [`Resources::of`] would find the entry by in memory:
/// none for a resource without a type.
#[derive(Debug)]
struct Hashed {
    /// Whether the resource is a Claim; `None` when it has no type (it is not indexed).
    claim: Option<bool>,
    url: Option<u64>,
    id: Option<u64>,
    identifiers: Vec<u64>,
}

impl Hashed {
    fn of(entry: &keys::Entry<'_>) -> Self {
        let resource = &entry.resource;
        let kind = resource.kind.as_deref();
        Self {
            claim: kind.map(|k| k == "Claim"),
            url: entry.full_url.as_deref().map(hash_of),
            id: kind.zip(resource.id.as_deref()).map(|key| hash_of(&key)),
            identifiers: resource
                .identifiers
                .iter()
                .map(|v| hash_of(v.as_ref()))
                .collect(),
        }
    }
}

/// The next byte that is not whitespace, `None` at the end of the input.
fn next_token<R: io::Read>(bytes: &mut ArrayElements<R>) -> Result<Option<u8>, BundleError> {
    loop {
        match bytes.byte() {
            Ok(Some(b)) if b.is_ascii_whitespace() => {}
            Ok(other) => return Ok(other),
            // Taking a byte can only fail to read.
            Err(ScanError::Read(e)) => return Err(BundleError::Read(e)),
            Err(ScanError::TooLarge | ScanError::NotArray(..)) => return Ok(None),
        }
    }
}

/// A scan that stopped: an error once the input is known to be a Bundle; before, the whole
/// reader's to explain.
fn scan_failed(
    e: ScanError,
    resource_type: &Option<String>,
    entry: usize,
) -> Result<Scanned, BundleError> {
    let bundle = resource_type.as_deref() == Some("Bundle");
    match e {
        ScanError::Read(e) => Err(BundleError::Read(e)),
        ScanError::TooLarge if bundle => Err(BundleError::TooLarge { entry }),
        ScanError::NotArray(problem, offset) if bundle => {
            Err(BundleError::NotBundle { problem, offset })
        }
        ScanError::TooLarge | ScanError::NotArray(..) => Ok(Scanned::Other),
    }
}

/// The hash an index keeps of a lookup key: the same in every process (`DefaultHasher`'s
/// fixed keys), and checked against the entry's text, so a collision costs a read.
fn hash_of<K: Hash + ?Sized>(key: &K) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
}

/// Sequential reads of a file by position, leaving its cursor alone.
struct At<'f> {
    file: &'f File,
    offset: u64,
}

impl io::Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// What the index keeps of an entry, read from its text without building its `Value` (the
/// first read parses every entry of the Bundle): as [`StoredBundle::index`] would find it in
/// the `Value`, a member repeated counting as its last, anything not of the expected shape as
/// absent.
mod keys {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    /// An entry: its `fullUrl` and what its `resource` is.
    #[derive(Debug, Default)]
    pub(super) struct Entry<'a> {
        pub full_url: Option<Cow<'a, str>>,
        pub resource: Resource<'a>,
    }

    /// A resource: its type, id and identifier values.
    #[derive(Debug, Default)]
    pub(super) struct Resource<'a> {
        pub kind: Option<Cow<'a, str>>,
        pub id: Option<Cow<'a, str>>,
        pub identifiers: Vec<Cow<'a, str>>,
    }

    /// A string member's text; `None` when the member is not a string.
    #[derive(Debug, Default)]
    struct Text<'a>(Option<Cow<'a, str>>);

    /// The values of an `identifier` array.
    #[derive(Debug, Default)]
    struct Identifiers<'a>(Vec<Cow<'a, str>>);

    /// One identifier's `value`.
    #[derive(Debug, Default)]
    struct IdentifierValue<'a>(Option<Cow<'a, str>>);

    /// A visitor for `T` that takes any JSON not of `T`'s shape as `T::default()`, reading past
    /// it; `$shape` handles the one it takes.
    macro_rules! lenient {
        ($visitor:ident, $target:ident, $expecting:literal, { $($shape:item)* }) => {
            struct $visitor;

            impl<'de> Visitor<'de> for $visitor {
                type Value = $target<'de>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str($expecting)
                }

                $($shape)*

                fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                    Ok(Self::Value::default())
                }
                fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                    Ok(Self::Value::default())
                }
                fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                    Ok(Self::Value::default())
                }
                fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                    Ok(Self::Value::default())
                }
                fn visit_unit<E>(self) -> Result<Self::Value, E> {
                    Ok(Self::Value::default())
                }
            }

            impl<'de> Deserialize<'de> for $target<'de> {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    d.deserialize_any($visitor)
                }
            }
        };
    }

    /// Any JSON, read past as a `Value` would read it, keeping nothing: what it refuses is what
    /// a `Value` refuses (serde's `IgnoredAny` takes strings with escapes no string may have,
    /// such as a lone surrogate, which a Bundle read whole refuses).
    #[derive(Debug)]
    pub(super) struct Checked;

    struct CheckedVisitor;

    impl<'de> Visitor<'de> for CheckedVisitor {
        type Value = Checked;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_unit<E>(self) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Checked, A::Error> {
            skip_seq(seq).map(|()| Checked)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Checked, A::Error> {
            skip_map(map).map(|()| Checked)
        }
    }

    impl<'de> Deserialize<'de> for Checked {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(CheckedVisitor)
        }
    }

    /// Reads past the rest of a map.
    fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(())
    }

    /// Reads past the rest of a sequence.
    fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(())
    }

    lenient!(TextVisitor, Text, "a string", {
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Text(Some(Cow::Borrowed(v))))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Text(Some(Cow::Owned(v.to_string()))))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Text(Some(Cow::Owned(v))))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq).map(|()| Text(None))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            skip_map(map).map(|()| Text(None))
        }
    });

    lenient!(EntryVisitor, Entry, "a Bundle entry", {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Entry::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq).map(|()| Entry::default())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entry = Entry::default();
            while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                match key.as_deref() {
                    Some("fullUrl") => entry.full_url = map.next_value::<Text<'de>>()?.0,
                    Some("resource") => entry.resource = map.next_value()?,
                    _ => {
                        map.next_value::<Checked>()?;
                    }
                }
            }
            Ok(entry)
        }
    });

    lenient!(ResourceVisitor, Resource, "a resource", {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Resource::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq).map(|()| Resource::default())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut resource = Resource::default();
            while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                match key.as_deref() {
                    Some("resourceType") => resource.kind = map.next_value::<Text<'de>>()?.0,
                    Some("id") => resource.id = map.next_value::<Text<'de>>()?.0,
                    Some("identifier") => {
                        resource.identifiers = map.next_value::<Identifiers<'de>>()?.0;
                    }
                    _ => {
                        map.next_value::<Checked>()?;
                    }
                }
            }
            Ok(resource)
        }
    });

    lenient!(IdentifiersVisitor, Identifiers, "identifiers", {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Identifiers::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut values = vec![];
            while let Some(IdentifierValue(value)) = seq.next_element()? {
                values.extend(value);
            }
            Ok(Identifiers(values))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            skip_map(map).map(|()| Identifiers::default())
        }
    });

    lenient!(IdentifierValueVisitor, IdentifierValue, "an identifier", {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(IdentifierValue::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            skip_seq(seq).map(|()| IdentifierValue::default())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut value = None;
            while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                if key.as_deref() == Some("value") {
                    value = map.next_value::<Text<'de>>()?.0;
                } else {
                    map.next_value::<Checked>()?;
                }
            }
            Ok(IdentifierValue(value))
        }
    });

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::{Value, json};

        /// What the index would take from the entry's `Value`.
        fn from_value(entry: &Value) -> (Option<&str>, Option<&str>, Option<&str>, Vec<&str>) {
            let resource = &entry["resource"];
            (
                entry["fullUrl"].as_str(),
                resource["resourceType"].as_str(),
                resource["id"].as_str(),
                resource["identifier"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["value"].as_str())
                    .collect(),
            )
        }

        #[test]
        fn the_keys_read_from_text_are_the_values() {
            let entries = [
                json!({"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "p",
                    "identifier": [{"system": "s", "value": "M1"}, {"value": 7}, "x", {"value": "M2", "other": [1, {"a": null}]}]}}),
                json!({"fullUrl": 5, "resource": {"resourceType": ["Patient"], "id": {"a": 1}, "identifier": {"value": "x"}}}),
                json!({"resource": "Patient"}),
                json!(["not", "an", "entry"]),
                json!(12.5),
                json!({"fullUrl": "u\"q\\u00e9", "resource": {"resourceType": "Claim", "id": "c\\n", "identifier": []}}),
                json!(null),
            ];
            for entry in &entries {
                let text = serde_json::to_string(entry).unwrap();
                let keys: Entry<'_> = serde_json::from_str(&text).unwrap();
                let got = (
                    keys.full_url.as_deref(),
                    keys.resource.kind.as_deref(),
                    keys.resource.id.as_deref(),
                    keys.resource
                        .identifiers
                        .iter()
                        .map(|c| c.as_ref())
                        .collect(),
                );
                assert_eq!(got, from_value(entry), "{text}");
            }
            // A repeated member counts as its last, as in a `Value`.
            let text = r#"{"fullUrl": "a", "fullUrl": "b", "resource": {"id": "x", "id": 3}}"#;
            let keys: Entry<'_> = serde_json::from_str(text).unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(keys.full_url.as_deref(), value["fullUrl"].as_str());
            assert_eq!(
                keys.resource.id.as_deref(),
                value["resource"]["id"].as_str()
            );
            // What is not JSON is refused either way, a lone surrogate anywhere included.
            for text in [
                r#"{"resource": tru}"#,
                r#"{"other": ["\ud800"], "resource": {}}"#,
                r#"{"resource": {"text": {"div": "\udc00"}}}"#,
            ] {
                assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
                assert!(serde_json::from_str::<Entry<'_>>(text).is_err(), "{text}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Every Claim of `bundle` read with a second thread or without, each entry with its read
    /// (as text: a read holds no float, so equal text is an equal read); reading stops where
    /// `each` fails, after `stop_after` Claims.
    fn read_all(
        bundle: &Value,
        beside: bool,
        stop_after: Option<usize>,
    ) -> (Vec<(usize, String)>, Option<String>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "hms-stored-bundle-{}-{}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let written = File::create(&path)
            .and_then(|mut f| f.write_all(&serde_json::to_vec(bundle).unwrap_or_default()));
        assert!(written.is_ok(), "{written:?}");
        let file = File::open(&path);
        let _ = std::fs::remove_file(&path);
        let Ok(file) = file else {
            panic!("{file:?}");
        };
        let Ok(Some(stored)) = StoredBundle::open(&file) else {
            panic!("a Bundle to read a Claim at a time");
        };
        let mut got = vec![];
        let ended = stored.read_claims_by(beside, None, &Connections::local(), |entry, read| {
            if stop_after == Some(got.len()) {
                return Err(io::Error::other("the sink is full"));
            }
            got.push((entry, format!("{read:?}")));
            Ok(())
        });
        (got, ended.err().map(|e| e.to_string()))
    }

    #[test]
    fn a_key_run_found_through_the_directory_is_the_one_a_scan_finds() {
        // Hashes from a fixed generator: spread over all 44 bits, with runs of equal hashes
        // (a key many entries share), the smallest and largest hash, and entries out of order.
        let mut next = hms_test_support::xorshift(0x9E37_79B9_7F4A_7C15);
        for count in [0usize, 1, 2, 3, 7, 100, 5_000] {
            let mut index = Keyed::default();
            let mut hashes = vec![0u64, u64::MAX];
            for entry in 0..count as u32 {
                let hash = match entry % 5 {
                    // A run: every fifth entry shares the hash of the one five before.
                    0 if entry > 0 => hashes[hashes.len() - 5],
                    _ => next(),
                };
                hashes.push(hash);
                index.push(keyed(hash, entry));
            }
            for extreme in [0u64, u64::MAX] {
                index.push(keyed(extreme, count as u32));
            }
            index.sort();
            let absent = (0..50).map(|_| next());
            for hash in hashes.iter().copied().chain(absent) {
                let top = hash >> ENTRY_BITS;
                let scanned: Vec<u64> = index
                    .keys
                    .iter()
                    .copied()
                    .filter(|&k| k >> ENTRY_BITS == top)
                    .collect();
                assert_eq!(
                    index.run(top),
                    scanned.as_slice(),
                    "{count} keys, hash {top:x}"
                );
            }
        }
    }

    #[test]
    fn claims_read_beside_on_a_second_thread_are_those_read_on_one() {
        let mut bundle = hms_test_support::synthetic_bundle(9);
        // A Claim whose patient is ambiguous fails to read, on either thread.
        if let Some(entries) = bundle["entry"].as_array_mut() {
            let twin = entries
                .iter()
                .find(|e| e["resource"]["id"] == "Patient-4")
                .cloned();
            if let Some(mut twin) = twin {
                twin["fullUrl"] = Value::from("urn:uuid:twin");
                twin["resource"]["gender"] = Value::from("unknown");
                entries.push(twin);
            }
        }
        let (one, ended) = read_all(&bundle, false, None);
        assert_eq!(ended, None);
        assert_eq!(one.len(), 9);
        assert!(one.windows(2).all(|w| w[0].0 < w[1].0), "in input order");
        assert!(one.iter().any(|(_, read)| read.starts_with("Err")));
        assert!(one.iter().any(|(_, read)| read.starts_with("Ok")));
        assert_eq!(read_all(&bundle, true, None), (one.clone(), None));
        // A sink that stops takes no Claim after it, whichever Claim it stops at (one this
        // thread read, or one the other did), and the other thread stops with it.
        for stop in [0, 1, 4, 5, 8] {
            for beside in [false, true] {
                let (got, ended) = read_all(&bundle, beside, Some(stop));
                assert_eq!(got, one[..stop].to_vec(), "stop {stop} beside {beside}");
                assert_eq!(
                    ended.as_deref(),
                    Some("taking the claims: the sink is full")
                );
            }
        }
    }

    #[test]
    fn a_key_keeps_its_entry_and_a_span_its_offset_and_length() {
        let key = keyed(u64::MAX, (MAX_BUNDLE_ENTRIES - 1) as u32);
        assert_eq!(
            key & ((1 << ENTRY_BITS) - 1),
            (MAX_BUNDLE_ENTRIES - 1) as u64
        );
        assert_eq!(key >> ENTRY_BITS, u64::MAX >> ENTRY_BITS);
        let span = Span::new(400_000_000_000, MAX_CLAIM_BYTES).map(|s| (s.offset(), s.len()));
        assert_eq!(span, Some((400_000_000_000, MAX_CLAIM_BYTES)));
        assert!(Span::new(1 << 40, 1).is_none());
        assert!(Span::new(0, 1 << LEN_BITS).is_none());
    }
}
