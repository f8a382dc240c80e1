//! The 837 as we write it, professional and institutional alike up to the claim loop: the
//! envelope, the submitter and receiver, the billing provider (2000A), the subscriber (2000B) and
//! the patient (2000C), and batches of claims sharing them.

use hms_x12::writer::{Field, InterchangeWriter};
use rust_decimal::Decimal;

use crate::claims::model::{ClaimAdjustment, OtherCoverage, Parties};
use crate::partner::{Envelope, TradingPartner};
use crate::party::{Address, Name, Provider};
use crate::write::{Opened, TranslateError, amount, nm1, open, write_error, yes_no};

/// The writer, with the claim field each segment comes from for its errors.
pub(crate) struct Out {
    w: InterchangeWriter,
    /// The last HL number written.
    hl: u32,
    /// Prepended to every field in errors: the claim's index in a batch.
    prefix: String,
}

impl Out {
    /// CLM (loop 2300), as both kinds write it: the claim's number and total charge, where or
    /// what was billed (CLM05: the place of service or type of bill, its code qualifier, the
    /// frequency), then the signature, assignment, benefits and release codes (CLM06-09), and
    /// what the services are related to (CLM11: causes, then an accident's state), when anything.
    pub(super) fn clm(
        &mut self,
        number: &str,
        total: Decimal,
        billed: [&str; 3],
        codes: [&str; 4],
        related: &[&str],
    ) -> Result<(), TranslateError> {
        let total = amount(total);
        let [signature, assignment, benefits, release] = codes;
        let mut fields = vec![
            Field::Simple(number),
            Field::Simple(&total),
            Field::Simple(""),
            Field::Simple(""),
            Field::Composite(billed.to_vec()),
            Field::Simple(signature),
            Field::Simple(assignment),
            Field::Simple(benefits),
            Field::Simple(release),
        ];
        if !related.is_empty() {
            // CLM10 (patient signature source) stays empty; CLM11 the related causes.
            fields.push(Field::Simple(""));
            fields.push(Field::Composite(related.to_vec()));
        }
        self.segment("/claim", "CLM", &fields)
    }
}

impl Out {
    pub(crate) fn simple(
        &mut self,
        field: &str,
        id: &str,
        values: &[&str],
    ) -> Result<(), TranslateError> {
        self.w
            .simple(id, values)
            .map_err(|e| write_error(&format!("{}{field}", self.prefix), e))
    }

    /// A [`TranslateError::Missing`] for `field` of the claim being written.
    pub(crate) fn missing(&self, field: &str, message: &str) -> TranslateError {
        TranslateError::Missing {
            field: format!("{}{field}", self.prefix),
            message: message.into(),
        }
    }

