//! The claims table's change stream as Lambda delivers it (a DynamoDB Streams event): each
//! record's old and new image of a claim item, read back into claim records. Items that are
//! not claims (idempotency keys, holds, counters) are passed over.

use hms_service::lifecycle::ClaimRecord;
use hms_service::outbox::RemittanceEvent;
use hms_service::remittance::records::{PaymentRecord, RemittanceException};
use serde::Deserialize;

/// A DynamoDB Streams event: the records Lambda hands over.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    /// The records, in stream order per item.
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// One change.
#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    /// The change's position in its shard (what a batch item failure names).
    #[serde(rename = "dynamodb")]
    pub change: Change,
}

/// The item before and after.
#[derive(Debug, Deserialize)]
pub struct Change {
    /// Its position in the shard.
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
    /// After the write (none when it was removed).
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<Image>,
    /// Before the write (none when it was created).
    #[serde(rename = "OldImage", default)]
    pub old_image: Option<Image>,
}

/// The attributes of an item that say what it is.
#[derive(Debug, Deserialize)]
pub struct Image {
    /// The partition key.
    pub pk: Option<Text>,
    /// A claim item's record, as JSON.
    pub record: Option<Text>,
}

/// A string attribute.
#[derive(Debug, Deserialize)]
pub struct Text {
    /// Its value.
    #[serde(rename = "S")]
    pub s: String,
}

/// Why a change could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the stream record at {sequence} holds an unreadable claim")]
pub struct UnreadableChange {
    /// Where in the stream.
    pub sequence: String,
    /// Why.
    #[source]
    pub source: serde_json::Error,
}

/// The claim changes of `event`, in order: (before, after).
pub fn claim_changes(
    event: &StreamEvent,
) -> Result<Vec<(Option<ClaimRecord>, ClaimRecord)>, UnreadableChange> {
    let mut changes = vec![];
    for record in &event.records {
        let change = &record.change;
        let claim = |image: &Option<Image>| -> Result<Option<ClaimRecord>, UnreadableChange> {
            let Some(image) = image else { return Ok(None) };
            let is_claim = image
                .pk
                .as_ref()
                .is_some_and(|pk| pk.s.starts_with("CLAIM#"));
            match (&image.record, is_claim) {
                (Some(json), true) => {
                    serde_json::from_str(&json.s)
                        .map(Some)
                        .map_err(|source| UnreadableChange {
                            sequence: change.sequence_number.clone().unwrap_or_default(),
                            source,
                        })
                }
                _ => Ok(None),
            }
        };
        if let Some(after) = claim(&change.new_image)? {
            changes.push((claim(&change.old_image)?, after));
        }
    }
    Ok(changes)
}

/// The remittance events of `event`, in order: a payment that became posted, an exception
/// raised.
pub fn remittance_events(event: &StreamEvent) -> Result<Vec<RemittanceEvent>, UnreadableChange> {
    fn read<T: serde::de::DeserializeOwned>(
        image: &Option<Image>,
        prefix: &str,
        sequence: &Option<String>,
    ) -> Result<Option<T>, UnreadableChange> {
        let Some(image) = image else { return Ok(None) };
        let ours = image.pk.as_ref().is_some_and(|pk| pk.s.starts_with(prefix));
        match (&image.record, ours) {
            (Some(json), true) => {
                serde_json::from_str(&json.s)
                    .map(Some)
                    .map_err(|source| UnreadableChange {
                        sequence: sequence.clone().unwrap_or_default(),
                        source,
                    })
            }
            _ => Ok(None),
        }
    }
    let mut events = vec![];
    for record in &event.records {
        let c = &record.change;
        let seq = &c.sequence_number;
        if let Some(after) = read::<PaymentRecord>(&c.new_image, "PAY#", seq)? {
            let before = read::<PaymentRecord>(&c.old_image, "PAY#", seq)?;
            events.extend(RemittanceEvent::of_payment(before.as_ref(), &after));
        }
        if let Some(after) = read::<RemittanceException>(&c.new_image, "EXC#", seq)? {
            let before = read::<RemittanceException>(&c.old_image, "EXC#", seq)?;
            events.extend(RemittanceEvent::of_exception(before.as_ref(), &after));
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hms_service::lifecycle::{ClaimEvent, ClaimId, ClaimState};
    use hms_service::tenancy::OrganizationId;

    fn record(states: &[ClaimState]) -> ClaimRecord {
        let json =
            std::fs::read(hms_test_support::fixtures().join("claims/professional-subscriber.json"))
                .unwrap();
        let claim = hms_domain::claims::Claim::from_json(
            &json,
            hms_domain::claims::ClaimKind::Professional,
        )
        .unwrap();
        let at = chrono::Utc::now();
        let mut record = ClaimRecord::received(
            ClaimId::generate(),
            OrganizationId::parse("clinic-a").unwrap(),
            &claim,
            hms_domain::request::Format::Json,
            at,
            at,
        );
        for state in states {
            record.transition(*state, at, Some(at), None).unwrap();
        }
        record
    }

    fn image(pk: &str, record: &ClaimRecord) -> serde_json::Value {
        serde_json::json!({
            "pk": { "S": pk },
            "state": { "S": record.state.to_string() },
            "record": { "S": serde_json::to_string(record).unwrap() },
        })
    }

    #[test]
    fn a_stream_batch_becomes_the_moves_of_its_claims_and_passes_over_other_items() {
        let before = record(&[ClaimState::WaitingForPayer]);
        let mut after = before.clone();
        after
            .transition(ClaimState::Sending, chrono::Utc::now(), None, None)
            .unwrap();
        let created = record(&[]);
        let pk = |r: &ClaimRecord| format!("CLAIM#{}", r.id);
        let event: StreamEvent = serde_json::from_value(serde_json::json!({
            "Records": [
                { "eventName": "INSERT", "dynamodb": { "SequenceNumber": "1", "NewImage": image(&pk(&created), &created) } },
                { "eventName": "MODIFY", "dynamodb": { "SequenceNumber": "2",
                    "OldImage": image(&pk(&before), &before), "NewImage": image(&pk(&after), &after) } },
                { "eventName": "INSERT", "dynamodb": { "SequenceNumber": "3",
                    "NewImage": { "pk": { "S": "IDEM#clinic-a:k" }, "binding": { "S": "{}" } } } },
                { "eventName": "REMOVE", "dynamodb": { "SequenceNumber": "4",
                    "OldImage": { "pk": { "S": "IDEM#clinic-a:k" } } } }
            ]
        }))
        .unwrap();
        let changes = claim_changes(&event).unwrap();
        assert_eq!(changes.len(), 2);
        let events: Vec<ClaimEvent> = changes
            .iter()
            .flat_map(|(b, a)| ClaimEvent::between(b.as_ref(), a))
            .collect();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].from, ClaimState::WaitingForPayer);
        assert_eq!(events[0].state, ClaimState::Sending);
        assert_eq!(events[0].sequence, 2);

        let broken: StreamEvent = serde_json::from_value(serde_json::json!({
            "Records": [{ "dynamodb": { "SequenceNumber": "9",
                "NewImage": { "pk": { "S": "CLAIM#x" }, "record": { "S": "{" } } } }]
        }))
        .unwrap();
        let err = claim_changes(&broken).unwrap_err();
        assert!(err.to_string().contains("at 9"), "{err}");
    }
}
