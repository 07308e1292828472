//! Alarms: settings (`spec`) and the CloudWatch evaluation state machine
//! (`eval`), both pure.

pub mod eval;
pub(crate) mod spec;

pub use eval::{decide, evaluate_periods, evaluate_series, Evaluation, Replay, Tally, Transition};
pub use spec::{
    AlarmSettings, AlarmSpec, AlarmState, Comparison, EvaluationWindow, PeriodSetting, SettingError, Statistic,
    StatisticError, TreatMissing,
};