    pub(crate) fn segment(
        &mut self,
        field: &str,
        id: &str,
        fields: &[Field<'_>],
    ) -> Result<(), TranslateError> {
        self.w
            .segment(id, fields)
            .map_err(|e| write_error(&format!("{}{field}", self.prefix), e))
    }

    /// NM1 for a name, with an optional id qualifier and id (NM108/NM109).
    pub(super) fn name(
        &mut self,
        field: &str,
        entity: &str,
        name: &Name,
        id: Option<(&str, &str)>,
    ) -> Result<(), TranslateError> {
        let (qualifier, code) = id.unwrap_or(("", ""));
        self.simple(field, "NM1", &nm1(entity, name, qualifier, code))
    }

    pub(crate) fn provider_name(
        &mut self,
        field: &str,
        entity: &str,
        provider: &Provider,
    ) -> Result<(), TranslateError> {
        self.name(
            field,
            entity,
            &provider.name,
            provider.npi.as_ref().map(|npi| ("XX", npi.as_str())),
        )
    }

    /// CAS segments: one per group, up to six reasons each, in the order given.
    pub(super) fn adjustments(
        &mut self,
        field: &str,
        adjustments: &[ClaimAdjustment],
    ) -> Result<(), TranslateError> {
        let mut groups: Vec<&str> = vec![];
        for a in adjustments {
            if !groups.contains(&a.group.as_str()) {
                groups.push(&a.group);
            }
        }
        for group in groups {
            let of_group: Vec<&ClaimAdjustment> =
                adjustments.iter().filter(|a| a.group == group).collect();
            for chunk in of_group.chunks(6) {
                let mut values = vec![group.to_string()];
                for a in chunk {
                    values.push(a.reason.clone());
                    values.push(amount(a.amount));
                    values.push(a.quantity.map(amount).unwrap_or_default());
                }
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                self.simple(field, "CAS", &refs)?;
            }
        }
        Ok(())
    }

    pub(super) fn address(&mut self, field: &str, address: &Address) -> Result<(), TranslateError> {
        let lines: Vec<&str> = address.lines.iter().map(String::as_str).take(2).collect();
        if lines.is_empty() {
            return Err(self.missing(
                &format!("{field}/lines"),
                "an address needs a street line (N301)",
            ));
        }
        self.simple(field, "N3", &lines)?;
        let postal: String = address.postal_code.chars().filter(|c| *c != '-').collect();
        self.simple(field, "N4", &[&address.city, &address.state, &postal])
    }
}

/// An ICD-10-CM code as the 837 carries it: upper case, without the dot.
pub(crate) fn diagnosis_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Writes `claims` as one 837 batch: one interchange, group and transaction set, claims of the
/// same billing provider (and pay-to address) in a row sharing one 2000A loop, each claim with
/// its own subscriber (2000B) and patient (2000C) loops. `claim_loop` writes loop 2300 and
/// below. Every claim must name the same submitter and receiver: the batch has one of each.
pub(crate) fn batch<C>(
    claims: &[C],
    parties: impl Fn(&C) -> Parties<'_>,
    mut claim_loop: impl FnMut(&mut Out, &C) -> Result<(), TranslateError>,
    partner: &TradingPartner,
    envelope: &Envelope,
    version: &str,
) -> Result<Vec<u8>, TranslateError> {
    let Some(first) = claims.first() else {
        return Err(TranslateError::Missing {
            field: String::new(),
            message: "a batch needs at least one claim".into(),
        });
    };
    let size = BatchSize::of(claims.len());
    let mut writer = BatchWriter::new(&parties(first), size, partner, envelope, version)?;
    for claim in claims {
        writer.claim(&parties(claim), |out| claim_loop(out, claim))?;
    }
    writer.finish()
}

/// How many claims an 837 batch holds, as far as its header tells: BHT03 names a batch of one
/// claim by that claim's control number and a batch of several by its interchange. A batch
/// written as it is read is opened once its second claim (or the input's end) says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    /// One claim.
    One,
    /// Two claims or more.
    Several,
}

impl BatchSize {
    /// The size of a batch of `count` claims (at least one).
    pub fn of(count: usize) -> Self {
        if count > 1 { Self::Several } else { Self::One }
    }

    /// Whether `count` claims make a batch of this size.
    fn holds(self, count: usize) -> bool {
        match self {
            Self::One => count == 1,
            Self::Several => count > 1,
        }
    }
}

/// An 837 batch written one claim at a time, so a batch of any size passes through with one
/// claim in memory: the loops above a claim are shared as [`batch`] shares them, and the
/// segments written can be drained to a file as they come.
pub(crate) struct BatchWriter {
    out: Out,
    /// The claims the batch was opened for (BHT03 names a batch of several by its
    /// interchange).
    size: BatchSize,
    /// Claims written.
    written: usize,
    /// What every claim must share with the first: submitter, receiver, BHT06.
    submitter: crate::party::Submitter,
    receiver: crate::party::Receiver,
    encounter: bool,
    /// The open 2000A: its provider, pay-to address and HL number.
    billing: Option<(Provider, Option<Address>, u32)>,
}

