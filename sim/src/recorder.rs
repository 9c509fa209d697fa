//! Where a run's records go once written: the sink's fold and the event log read each one in
//! order, on the backend's thread or, for a big run, on a second thread fed in batches, so the
//! log's lines, their digest and the reports' fold (a third of a million-pod run) overlap the
//! simulation. Either way every record is read in the order written, with the scenario as it
//! was when it was written: the digest and the fold cannot tell the two apart.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread::Scope;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{RecordSink, Stamped};

use crate::log::EventLog;

/// Records handed over at once: a few tens of kilobytes (small enough for the caches between
/// the two threads), and one channel operation per thousand records.
const BATCH: usize = 1024;

/// Full batches on their way at most: the simulation waits for the reader beyond this, so the
/// records in flight stay bounded.
const BATCHES_IN_FLIGHT: usize = 4;

/// What reads a run's records, with the log that digests them.
pub type Reader<'s> = (Box<EventLog>, &'s mut (dyn RecordSink + Send));

/// The records' way from the backend to their reader.
pub enum Recorder<'s> {
    /// Read at once, on the backend's thread.
    Here { log: Box<EventLog>, sink: &'s mut (dyn RecordSink + Send) },
    /// Read on a second thread, which holds a copy of the scenario's `Arc`; the backend
    /// settles it before it changes the scenario ([`Journal::change`]).
    Piped(Pipe<'s>),
}

pub struct Pipe<'s> {
    batch: Vec<Stamped>,
    /// `None` once closed: the reader then finishes and hands its log and sink back.
    full: Option<SyncSender<Vec<Stamped>>>,
    /// Batches the reader has emptied, to be filled again.
    empty: Receiver<Vec<Stamped>>,
    back: Receiver<Reader<'s>>,
}

impl<'s> Recorder<'s> {
    /// A reader on a thread of `scope`, which reads `scenario` as it is now (the backend
    /// settles before changing it).
    pub fn piped<'scope>(
        scope: &'scope Scope<'scope, '_>,
        scenario: Arc<Scenario>,
        controllers: Vec<String>,
        (mut log, sink): Reader<'s>,
    ) -> Recorder<'s>
    where
        's: 'scope,
    {
        let (full, batches) = sync_channel::<Vec<Stamped>>(BATCHES_IN_FLIGHT);
        let (emptied, empty) = channel();
        let (hand_back, back) = channel();
        let reader = std::thread::Builder::new().name("podlab-records".into());
        let spawned = reader.spawn_scoped(scope, move || {
            for mut batch in batches {
                for stamped in batch.drain(..) {
                    sink.observe(&scenario, &stamped);
                    log.append(&scenario, &controllers, stamped.time, stamped.record);
                }
                // The backend may have settled and gone: the batch is then not needed.
                let _ = emptied.send(batch);
            }
            // Let go of the scenario before handing back, so the backend's copy is the only
            // one the run holds and changing it copies nothing more than it did before.
            drop(scenario);
            let _ = hand_back.send((log, sink));
        });
        // As `Scope::spawn`, which panics when the system refuses a thread; named for profilers.
        spawned.expect("a thread to read the records");
        Recorder::Piped(Pipe { batch: Vec::with_capacity(BATCH), full: Some(full), empty, back })
    }

    /// Reads one record: now, or in its batch on the reader's thread.
    #[inline]
    fn record(&mut self, scenario: &Scenario, controllers: &[String], stamped: Stamped) {
        match self {
            Recorder::Here { log, sink } => {
                sink.observe(scenario, &stamped);
                log.append(scenario, controllers, stamped.time, stamped.record);
            }
            Recorder::Piped(pipe) => {
                pipe.batch.push(stamped);
                if pipe.batch.len() == BATCH {
                    pipe.send();
                }
            }
        }
    }

    /// Waits until every record so far has been read, and reads the rest here: the reader has
    /// let go of its copy of the scenario. Called before the scenario changes
    /// ([`Journal::change`]), and at the end.
    fn settle(&mut self) {
        if let Recorder::Piped(pipe) = self {
            let (log, sink) = pipe.close();
            *self = Recorder::Here { log, sink };
        }
    }

    /// Every record read: the log that digested them.
    fn finish(mut self) -> Box<EventLog> {
        self.settle();
        match self {
            Recorder::Here { log, .. } => log,
            Recorder::Piped(_) => unreachable!("settled"),
        }
    }
}

/// The scenario as a run changes it, with the way its records go out. They are one value
/// because a reader on a second thread holds a copy of the scenario: the only way to change
/// the scenario, [`Journal::change`], first has every record so far read (the reader lets go
/// of its copy), so each record is read with the scenario as it was when it was written.
pub struct Journal<'s> {
    scenario: Arc<Scenario>,
    /// The run's controllers, by id (records name them by id).
    controllers: Vec<String>,
    recorder: Recorder<'s>,
}

impl<'s> Journal<'s> {
    pub fn new(scenario: Arc<Scenario>, controllers: Vec<String>, recorder: Recorder<'s>) -> Journal<'s> {
        Journal { scenario, controllers, recorder }
    }

    /// The scenario as it is now.
    #[inline]
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The run's controllers' names, by id.
    pub fn controllers(&self) -> &[String] {
        &self.controllers
    }

    /// Writes a record: its readers get it with the scenario as it is now.
    #[inline]
    pub fn record(&mut self, stamped: Stamped) {
        self.recorder.record(&self.scenario, &self.controllers, stamped);
    }

    /// The scenario, to change (a pod created, a node's spec replaced): the records written so
    /// far are read first, and it is copied if anyone else still holds it.
    pub fn change(&mut self) -> &mut Scenario {
        self.recorder.settle();
        Arc::make_mut(&mut self.scenario)
    }

    /// Every record read: the scenario as the run left it, and the log that digested them.
    pub fn finish(self) -> (Arc<Scenario>, Box<EventLog>) {
        let log = self.recorder.finish();
        (self.scenario, log)
    }
}

impl<'s> Pipe<'s> {
    fn send(&mut self) {
        let next = self.empty.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        let sent = self.full.as_ref().expect("an open pipe").send(full);
        // Only a reader that panicked hangs up early; its panic ends the run's scope.
        assert!(sent.is_ok(), "the records' reader stopped before the run ended");
    }

    /// Sends what is batched, closes the pipe, and takes the log and sink back once the
    /// reader has read it all.
    fn close(&mut self) -> Reader<'s> {
        if !self.batch.is_empty() {
            self.send();
        }
        self.full = None;
        self.back.recv().expect("the records' reader hands its log and sink back")
    }
}
