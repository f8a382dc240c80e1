//! Emitting X12: segments with chosen delimiters, and envelopes whose counts and control numbers
//! are computed, never typed by hand.
//!
//! [`SegmentWriter`] writes single segments; [`InterchangeWriter`] wraps them in ISA/GS/ST and
//! writes SE, GE and IEA with the right counts. Values that contain a delimiter are refused, and
//! trailing empty elements and components are dropped, as the standard requires.

use crate::delimiters::Delimiters;

/// A value that cannot be written as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// A value contains one of the interchange's delimiters.
    #[error("{segment}{element:02}: value contains the delimiter {:?}", char::from(*delimiter))]
    DelimiterInValue {
        /// Segment id.
        segment: String,
        /// Element position, 1-based.
        element: usize,
        /// The offending delimiter.
        delimiter: u8,
    },
    /// A segment id that is not 2-3 upper-case letters and digits.
    #[error("invalid segment id {0:?}")]
    BadSegmentId(String),
    /// Envelope calls out of order (a transaction set outside a group, say).
    #[error("{0}")]
    Envelope(&'static str),
    /// What was written fails our own validator: it is not handed out. Names the first error
    /// finding (segment, element, what is wrong) and how many there are.
    #[error("what was written fails validation ({count} errors), first: {first}")]
    Invalid {
        /// The first error finding.
        first: String,
        /// How many error findings.
        count: usize,
    },
    /// The compiled guides could not be loaded to validate what was written.
    #[error("the guides to validate against could not be loaded")]
    Guides(#[source] &'static crate::spec::SpecError),
    /// An ISA field longer than its fixed width.
    #[error("ISA{element:02} {value:?} is longer than {width} characters")]
    IsaWidth {
        /// Element position.
        element: usize,
        /// The value.
        value: String,
        /// The fixed width.
        width: usize,
    },
}

/// `x12` when our validator finds no error in it against its guide, else the first error and
/// how many there are: the last step of writing anything that leaves.
pub fn validated(x12: Vec<u8>) -> Result<Vec<u8>, WriteError> {
    let catalog = crate::spec::Catalog::embedded().map_err(WriteError::Guides)?;
    let report = crate::validate::validate_bytes(&x12, catalog);
    let mut errors = report.errors();
    if let Some(first) = errors.next() {
        return Err(WriteError::Invalid {
            first: first.to_string(),
            count: 1 + errors.count(),
        });
    }
    Ok(x12)
}

/// Checks X12 that was written to a file or stream too large to hold, as [`validated`] checks
/// bytes: read once, segment by segment, in memory bounded by the longest segment.
pub fn check_reader(x12: impl std::io::Read) -> Result<(), WriteError> {
    let catalog = crate::spec::Catalog::embedded().map_err(WriteError::Guides)?;
    let report =
        crate::validate::validate_reader(x12, catalog, crate::validate::Options::default())
            .map_err(|e| WriteError::Invalid {
                first: e.to_string(),
                count: 1,
            })?;
    let mut errors = report.errors();
    if let Some(first) = errors.next() {
        return Err(WriteError::Invalid {
            first: first.to_string(),
            count: 1 + errors.count() + report.suppressed,
        });
    }
    Ok(())
}

/// `items` without its trailing empty ones: what a segment or composite ends with (X12 drops
/// trailing empty elements and components).
fn without_trailing<T>(items: &[T], empty: impl Fn(&T) -> bool) -> &[T] {
    let used = items.iter().rposition(|v| !empty(v)).map_or(0, |i| i + 1);
    items.get(..used).unwrap_or(items)
}

/// One element of a segment to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<'a> {
    /// A simple value.
    Simple(&'a str),
    /// Components of a composite.
    Composite(Vec<&'a str>),
    /// Repetitions, each a list of components (one component for simple elements).
    Repeated(Vec<Vec<&'a str>>),
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(v: &'a str) -> Self {
        Field::Simple(v)
    }
}

impl<'a> From<&'a String> for Field<'a> {
    fn from(v: &'a String) -> Self {
        Field::Simple(v.as_str())
    }
}

/// Writes segments with one set of delimiters.
#[derive(Debug, Clone)]
pub struct SegmentWriter {
    delimiters: Delimiters,
    newline: bool,
    out: Vec<u8>,
}

impl SegmentWriter {
    /// A writer; `newline` adds a line break after each terminator (readable, and tolerated by
    /// every reader, ours included).
    pub fn new(delimiters: Delimiters, newline: bool) -> Self {
        Self {
            delimiters,
            newline,
            out: Vec::with_capacity(4096),
        }
    }

    /// The delimiters in use.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// Hands the bytes written so far to `sink` and forgets them: a writer of a batch too
    /// large to hold passes its output on as it goes.
    pub fn drain_to(&mut self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        sink.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Refuses a value holding one of the interchange's delimiters (it would split or end
    /// the segment it is written in).
    fn check(&self, segment: &str, element: usize, value: &str) -> Result<(), WriteError> {
        let d = self.delimiters;
        let repetition = if d.has_repetition() {
            d.repetition
        } else {
            d.element
        };
        let delimiter =
            |b: &u8| *b == d.element || *b == d.component || *b == d.segment || *b == repetition;
        match value.as_bytes().iter().find(|b| delimiter(b)) {
            Some(&delimiter) => Err(WriteError::DelimiterInValue {
                segment: segment.to_string(),
                element,
                delimiter,
            }),
            None => Ok(()),
        }
    }

    /// Checks a segment id: two or three upper-case letters and digits, a letter first.
    fn check_id(id: &str) -> Result<(), WriteError> {
        let id_ok = (2..=3).contains(&id.len())
            && id.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if id_ok {
            Ok(())
        } else {
            Err(WriteError::BadSegmentId(id.to_string()))
        }
    }

    /// Ends the segment being written.
    fn terminate(&mut self) {
        self.out.push(self.delimiters.segment);
        if self.newline {
            self.out.push(b'\n');
        }
    }

    /// Writes one segment; trailing empty elements (and trailing empty components) are dropped.
    pub fn segment<'a>(&mut self, id: &str, fields: &[Field<'a>]) -> Result<(), WriteError> {
        Self::check_id(id)?;
        let d = self.delimiters;
        let is_empty = |f: &Field<'_>| match f {
            Field::Simple(v) => v.is_empty(),
            Field::Composite(c) => c.iter().all(|v| v.is_empty()),
            Field::Repeated(r) => r.iter().all(|c| c.iter().all(|v| v.is_empty())),
        };
        let fields = without_trailing(fields, is_empty);
        for (i, f) in fields.iter().enumerate() {
            match f {
                Field::Simple(v) => self.check(id, i + 1, v)?,
                Field::Composite(c) => c.iter().try_for_each(|v| self.check(id, i + 1, v))?,
                Field::Repeated(r) => r
                    .iter()
                    .flatten()
                    .try_for_each(|v| self.check(id, i + 1, v))?,
            }
        }
        self.out.extend_from_slice(id.as_bytes());
        for f in fields {
            self.out.push(d.element);
            match f {
                Field::Simple(v) => self.out.extend_from_slice(v.as_bytes()),
                Field::Composite(c) => self.components(c),
                Field::Repeated(reps) => {
                    for (k, c) in reps.iter().enumerate() {
                        if k > 0 {
                            self.out.push(d.repetition);
                        }
                        self.components(c);
                    }
                }
            }
        }
        self.terminate();
        Ok(())
    }

    fn components(&mut self, components: &[&str]) {
        let components = without_trailing(components, |v| v.is_empty());
        for (j, v) in components.iter().enumerate() {
            if j > 0 {
                self.out.push(self.delimiters.component);
            }
            self.out.extend_from_slice(v.as_bytes());
        }
    }

    /// Writes a segment whose elements are all simple values: [`Self::segment`] of
    /// [`Field::Simple`]s, without gathering them (most segments written are these).
    pub fn simple(&mut self, id: &str, values: &[&str]) -> Result<(), WriteError> {
        Self::check_id(id)?;
        let values = without_trailing(values, |v| v.is_empty());
        for (i, v) in values.iter().enumerate() {
            self.check(id, i + 1, v)?;
        }
        self.out.extend_from_slice(id.as_bytes());
        for v in values {
            self.out.push(self.delimiters.element);
            self.out.extend_from_slice(v.as_bytes());
        }
        self.terminate();
        Ok(())
    }

    /// Writes raw bytes as they are (used to re-emit a segment read from input unchanged).
    pub fn raw_segment(&mut self, raw: &[u8]) {
        self.out.extend_from_slice(raw);
        self.out.push(self.delimiters.segment);
        if self.newline {
            self.out.push(b'\n');
        }
    }
}