impl BatchWriter {
    /// Opens a batch of `size`, the first claim with `head`'s parties.
    pub(crate) fn new(
        head: &Parties<'_>,
        size: BatchSize,
        partner: &TradingPartner,
        envelope: &Envelope,
        version: &str,
    ) -> Result<Self, TranslateError> {
        // BHT03: the originator's reference. One claim: its control number; a batch: the
        // interchange control number, which identifies the batch to the receiver.
        let reference = match size {
            BatchSize::One => head.reference.to_string(),
            BatchSize::Several => format!("{:09}", envelope.control.interchange),
        };
        Ok(Self {
            out: Out::header(head, partner, envelope, version, &reference)?,
            size,
            written: 0,
            submitter: head.submitter.clone(),
            receiver: head.receiver.clone(),
            encounter: head.encounter,
            billing: None,
        })
    }

    /// Writes the next claim: its billing provider's loop when it differs from the one
    /// open, its subscriber and patient, then `claim_loop` (2300 and below).
    pub(crate) fn claim(
        &mut self,
        p: &Parties<'_>,
        claim_loop: impl FnOnce(&mut Out) -> Result<(), TranslateError>,
    ) -> Result<(), TranslateError> {
        let i = self.written;
        self.written += 1;
        if self.size == BatchSize::Several {
            self.out.prefix = format!("/{i}");
        }
        if p.encounter != self.encounter {
            return Err(TranslateError::Missing {
                field: format!("/{i}/claim/encounter"),
                message:
                    "every claim of a batch must be an encounter, or none (BHT06 covers the batch)"
                        .into(),
            });
        }
        if *p.submitter != self.submitter || *p.receiver != self.receiver {
            return Err(TranslateError::Missing {
                field: format!("/{i}/submitter"),
                message: "every claim of a batch must name the submitter and receiver of the first claim (one 1000A/1000B per batch)".into(),
            });
        }
        let parent = match &self.billing {
            Some((provider, pay_to, hl))
                if provider == p.billing_provider && pay_to.as_ref() == p.pay_to_address =>
            {
                *hl
            }
            _ => {
                let hl = self.out.billing_provider(p)?;
                self.billing = Some((p.billing_provider.clone(), p.pay_to_address.cloned(), hl));
                hl
            }
        };
        self.out.subscriber_and_patient(p, parent)?;
        claim_loop(&mut self.out)
    }

    /// Claims written so far.
    pub(crate) fn written(&self) -> usize {
        self.written
    }

    /// Hands what is written so far to `sink`.
    pub(crate) fn drain_to(&mut self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        self.out.w.drain_to(sink)
    }

    /// Closes the batch: the bytes not yet drained. A batch opened for one claim and given
    /// several, or for several and given one, is refused (its BHT03 would be wrong).
    pub(crate) fn finish(self) -> Result<Vec<u8>, TranslateError> {
        if !self.size.holds(self.written) {
            let opened = match self.size {
                BatchSize::One => "one claim",
                BatchSize::Several => "several claims",
            };
            return Err(TranslateError::Missing {
                field: String::new(),
                message: format!(
                    "the batch was opened for {opened} and given {}",
                    self.written
                ),
            });
        }
        self.out.finish()
    }
}

