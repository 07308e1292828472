//! Metrics: what a metric filter publishes per event, how datapoints
//! aggregate per minute, and how minutes roll up into period windows; and
//! metric data a user already has (`data`).

pub mod data;
pub(crate) mod series;
pub(crate) mod statistic;
pub(crate) mod transform;
pub(crate) mod window;

pub use series::{Series, Stats};
pub use statistic::Statistic;
pub use transform::{Datapoint, MetricTransform};
pub use window::{windows, Window};