/// Who sends and receives an interchange and how it is marked (ISA05-ISA08, ISA14, ISA15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterchangeHeader {
    /// ISA05.
    pub sender_qualifier: String,
    /// ISA06 (padded to 15).
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08 (padded to 15).
    pub receiver_id: String,
    /// ISA09, `YYMMDD`.
    pub date: String,
    /// ISA10, `HHMM`.
    pub time: String,
    /// ISA13: the interchange control number.
    pub control_number: u32,
    /// ISA14: whether a TA1 is requested.
    pub ack_requested: bool,
    /// ISA15: `P` production or `T` test.
    pub usage: char,
}

/// Writes one interchange, computing every count and trailer.
#[derive(Debug)]
pub struct InterchangeWriter {
    writer: SegmentWriter,
    control: String,
    groups: usize,
    group: Option<(String, usize)>,
    transaction: Option<(String, usize)>,
}

fn pad(value: &str, width: usize, element: usize) -> Result<String, WriteError> {
    if value.len() > width {
        return Err(WriteError::IsaWidth {
            element,
            value: value.to_string(),
            width,
        });
    }
    Ok(format!("{value:<width$}"))
}

impl InterchangeWriter {
    /// Starts an interchange: writes the ISA with fixed widths.
    pub fn new(
        header: &InterchangeHeader,
        delimiters: Delimiters,
        newline: bool,
    ) -> Result<Self, WriteError> {
        let mut writer = SegmentWriter::new(delimiters, newline);
        let control = format!("{:09}", header.control_number % 1_000_000_000);
        let rep = [delimiters.repetition];
        let comp = [delimiters.component];
        let rep = std::str::from_utf8(&rep)
            .map_err(|_| WriteError::Envelope("repetition separator must be ASCII"))?;
        let comp = std::str::from_utf8(&comp)
            .map_err(|_| WriteError::Envelope("component separator must be ASCII"))?;
        let usage = header.usage.to_string();
        let fields = [
            "00".to_string(),
            " ".repeat(10),
            "00".to_string(),
            " ".repeat(10),
            pad(&header.sender_qualifier, 2, 5)?,
            pad(&header.sender_id, 15, 6)?,
            pad(&header.receiver_qualifier, 2, 7)?,
            pad(&header.receiver_id, 15, 8)?,
            pad(&header.date, 6, 9)?,
            pad(&header.time, 4, 10)?,
            rep.to_string(),
            "00501".to_string(),
            control.clone(),
            if header.ack_requested { "1" } else { "0" }.to_string(),
            usage,
        ];
        // ISA16 is the component separator itself, so it is written raw, not as a value.
        let mut isa = b"ISA".to_vec();
        for (i, f) in fields.iter().enumerate() {
            if f.bytes()
                .any(|b| b == delimiters.element || b == delimiters.segment)
            {
                return Err(WriteError::DelimiterInValue {
                    segment: "ISA".into(),
                    element: i + 1,
                    delimiter: delimiters.element,
                });
            }
            isa.push(delimiters.element);
            isa.extend_from_slice(f.as_bytes());
        }
        isa.push(delimiters.element);
        isa.extend_from_slice(comp.as_bytes());
        writer.raw_segment(&isa);
        Ok(Self {
            writer,
            control,
            groups: 0,
            group: None,
            transaction: None,
        })
    }