impl Out {
    /// Opens the interchange, group and transaction set and writes the BHT, submitter (1000A)
    /// and receiver (1000B).
    pub(super) fn header(
        parties: &Parties<'_>,
        partner: &TradingPartner,
        envelope: &Envelope,
        version: &str,
        reference: &str,
    ) -> Result<Self, TranslateError> {
        let Opened { w, date, time } = open(partner, envelope, "HC", "837", version)
            .map_err(|e| write_error("/partner", e))?;
        let mut out = Out {
            w,
            hl: 0,
            prefix: String::new(),
        };
        let purpose = if parties.encounter { "RP" } else { "CH" };
        out.simple("", "BHT", &["0019", "00", reference, &date, &time, purpose])?;

        // 1000A submitter, 1000B receiver.
        let s = &parties.submitter;
        out.simple(
            "/submitter",
            "NM1",
            &["41", "2", &s.name, "", "", "", "", "46", &s.id],
        )?;
        let mut per = vec!["IC", s.contact.name.as_str()];
        if let Some(phone) = &s.contact.phone {
            per.extend(["TE", phone]);
        }
        if let Some(email) = &s.contact.email {
            per.extend(["EM", email]);
        }
        if per.len() == 2 {
            return Err(TranslateError::Missing {
                field: "/submitter/contact".into(),
                message: "a phone number or an email address is required (PER03/PER04)".into(),
            });
        }
        out.simple("/submitter/contact", "PER", &per)?;
        let r = parties.receiver;
        out.simple(
            "/receiver",
            "NM1",
            &["40", "2", &r.name, "", "", "", "", "46", &r.id],
        )?;
        Ok(out)
    }

    /// The next HL number (HL01).
    pub(super) fn next_hl(&mut self) -> u32 {
        self.hl += 1;
        self.hl
    }

    /// Loop 2000A with 2010AA and 2010AB: the billing provider and pay-to address. Returns the
    /// loop's HL number, the parent of the subscribers below it.
    pub(super) fn billing_provider(
        &mut self,
        parties: &Parties<'_>,
    ) -> Result<u32, TranslateError> {
        let hl = self.next_hl();
        self.simple("", "HL", &[&hl.to_string(), "", "20", "1"])?;
        let billing = parties.billing_provider;
        if let Some(taxonomy) = &billing.taxonomy {
            self.simple("/billingProvider/taxonomy", "PRV", &["BI", "PXC", taxonomy])?;
        }
        self.provider_name("/billingProvider", "85", billing)?;
        let Some(address) = &billing.address else {
            return Err(self.missing(
                "/billingProvider/address",
                "the billing provider's street address is required (loop 2010AA N3/N4)",
            ));
        };
        self.address("/billingProvider/address", address)?;
        let Some(tax_id) = &billing.tax_id else {
            return Err(self.missing(
                "/billingProvider/taxId",
                "the billing provider's tax id is required (loop 2010AA REF*EI or REF*SY)",
            ));
        };
        let tax_qualifier = match (billing.tax_id_type, &billing.name) {
            (Some(kind), _) => kind.code(),
            (None, Name::Person { .. }) => "SY",
            (None, Name::Organization { .. }) => "EI",
        };
        self.simple(
            "/billingProvider/taxId",
            "REF",
            &[tax_qualifier, tax_id.as_str()],
        )?;
        if let Some(pay_to) = parties.pay_to_address {
            self.simple("/payToAddress", "NM1", &["87", "2"])?;
            self.address("/payToAddress", pay_to)?;
        }
        Ok(hl)
    }

