//! Work split in order between two threads: one produces items (tokenizing, placing and
//! reading X12, or reading claims), the other consumes them (assembling claim loops, writing
//! JSON). Every streamed translation that keeps two cores busy hands its items over the same
//! way, so the batching, the bound on what is in flight, how either side's failure stops the
//! other, and a panic's passage are written (and tested) once.

/// How items go from the producing thread to the consuming one: in batches, so a handover
/// costs nothing per item, with a bounded number of batches queued, so what is in flight
/// stays small (the producer waits when the consumer falls behind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// Items in a batch.
    pub items: usize,
    /// Batches queued before the producer waits.
    pub in_flight: usize,
}

/// The consuming thread stopped taking items: what it returns says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the thread taking what is read beside this one stopped")]
pub struct ConsumerStopped;

impl From<ConsumerStopped> for std::io::Error {
    fn from(stopped: ConsumerStopped) -> Self {
        std::io::Error::other(stopped)
    }
}

impl Handoff {
    /// Runs `produce` on this thread, which gives each item it makes to the function it is
    /// passed, and `take` of each item, in order, on a second thread that owns `consumer`.
    ///
    /// Returns what `produce` returned, and the consumer (or the error that stopped it).
    /// Items produced before `produce` ends, whether it succeeded or not, are all taken. A
    /// consumer that fails stops taking: `produce` is then told by [`ConsumerStopped`] from
    /// the function it gives its items to, within the batches in flight. A panic on the
    /// consuming thread is resumed on this one.
    pub fn run<T: Send, C: Send, E: Send, R>(
        self,
        mut consumer: C,
        mut take: impl FnMut(&mut C, T) -> Result<(), E> + Send,
        produce: impl FnOnce(&mut dyn FnMut(T) -> Result<(), ConsumerStopped>) -> R,
    ) -> (R, Result<C, E>) {
        let items = self.items.max(1);
        let (hand, handed) = std::sync::mpsc::sync_channel::<Vec<T>>(self.in_flight);
        std::thread::scope(|scope| {
            let consuming = scope.spawn(move || {
                for batch in handed {
                    for item in batch {
                        take(&mut consumer, item)?;
                    }
                }
                Ok(consumer)
            });
            let mut batch = Vec::with_capacity(items);
            let produced = produce(&mut |item| {
                batch.push(item);
                if batch.len() >= items {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(items));
                    hand.send(full).map_err(|_| ConsumerStopped)?;
                }
                Ok(())
            });
            // What was produced before the producer ended (or stopped) is taken too; a
            // consumer that stopped says why itself.
            if !batch.is_empty() {
                let _ = hand.send(batch);
            }
            drop(hand);
            match consuming.join() {
                Ok(consumed) => (produced, consumed),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed expectation is the test failing

    use super::{ConsumerStopped, Handoff};

    const HANDOFF: Handoff = Handoff {
        items: 8,
        in_flight: 2,
    };

    fn collected(list: &mut Vec<usize>, item: usize) -> Result<(), ConsumerStopped> {
        list.push(item);
        Ok(())
    }

    #[test]
    fn every_item_is_taken_once_in_the_order_produced_at_every_batch_boundary() {
        let items = HANDOFF.items;
        for count in [0, 1, items - 1, items, items + 1, items * 9 + 5] {
            let (produced, taken) =
                HANDOFF.run(Vec::new(), collected, |hand| (0..count).try_for_each(hand));
            assert!(produced.is_ok(), "{count}");
            assert_eq!(taken.unwrap(), (0..count).collect::<Vec<_>>(), "{count}");
        }
    }

    #[test]
    fn what_was_produced_before_the_producer_failed_is_taken() {
        let count = HANDOFF.items + 3;
        let (produced, taken) = HANDOFF.run(Vec::new(), collected, |hand| {
            (0..count).try_for_each(&mut *hand).unwrap();
            Err::<(), _>("the input stopped making sense")
        });
        assert_eq!(produced, Err("the input stopped making sense"));
        assert_eq!(taken.unwrap(), (0..count).collect::<Vec<_>>());
    }

    #[test]
    fn a_consumer_that_fails_stops_the_producer_and_says_why() {
        let mut given = 0usize;
        let (produced, taken) = HANDOFF.run(
            0usize,
            |count: &mut usize, _item: usize| {
                *count += 1;
                if *count == 3 {
                    Err("the reader went away")
                } else {
                    Ok(())
                }
            },
            |hand| {
                // A producer without end: only the consumer's failure stops it.
                for i in 0.. {
                    given += 1;
                    hand(i)?;
                }
                Ok::<(), ConsumerStopped>(())
            },
        );
        assert_eq!(produced, Err(ConsumerStopped));
        assert_eq!(taken.unwrap_err(), "the reader went away");
        // The producer stopped within the batches that can be in flight: those queued, the
        // one being taken, and the one being filled.
        let bound = HANDOFF.items * (HANDOFF.in_flight + 2);
        assert!(given <= bound, "{given} items given, more than {bound}");
    }

    #[test]
    fn a_panic_on_the_consuming_thread_is_resumed_here() {
        let caught = std::panic::catch_unwind(|| {
            HANDOFF.run(
                (),
                |(), item: usize| {
                    assert_ne!(item, 20, "the consumer's own panic");
                    Ok::<(), ConsumerStopped>(())
                },
                |hand| (0..100).try_for_each(hand),
            )
        });
        let panic = caught.unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("the consumer's own panic"), "{message}");
    }

    #[test]
    fn a_batch_of_no_items_is_a_batch_of_one() {
        let handoff = Handoff {
            items: 0,
            in_flight: 0,
        };
        let (produced, taken) =
            handoff.run(Vec::new(), collected, |hand| (0..5).try_for_each(hand));
        assert!(produced.is_ok());
        assert_eq!(taken.unwrap(), vec![0, 1, 2, 3, 4]);
    }
}
