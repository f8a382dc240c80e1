//! Claim events leave through an outbox that cannot lose them: the claim store's change
//! stream (DynamoDB Streams on the claims table) carries every stored write, and this use
//! case turns each into the moves it made and queues them for the webhook fan-out. A move is
//! announced because it was stored; a process that dies between the write and the
//! announcement loses nothing, since the stream delivers the change again until it is
//! announced. A change may be announced twice: each event's claim id and sequence number
//! identify it.

use std::time::Duration;

use crate::lifecycle::{ClaimEvent, ClaimRecord};
use crate::ports::{Ports, Queue, Topic};
use crate::service::{Clearinghouse, ServiceError};

impl<P: Ports> Clearinghouse<P> {
    /// Queues the events of stored changes (`before` is `None` for a claim just created), in
    /// order; how many were queued.
    pub async fn announce(
        &self,
        changes: &[(Option<ClaimRecord>, ClaimRecord)],
    ) -> Result<usize, ServiceError> {
        let mut announced = 0;
        for (before, after) in changes {
            for event in ClaimEvent::between(before.as_ref(), after) {
                let body = serde_json::to_vec(&event)
                    .map_err(|e| ServiceError::Internal(format!("a claim event: {e}")))?;
                self.ports
                    .queue()
                    .send(Topic::ClaimEvents, body, Duration::ZERO)
                    .await?;
                announced += 1;
            }
        }
        Ok(announced)
    }
}