    /// Loops 2000B with 2010BA/BB (subscriber and payer) and, when the patient is not the
    /// subscriber, 2000C with 2010CA, under billing provider HL `parent`.
    pub(super) fn subscriber_and_patient(
        &mut self,
        parties: &Parties<'_>,
        parent: u32,
    ) -> Result<(), TranslateError> {
        let sub = parties.subscriber;
        let has_patient = parties.patient.is_some();
        let hl = self.next_hl();
        self.simple(
            "",
            "HL",
            &[
                &hl.to_string(),
                &parent.to_string(),
                "22",
                if has_patient { "1" } else { "0" },
            ],
        )?;
        let group = sub.group_number.as_deref().unwrap_or("");
        let relationship = if has_patient { "" } else { "18" };
        self.simple(
            "/subscriber",
            "SBR",
            &[
                sub.responsibility.code(),
                relationship,
                group,
                "",
                "",
                "",
                "",
                "",
                &sub.claim_filing_indicator,
            ],
        )?;
        self.name(
            "/subscriber",
            "IL",
            &sub.name,
            Some(("MI", sub.member_id.as_str())),
        )?;
        if !has_patient {
            // The subscriber is the patient: address and demographics are required.
            let (Some(address), Some(birth), Some(gender)) =
                (&sub.address, sub.birth_date, sub.gender)
            else {
                return Err(self.missing(
                    "/subscriber",
                    "address, birthDate and gender are required when the subscriber is the patient (loop 2010BA N3/N4/DMG)",
                ));
            };
            self.address("/subscriber/address", address)?;
            let birth = crate::write::ccyymmdd(birth);
            self.simple("/subscriber", "DMG", &["D8", &birth, gender.code()])?;
        } else if let Some(address) = &sub.address {
            self.address("/subscriber/address", address)?;
        }
        let payer = parties.payer;
        self.simple("/payer", "NM1", &payer.nm1("PR"))?;

        // 2000C patient.
        if let Some(patient) = parties.patient {
            let child = self.next_hl();
            self.simple("", "HL", &[&child.to_string(), &hl.to_string(), "23", "0"])?;
            self.simple("/patient/relationship", "PAT", &[&patient.relationship])?;
            self.name("/patient", "QC", &patient.name, None)?;
            self.address("/patient/address", &patient.address)?;
            let birth = crate::write::ccyymmdd(patient.birth_date);
            self.simple("/patient", "DMG", &["D8", &birth, patient.gender.code()])?;
        }
        Ok(())
    }

    /// Loops 2320, 2330A and 2330B: each other coverage and what it paid.
    pub(crate) fn other_coverage(
        &mut self,
        others: &[OtherCoverage],
        benefits_assigned: bool,
        release_of_information: &str,
    ) -> Result<(), TranslateError> {
        for (k, other) in others.iter().enumerate() {
            let at = format!("/otherCoverage/{k}");
            self.simple(
                &at,
                "SBR",
                &[
                    other.responsibility.code(),
                    &other.relationship,
                    other.group_number.as_deref().unwrap_or(""),
                    "",
                    "",
                    "",
                    "",
                    "",
                    &other.claim_filing_indicator,
                ],
            )?;
            self.adjustments(&format!("{at}/adjustments"), &other.adjustments)?;
            if let Some(paid) = other.paid {
                self.simple(&format!("{at}/paid"), "AMT", &["D", &amount(paid)])?;
            }
            let signature = yes_no(other.benefits_assigned.unwrap_or(benefits_assigned));
            let release = other
                .release_of_information
                .as_deref()
                .unwrap_or(release_of_information);
            self.simple(&at, "OI", &["", "", signature, "", "", release])?;
            self.name(
                &format!("{at}/subscriberName"),
                "IL",
                &other.subscriber_name,
                Some(("MI", other.member_id.as_str())),
            )?;
            self.simple(
                &format!("{at}/payer"),
                "NM1",
                &[
                    "PR",
                    "2",
                    &other.payer.name,
                    "",
                    "",
                    "",
                    "",
                    other.payer.id_qualifier(),
                    other.payer.id.as_str(),
                ],
            )?;
            if let Some(date) = other.adjudication_date {
                let date = crate::write::ccyymmdd(date);
                self.simple(
                    &format!("{at}/adjudicationDate"),
                    "DTP",
                    &["573", "D8", &date],
                )?;
            }
        }

        Ok(())
    }

    /// Closes the transaction set, group and interchange.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, TranslateError> {
        self.w
            .end_transaction()
            .and_then(|()| self.w.end_group())
            .map_err(|e| write_error("", e))?;
        // Unvalidated here: `claims::write_837` validates what it hands out; the lossless round
        // trip writes its base through this and patches it back to what came in.
        self.w.finish_unvalidated().map_err(|e| write_error("", e))
    }
}
