//! Records: finding them in a decoded log document, and reading the few
//! fields every report needs (time, who, what).

pub mod blocks;
pub mod event;
pub mod split;
pub mod time;

pub use event::{event_time, EventSummary, TimeProblem};
pub use split::{RecordSpan, SplitError, SplitErrorKind, Splitter, Step};
pub use time::EpochMs;
