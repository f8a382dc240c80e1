//! Webhooks: every claim and payment event an organization subscribes to reaches its
//! endpoints, signed per the Standard Webhooks specification, retried on a schedule, and
//! replayable.
//!
//! The source is the claim-events outbox (the claims table's change stream, announced on the
//! claim-events queue), so no stored move goes unannounced. The fan-out turns each event into
//! one delivery per matching subscription of the event's organization, each a record created
//! once under an id derived from the event and the subscription (the `webhook-id` a receiver
//! deduplicates by, stable across retries), and queues it; the deliverer signs and sends it,
//! records the attempt, and queues the next one by the retry schedule until the endpoint
//! answers 2xx or the schedule runs out.

pub mod event;
pub mod policy;
pub mod ports;
pub mod records;
pub mod service;
pub mod signing;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
