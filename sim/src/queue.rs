//! The event queue: a radix heap over integer virtual time, first-in first-out among events
//! at one instant. Virtual time never goes back, so the queue is monotone — every push is at or
//! after the last time popped — and a radix heap fits: an event sits in the bucket named by the
//! highest hexadecimal digit in which its time differs from the last time popped (and that
//! digit's value), moves only towards lower buckets, and so costs O(log₁₆ T) amortised moves of
//! contiguous memory instead of a binary heap's cache-missing sift through a million entries.
//! Digits rather than bits: an event pushed half a millisecond ahead moves about 5 times on its
//! way out, not 19.
//!
//! Ties keep insertion order without a sequence number: events of one time always share a
//! bucket, each bucket is appended to in push order, and a bucket is redistributed in its own
//! order, so same-time events stay in the order they were pushed.
//!
//! The current time may also be moved forward to an instant before every queued event
//! ([`EventQueue::advance`]: the backend's arrivals are read from the scenario, not queued), so
//! that what happens there is pushed straight to that instant's list; the buckets stay filed
//! against the last time settled, which every event still queued or pushed later follows.
//!
//! A bucket is a list of fixed-size chunks, not one vector: a vector that doubles holds up to
//! twice its events and copies them all as it grows, and every live pod has an event queued
//! (its end), so that slack was part of each pod's cost. Chunks emptied by a spread are kept
//! for the next pushes.

use std::collections::VecDeque;

use podlab_cluster::SimTime;

/// Bits of one digit: a level's buckets are its digit's 16 values.
const DIGIT_BITS: u32 = 4;
const RADIX: usize = 1 << DIGIT_BITS;
const LEVELS: usize = (u64::BITS / DIGIT_BITS) as usize;
/// Bucket `level * RADIX + d` holds events whose time first differs from `last` in digit
/// `level`, where it is `d` (greater than `last`'s). Every event of a bucket is earlier than
/// every event of a higher one.
const BUCKETS: usize = LEVELS * RADIX;

/// Events a full chunk holds: big enough that a bucket's chunks are few, small enough that
/// partly filled buckets waste little.
const CHUNK: usize = 512;

/// Chunks kept for reuse at most (about 10 MB of 40-byte events).
const SPARE_CHUNKS: usize = 512;

/// One bucket's events in push order: full chunks, then one filling up. A bucket's first chunk
/// grows as a vector does (a small run's buckets stay small) and stays when the bucket is
/// spread; later ones are allocated whole, or reused.
type Chunks<T> = Vec<Vec<(u64, T)>>;

/// A monotone priority queue of events in virtual time.
pub struct EventQueue<T> {
    /// The time the buckets are filed against: the last one settled.
    last: u64,
    /// The current time: `last`, or later after [`EventQueue::advance`]; nothing earlier may be
    /// pushed.
    current: u64,
    /// Events at exactly `current`, in push order.
    now: VecDeque<T>,
    buckets: Vec<Chunks<T>>,
    /// Emptied chunks of full size, for the next pushes.
    spare: Vec<Vec<(u64, T)>>,
    /// The earliest time in each bucket (`u64::MAX` when empty), so the queue's next time is
    /// known without settling — which would forbid pushes before it.
    mins: Vec<u64>,
    /// Bit `level` set when a bucket of that level is not empty.
    levels: u16,
    /// Per level, bit `d` set when its bucket `d` is not empty.
    digits: [u16; LEVELS],
    len: usize,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            last: 0,
            current: 0,
            now: VecDeque::new(),
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            spare: Vec::new(),
            mins: vec![u64::MAX; BUCKETS],
            levels: 0,
            digits: [0; LEVELS],
            len: 0,
        }
    }
}

/// The bucket of `time`, later than `last`.
#[inline]
fn bucket(time: u64, last: u64) -> usize {
    let level = (u64::BITS - 1 - (time ^ last).leading_zeros()) / DIGIT_BITS;
    let digit = (time >> (level * DIGIT_BITS)) as usize & (RADIX - 1);
    level as usize * RADIX + digit
}