    /// Opens a functional group (GS). `version` is GS08.
    #[allow(clippy::too_many_arguments)]
    pub fn begin_group(
        &mut self,
        functional_id: &str,
        sender: &str,
        receiver: &str,
        date: &str,
        time: &str,
        control: u32,
        version: &str,
    ) -> Result<(), WriteError> {
        if self.group.is_some() {
            return Err(WriteError::Envelope("a functional group is already open"));
        }
        let c = control.to_string();
        self.writer.simple(
            "GS",
            &[
                functional_id,
                sender,
                receiver,
                date,
                time,
                &c,
                "X",
                version,
            ],
        )?;
        self.group = Some((c, 0));
        self.groups += 1;
        Ok(())
    }

    /// Opens a transaction set (ST); `version` is ST03.
    pub fn begin_transaction(
        &mut self,
        id: &str,
        control: &str,
        version: &str,
    ) -> Result<(), WriteError> {
        let Some((_, count)) = self.group.as_mut() else {
            return Err(WriteError::Envelope(
                "a transaction set needs an open functional group",
            ));
        };
        if self.transaction.is_some() {
            return Err(WriteError::Envelope("a transaction set is already open"));
        }
        *count += 1;
        self.writer.simple("ST", &[id, control, version])?;
        self.transaction = Some((control.to_string(), 1));
        Ok(())
    }

