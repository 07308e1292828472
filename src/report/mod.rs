//! Reports: turning results into text, JSON, CSV and NDJSON, with every
//! attacker-controlled string escaped for its medium.

pub mod escape;