impl<T> EventQueue<T> {
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue { now: VecDeque::with_capacity(capacity.min(1 << 16)), ..Self::default() }
    }

    /// Queues `item` at `time`, which must not be earlier than the last time popped: the
    /// simulation never schedules into its past.
    #[inline]
    pub fn push(&mut self, time: SimTime, item: T) {
        let time = time.as_nanos();
        assert!(time >= self.current, "event pushed at {time} ns, before the current time {} ns", self.current);
        self.len += 1;
        if time == self.current {
            self.now.push_back(item);
        } else {
            self.push_into_bucket(time, item);
        }
    }

    /// Files an event later than `last` in the bucket its time names. Out of line: most pushes
    /// are at the current instant, and `push` stays small enough to inline.
    #[inline(never)]
    fn push_into_bucket(&mut self, time: u64, item: T) {
        let b = bucket(time, self.last);
        let chunks = &mut self.buckets[b];
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push((time, item)),
            Some(_) => {
                let mut chunk = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK));
                chunk.push((time, item));
                chunks.push(chunk);
            }
            None => chunks.push(vec![(time, item)]),
        }
        self.mins[b] = self.mins[b].min(time);
        self.levels |= 1 << (b / RADIX);
        self.digits[b / RADIX] |= 1 << (b % RADIX);
    }

    /// The lowest bucket that is not empty, if any.
    #[inline]
    fn lowest(&self) -> Option<usize> {
        let level = self.levels.trailing_zeros() as usize;
        (level < LEVELS).then(|| level * RADIX + self.digits[level].trailing_zeros() as usize)
    }

    /// Makes `now` hold the earliest events, if there are any: the lowest occupied bucket's
    /// minimum becomes `last` and that bucket is spread over the buckets below it (its events
    /// share every digit down to its own with the new `last`, so each lands a level lower).
    /// Out of line: `pop` calls it only when the current instant is used up, and the event
    /// loop's inlined pop stays small.
    #[inline(never)]
    fn settle(&mut self) {
        let Some(b) = self.lowest() else { return };
        let mut spread = std::mem::take(&mut self.buckets[b]);
        let level = b / RADIX;
        self.digits[level] &= !(1 << (b % RADIX));
        if self.digits[level] == 0 {
            self.levels &= !(1 << level);
        }
        self.last = std::mem::replace(&mut self.mins[b], u64::MAX);
        self.current = self.last;
        // Every event of bucket `b` lands in a lower bucket (or `now`), in its order.
        let mut first: Option<Vec<(u64, T)>> = None;
        for mut chunk in spread.drain(..) {
            for (time, item) in chunk.drain(..) {
                if time == self.last {
                    self.now.push_back(item);
                } else {
                    self.push_into_bucket(time, item);
                }
            }
            if first.is_none() {
                first = Some(chunk);
            } else if chunk.capacity() == CHUNK && self.spare.len() < SPARE_CHUNKS {
                self.spare.push(chunk);
            }
        }
        // The bucket keeps its first chunk, emptied, for the next events that land in it (a
        // small queue's buckets then allocate nothing as they fill and empty).
        spread.extend(first);
        self.buckets[b] = spread;
    }

    /// The earliest event; among events at one instant, the first pushed.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, T)> {
        if self.now.is_empty() {
            self.settle();
        }
        let item = self.now.pop_front()?;
        self.len -= 1;
        Some((SimTime(self.current), item))
    }

    /// The time of the earliest event. Unlike popping, it moves nothing: the backend may still
    /// push before it (an arrival read from the scenario's list comes first).
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.now.is_empty() {
            return Some(SimTime(self.current));
        }
        self.lowest().map(|b| SimTime(self.mins[b]))
    }

    /// Makes `time` the current time, when nothing is queued at or before it: what is pushed
    /// for that instant then goes straight to its list, rather than into a bucket to be spread
    /// when it is popped (the backend's arrivals, read from the scenario's list, are not
    /// queued). The buckets stay filed against the last time settled, which every later event
    /// still follows.
    pub fn advance(&mut self, time: SimTime) {
        let time = time.as_nanos();
        debug_assert!(self.now.is_empty() && time >= self.current, "advanced with events left before {time} ns");
        debug_assert!(self.lowest().is_none_or(|b| self.mins[b] > time), "advanced past a queued event");
        self.current = time;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use rand_core::Rng;

    use super::*;

    /// Events pop in time order, and same-instant events in the order they were pushed.
    #[test]
    fn time_then_fifo() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "c");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "d");
        q.push(SimTime(1), "b");
        q.push(SimTime(5), "e");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, x)| x).collect();
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
    }

    /// Peeking moves nothing: an event may still be pushed before the time it showed.
    #[test]
    fn peeking_still_allows_earlier_pushes() {
        let mut q = EventQueue::default();
        q.push(SimTime(100), "late");
        q.push(SimTime(300), "later");
        assert_eq!(q.peek_time(), Some(SimTime(100)));
        q.push(SimTime(50), "early");
        assert_eq!(q.peek_time(), Some(SimTime(50)));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, [(SimTime(50), "early"), (SimTime(100), "late"), (SimTime(300), "later")]);
    }

    /// Against a binary heap ordered by (time, push sequence), over random monotone runs that
    /// mix far and near times, many ties, pushes at the current instant and peeks.
    #[test]
    fn agrees_with_a_binary_heap_on_time_and_sequence() {
        for seed in 0..40 {
            let mut rng = podlab_cluster::rng::stream(seed, "queue-test");
            let mut queue = EventQueue::default();
            let mut reference = BinaryHeap::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for _ in 0..5_000 {
                let roll = rng.next_u64() % 10;
                if roll == 9 && queue.peek_time().is_none_or(|t| t.as_nanos() > now + 1) {
                    // As the backend does for an arrival: move to an instant before the next
                    // queued one, and push there.
                    let next = queue.peek_time().map_or(now + 1_000, |t| t.as_nanos());
                    now += 1 + rng.next_u64() % (next - now - 1);
                    queue.advance(SimTime(now));
                    queue.push(SimTime(now), seq);
                    reference.push(Reverse((now, seq)));
                    seq += 1;
                } else if roll < 6 || reference.is_empty() {
                    let ahead = match rng.next_u64() % 4 {
                        0 => 0,
                        1 => rng.next_u64() % 4,
                        2 => rng.next_u64() % 1_000,
                        _ => rng.next_u64() % (1 << 40),
                    };
                    queue.push(SimTime(now + ahead), seq);
                    reference.push(Reverse((now + ahead, seq)));
                    seq += 1;
                } else {
                    // A peek settles the queue at the earliest time: pop right after it.
                    if roll < 7 {
                        let Reverse((t, _)) = *reference.peek().expect("not empty");
                        assert_eq!(queue.peek_time(), Some(SimTime(t)));
                    }
                    let Reverse((t, s)) = reference.pop().expect("not empty");
                    assert_eq!(queue.pop(), Some((SimTime(t), s)), "seed {seed}");
                    now = t;
                }
                assert_eq!(queue.len(), reference.len());
            }
            while let Some(Reverse((t, s))) = reference.pop() {
                assert_eq!(queue.pop(), Some((SimTime(t), s)));
            }
            assert!(queue.is_empty() && queue.pop().is_none());
        }
    }

    /// Moving the current time forward to before the next queued event: what is pushed for it
    /// comes out first, in push order, and every earlier-filed event after it, in time order.
    #[test]
    fn advancing_keeps_time_then_fifo() {
        let mut q = EventQueue::default();
        q.push(SimTime(0x15), "c");
        q.push(SimTime(0x40), "e");
        q.advance(SimTime(0x12));
        q.push(SimTime(0x12), "a");
        q.push(SimTime(0x1d), "d");
        q.push(SimTime(0x12), "b");
        assert_eq!(q.peek_time(), Some(SimTime(0x12)));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        let expected = [(0x12, "a"), (0x12, "b"), (0x15, "c"), (0x1d, "d"), (0x40, "e")];
        assert_eq!(order, expected.map(|(t, x)| (SimTime(t), x)));
    }

    /// A push into the past is a bug of the caller, refused loudly.
    #[test]
    fn refuses_the_past() {
        let refused = std::panic::catch_unwind(|| {
            let mut q = EventQueue::default();
            q.push(SimTime(10), ());
            q.pop();
            q.push(SimTime(9), ());
        })
        .expect_err("a push before the current time panics");
        let message = refused.downcast_ref::<String>().map_or("", String::as_str);
        assert!(message.contains("before the current time"), "{message}");
    }
}