    /// Writes one segment inside the open transaction set.
    pub fn segment(&mut self, id: &str, fields: &[Field<'_>]) -> Result<(), WriteError> {
        let Some((_, count)) = self.transaction.as_mut() else {
            return Err(WriteError::Envelope("segments go inside a transaction set"));
        };
        *count += 1;
        self.writer.segment(id, fields)
    }

    /// Writes one segment of simple values inside the open transaction set.
    pub fn simple(&mut self, id: &str, values: &[&str]) -> Result<(), WriteError> {
        let Some((_, count)) = self.transaction.as_mut() else {
            return Err(WriteError::Envelope("segments go inside a transaction set"));
        };
        *count += 1;
        self.writer.simple(id, values)
    }

    /// Closes the transaction set with an SE that counts its segments.
    pub fn end_transaction(&mut self) -> Result<(), WriteError> {
        let Some((control, count)) = self.transaction.take() else {
            return Err(WriteError::Envelope("no transaction set is open"));
        };
        self.writer
            .simple("SE", &[&(count + 1).to_string(), &control])
    }

    /// Closes the functional group with a GE that counts its transaction sets.
    pub fn end_group(&mut self) -> Result<(), WriteError> {
        if self.transaction.is_some() {
            return Err(WriteError::Envelope(
                "close the transaction set before its group",
            ));
        }
        let Some((control, count)) = self.group.take() else {
            return Err(WriteError::Envelope("no functional group is open"));
        };
        self.writer.simple("GE", &[&count.to_string(), &control])
    }

    /// Writes a segment directly in the interchange (outside any group), such as TA1.
    pub fn interchange_segment(&mut self, id: &str, values: &[&str]) -> Result<(), WriteError> {
        if self.group.is_some() {
            return Err(WriteError::Envelope(
                "interchange-level segments go outside functional groups",
            ));
        }
        self.writer.simple(id, values)
    }

    /// Hands the segments written so far to `sink`; the counts and trailers still come out
    /// right, and [`Self::finish_unvalidated`] returns only what follows. Whoever drains
    /// checks the whole output with [`check_reader`] before it leaves.
    pub fn drain_to(&mut self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        self.writer.drain_to(sink)
    }

    /// Closes the interchange with its IEA and returns the bytes.
    ///
    /// Nothing leaves unchecked: the interchange is validated against its guide (lengths,
    /// characters, codes, dates, loops and counts), and one with an error finding is refused.
    pub fn finish(self) -> Result<Vec<u8>, WriteError> {
        validated(self.finish_unvalidated()?)
    }

    /// Closes the interchange without validating it: only for a reproduction of X12 we read
    /// (the lossless round trip, which must give back what came in, errors and all) and for
    /// tests of the writer itself.
    pub fn finish_unvalidated(mut self) -> Result<Vec<u8>, WriteError> {
        if self.group.is_some() {
            return Err(WriteError::Envelope(
                "close the functional group before the interchange",
            ));
        }
        let groups = self.groups.to_string();
        self.writer.simple("IEA", &[&groups, &self.control])?;
        Ok(self.writer.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Tokenizer;

    fn header() -> InterchangeHeader {
        InterchangeHeader {
            sender_qualifier: "ZZ".into(),
            sender_id: "HMSACH".into(),
            receiver_qualifier: "ZZ".into(),
            receiver_id: "PAYER".into(),
            date: "261125".into(),
            time: "1200".into(),
            control_number: 42,
            ack_requested: false,
            usage: 'T',
        }
    }

    /// An interchange of one 835 whose only segment is a TRN with `trace` in TRN02, closed
    /// but for its IEA.
    fn one_835_trn(trace: &str) -> InterchangeWriter {
        let mut w = InterchangeWriter::new(&header(), Delimiters::default(), false).unwrap();
        w.begin_group("HP", "S", "R", "20261125", "1200", 7, "005010X221A1")
            .unwrap();
        w.begin_transaction("835", "0001", "005010X221A1").unwrap();
        w.simple("TRN", &["1", trace, "1512345678"]).unwrap();
        w.end_transaction().unwrap();
        w.end_group().unwrap();
        w
    }

    #[test]
    fn finish_refuses_what_our_validator_finds_wrong_and_names_the_first_error() {
        // A 100,000-character value with a BEL in it: the writer takes it (no delimiter), the
        // validator does not.
        let long = format!("{}\u{7}", "A".repeat(100_000));
        match one_835_trn(&long).finish() {
            Err(WriteError::Invalid { first, count }) => {
                assert!(first.contains("GS02"), "{first}");
                assert!(count > 1, "{count}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn envelope_counts_and_controls() {
        let bytes = one_835_trn("12345").finish_unvalidated().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("ISA*00*          *00*          *ZZ*HMSACH         *ZZ*PAYER          *261125*1200*^*00501*000000042*0*T*:~"));
        assert!(
            text.ends_with(
                "ST*835*0001*005010X221A1~TRN*1*12345*1512345678~SE*3*0001~GE*1*7~IEA*1*000000042~"
            ),
            "{text}"
        );
        let first = Tokenizer::new(&bytes).next().unwrap().unwrap();
        assert_eq!(first.raw().len(), 105);
    }

    #[test]
    fn drops_trailing_empties_and_refuses_delimiters() {
        let mut w = SegmentWriter::new(Delimiters::default(), false);
        w.segment(
            "SV1",
            &[
                Field::Composite(vec!["HC", "99213", "", ""]),
                "100".into(),
                "".into(),
                "".into(),
            ],
        )
        .unwrap();
        assert_eq!(w.as_bytes(), b"SV1*HC:99213*100~");
        assert_eq!(
            w.simple("NM1", &["IL", "1", "O*BRIEN"]),
            Err(WriteError::DelimiterInValue {
                segment: "NM1".into(),
                element: 3,
                delimiter: b'*'
            })
        );
        assert!(matches!(
            w.simple("nm1", &[]),
            Err(WriteError::BadSegmentId(_))
        ));
    }

    #[test]
    fn simple_writes_what_segment_writes_of_simple_fields() {
        let d = Delimiters::default();
        let values = ["", "A", "O*B", "X:Y", "R^S", "T~U", "1.5", "  ", "ÉCOLE"];
        for a in values {
            for b in values {
                for c in ["", "Z"] {
                    let row = [a, b, c];
                    let mut simple = SegmentWriter::new(d, true);
                    let mut whole = SegmentWriter::new(d, true);
                    let fields: Vec<Field<'_>> = row.iter().map(|v| Field::Simple(v)).collect();
                    let written = (simple.simple("REF", &row), whole.segment("REF", &fields));
                    assert_eq!(written.0, written.1, "{row:?}");
                    assert_eq!(simple.as_bytes(), whole.as_bytes(), "{row:?}");
                    let refused = row.iter().any(|v| v.contains(['*', ':', '^', '~']));
                    assert_eq!(written.0.is_err(), refused, "{row:?}");
                }
            }
        }
    }

    #[test]
    fn envelope_misuse_is_an_error() {
        let mut w = InterchangeWriter::new(&header(), Delimiters::default(), false).unwrap();
        assert!(w.begin_transaction("835", "1", "X").is_err());
        assert!(w.simple("TRN", &["1"]).is_err());
        let long = InterchangeHeader {
            sender_id: "X".repeat(16),
            ..header()
        };
        assert!(matches!(
            InterchangeWriter::new(&long, Delimiters::default(), false),
            Err(WriteError::IsaWidth { element: 6, .. })
        ));
    }
}
