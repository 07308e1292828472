//! Records: finding them in decoded input (log documents, arrays, lines), and reading the few
//! fields every report needs (time, who, what).

pub mod blocks;
pub(crate) mod event;
pub(crate) mod lines;
mod probes;
pub(crate) mod split;
pub mod time;

pub(crate) use event::text as summary_text;
pub use event::{event_time, event_time_of, EventSummary, TimeProblem};
pub use lines::LineSplitter;
pub use probes::{Hit, Probes};
pub use split::{Layout, RecordSpan, SplitError, SplitErrorKind, Splitter, Step};
pub use time::EpochMs;
