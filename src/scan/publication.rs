//! What `--dedup` holds back: each publishing record's datapoints, until
//! every copy of its event has been seen. A worker holds at most
//! [`RUN_PUBLICATIONS`] of them; past that it writes them, sorted by event
//! ID and location, as a run to the temporary file of held-back
//! publications, and the scan reads them back merged to keep each event's
//! first copy. Memory stays flat however many records publish.

use super::repeats::EventId;
use super::report::Location;
use super::samples::{put_summary, read_summary};
use crate::metric::Datapoint;
use crate::record::{EpochMs, EventSummary, TimeProblem};
use crate::spill::codec::{put_text, Fields};
use crate::spill::{Hold, Item, Keyed};

/// Publications a worker holds before it writes them out (a few hundred
/// bytes each: about 0.6 MB).
pub const RUN_PUBLICATIONS: usize = 2048;

/// Runs read back at once: their buffers take a few kilobytes each.
pub(super) const READ_RUNS: usize = 256;

/// What one record publishes, held back until duplicates are resolved
/// (`--dedup`).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Publication {
    pub(super) id: EventId,
    pub(super) at: Location,
    pub(super) time: Result<EpochMs, TimeProblem>,
    pub(super) points: Vec<(u32, Datapoint)>,
    /// The summary and path, kept for every matching event.
    pub(super) summary: Option<(EventSummary, String)>,
}

impl Keyed for Publication {
    type Key = (EventId, Location);
    fn key(&self) -> (EventId, Location) {
        (self.id, self.at)
    }
    /// No two publications share an event ID and a location.
    fn fold(&mut self, _same: Publication) {}
}

/// The publications a worker holds back: written out as one run, by event
/// ID and location.
impl Hold for &mut Vec<Publication> {
    type Key = ();
    type Item = Publication;

    fn held(&self) -> usize {
        self.len()
    }

    fn take(&mut self) -> Vec<((), Vec<Publication>)> {
        self.sort_unstable_by_key(|p| (p.id, p.at));
        vec![((), std::mem::take(*self))]
    }

    fn put_back(&mut self, _key: (), run: Vec<Publication>) {
        self.extend(run);
    }
}

const SHORT: &str = "a held-back publication is cut short";

impl Item for Publication {
    /// A little-endian `u32` length of the rest; the event ID (a tag and
    /// two words), the location, the time (a tag, and the time when there
    /// is one); the datapoints (a count, then for each its rule, value,
    /// whether it matched and its dimensions); the summary and path, when
    /// kept. Texts are a `u32` length (`u32::MAX`: absent) and their bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        let (tag, [hi, lo]) = match self.id {
            EventId::Uuid(h) => (0u8, h),
            EventId::Other(h) => (1, h),
        };
        out.push(tag);
        out.extend_from_slice(&hi.to_le_bytes());
        out.extend_from_slice(&lo.to_le_bytes());
        out.extend_from_slice(&self.at.file.to_le_bytes());
        out.extend_from_slice(&self.at.member.to_le_bytes());
        out.extend_from_slice(&self.at.offset.to_le_bytes());
        match self.time {
            Ok(t) => {
                out.push(0);
                out.extend_from_slice(&t.to_le_bytes());
            }
            Err(TimeProblem::Missing) => out.push(1),
            Err(TimeProblem::Unparseable) => out.push(2),
        }
        out.extend_from_slice(&(self.points.len() as u32).to_le_bytes());
        for (rule, dp) in &self.points {
            out.extend_from_slice(&rule.to_le_bytes());
            out.extend_from_slice(&dp.value.to_bits().to_le_bytes());
            out.push(u8::from(dp.matched));
            out.extend_from_slice(&(dp.dimensions.len() as u32).to_le_bytes());
            for (k, v) in &dp.dimensions {
                put_text(out, Some(k));
                put_text(out, Some(v));
            }
        }
        match &self.summary {
            None => out.push(0),
            Some((summary, path)) => {
                out.push(1);
                put_text(out, Some(path));
                put_summary(out, summary);
            }
        }
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Result<Option<(Publication, usize)>, &'static str> {
        let Some(head) = bytes.get(..4) else { return Ok(None) };
        let len = u32::from_le_bytes(head.try_into().expect("4 bytes")) as usize;
        let Some(rest) = bytes.get(4..4 + len) else { return Ok(None) };
        let mut f = Fields::new(rest, SHORT);
        let tag = f.byte()?;
        let halves = [f.word()?, f.word()?];
        let id = match tag {
            0 => EventId::Uuid(halves),
            1 => EventId::Other(halves),
            _ => return Err("a held-back event ID of no known kind"),
        };
        let at = Location { file: f.half()?, member: f.half()?, offset: f.word()? };
        let time = match f.byte()? {
            0 => Ok(f.word()? as i64),
            1 => Err(TimeProblem::Missing),
            2 => Err(TimeProblem::Unparseable),
            _ => return Err("a held-back time of no known kind"),
        };
        let count = f.half()? as usize;
        let mut points = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let rule = f.half()?;
            let value = f64::from_bits(f.word()?);
            let matched = f.byte()? != 0;
            let dims = f.half()? as usize;
            let mut dimensions = Vec::with_capacity(dims.min(64));
            for _ in 0..dims {
                let k = f.text()?.ok_or(SHORT)?;
                let v = f.text()?.ok_or(SHORT)?;
                dimensions.push((k, v));
            }
            points.push((rule, Datapoint { value, dimensions, matched }));
        }
        let summary = match f.byte()? {
            0 => None,
            _ => {
                let path = f.text()?.ok_or(SHORT)?;
                Some((read_summary(&mut f)?, path))
            }
        };
        if !f.is_done() {
            return Err("a held-back publication is longer than its fields");
        }
        Ok(Some((Publication { id, at, time, points, summary }, 4 + len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publication_reads_back_as_written() {
        let mut fields: [Option<String>; EventSummary::FIELDS] = Default::default();
        fields[0] = Some("2023-07-10T12:00:00Z".into());
        fields[2] = Some("GetObject".into());
        fields[3] = Some("AccessDenied".into());
        fields[5] = Some("arn:aws:iam::1:user/ü".into());
        fields[12] = Some("id".into());
        let mut summary = EventSummary::from_fields(fields);
        summary.groups = vec![None, Some("g".into())];
        summary.record = Some("{}".into());
        let p = Publication {
            id: EventId::of("00000000-0000-4000-8000-000000000001"),
            at: Location { file: 3, member: 2, offset: 99 },
            time: Ok(1_688_990_400_000),
            points: vec![
                (0, Datapoint { value: 1.0, dimensions: vec![], matched: true }),
                (4, Datapoint { value: -0.5, dimensions: vec![("k".into(), "v".into())], matched: false }),
            ],
            summary: Some((summary, "a/b.json.gz".into())),
        };
        let q = Publication { id: EventId::of("x"), time: Err(TimeProblem::Unparseable), summary: None, ..p.clone() };
        let mut bytes = Vec::new();
        p.encode(&mut bytes);
        q.encode(&mut bytes);
        let (back, used) = Publication::decode(&bytes).unwrap().unwrap();
        assert_eq!(back, p);
        let (back, rest) = Publication::decode(&bytes[used..]).unwrap().unwrap();
        assert_eq!((back, used + rest), (q, bytes.len()));
        assert_eq!(Publication::decode(&bytes[..used - 1]).unwrap(), None, "part of one");
    }
}
