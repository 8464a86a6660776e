//! Structured outputs (views and engagement reports, summaries and detail reports of
//! events): what a `kind = "summary"` or `kind = "detail"` output asks for, in
//! the logical names of an events mapping. Checked when the configuration is loaded;
//! compiled to the source's SQL dialect by `compile`.

use std::collections::BTreeMap;

/// How the event time column holds its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// UTC text `YYYY-MM-DDTHH:MM:SSZ` (compares as text with `:from`/`:to`).
    Text,
    /// Unix seconds.
    Epoch,
    /// The database's own timestamp type (PostgreSQL `timestamptz`).
    Native,
}

/// Where the events are and what their columns mean. Logical names (`network`,
/// `revenue`) are what outputs refer to; physical column names are only ever written
/// into SQL quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsMapping {
    /// The table, possibly schema-qualified: each part is quoted on its own.
    pub table: Vec<String>,
    pub time: String,
    pub time_format: TimeFormat,
    /// The event type column (the traffic type: click, install, event, view…).
    pub traffic: Option<String>,
    /// A unique row id, the last key of a detail report's order.
    pub id: Option<String>,
    /// Dimension → columns. Several columns stand for one dimension seen through
    /// several matched touchpoints (a click's and an impression's network); the first
    /// is the one reported.
    pub dimensions: BTreeMap<String, Vec<String>>,
    /// A comma-separated tag list column.
    pub tags: Option<String>,
    /// Measure → column (revenue, cost…).
    pub measures: BTreeMap<String, String>,
    /// The columns of `columns_order = ["default"]`, in logical names.
    pub default_columns: Vec<String>,
}

/// Logical names that are not dimensions or measures.
pub const TIME: &str = "time";
pub const TRAFFIC: &str = "traffic";
pub const ID: &str = "id";
pub const TAGS: &str = "tags";

impl EventsMapping {
    /// Every logical name a detail report can show.
    pub fn columns(&self) -> Vec<String> {
        let mut v = vec![TIME.to_string()];
        if self.traffic.is_some() {
            v.push(TRAFFIC.into());
        }
        if self.id.is_some() {
            v.push(ID.into());
        }
        v.extend(self.dimensions.keys().cloned());
        if self.tags.is_some() {
            v.push(TAGS.into());
        }
        v.extend(self.measures.keys().cloned());
        v
    }

    /// The physical column of a logical name (a dimension's first column).
    pub fn column(&self, logical: &str) -> Option<&str> {
        match logical {
            TIME => Some(&self.time),
            TRAFFIC => self.traffic.as_deref(),
            ID => self.id.as_deref(),
            TAGS => self.tags.as_deref(),
            other => self
                .dimensions
                .get(other)
                .and_then(|c| c.first())
                .or_else(|| self.measures.get(other))
                .map(String::as_str),
        }
    }

    /// Every physical column the mapping names, for checking against the database.
    pub fn physical_columns(&self) -> Vec<&str> {
        let mut v = vec![self.time.as_str()];
        v.extend(self.traffic.as_deref());
        v.extend(self.id.as_deref());
        v.extend(self.tags.as_deref());
        v.extend(self.dimensions.values().flatten().map(String::as_str));
        v.extend(self.measures.values().map(String::as_str));
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSeries {
    None,
    /// One row per local hour (labelled with its UTC offset, so both hours of a
    /// fall-back night stay apart).
    Hour,
    /// One row per local day.
    Day,
}

/// A summary counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counter {
    /// `count`: events.
    Count,
    /// `count:click`: events of one traffic type ("# clicks", "# installs").
    Traffic(String),
    /// `distinct:country`: distinct values of a dimension.
    Distinct(String),
    /// `sum:revenue`: the total of a measure (an amount), rounded to 6 decimals.
    Sum(String),
    /// `nonzero:revenue`: events with a measure above zero ("# revenue
    /// generating events").
    NonZero(String),
}

impl Counter {
    pub const FORMS: &'static str =
        "count, count:TRAFFIC, distinct:DIMENSION, sum:MEASURE, nonzero:MEASURE";

    /// The output column's name.
    pub fn column_name(&self) -> String {
        match self {
            Counter::Count => "count".into(),
            Counter::Traffic(t) => format!("{t}_count"),
            Counter::Distinct(d) => format!("distinct_{d}"),
            Counter::Sum(m) => format!("{m}_sum"),
            Counter::NonZero(m) => format!("{m}_events"),
        }
    }
}

/// Filters, ANDed with each other; the values of one filter are ORed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Keep an event if any of the dimension's columns holds one of the values.
    pub include: Vec<(String, Vec<String>)>,
    /// Keep an event if any of the dimension's columns holds none of the values (or is
    /// empty).
    pub exclude: Vec<(String, Vec<String>)>,
    /// Tag filters: contains any / contains only / does not contain.
    pub tags_any: Vec<String>,
    pub tags_only: Vec<String>,
    pub tags_none: Vec<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.tags_any.is_empty()
            && self.tags_only.is_empty()
            && self.tags_none.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Summary {
        group_by: Vec<String>,
        time_series: TimeSeries,
        counters: Vec<Counter>,
    },
    Detail {
        /// Logical names, `default` already expanded, privacy columns removed.
        columns: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structured {
    pub mapping: EventsMapping,
    pub shape: Shape,
    /// Traffic types to report (empty: all).
    pub traffic: Vec<String>,
    pub filters: Filters,
    /// Filters that apply only to events of one traffic type (per-traffic
    /// detail filters): other events pass them.
    pub traffic_filters: BTreeMap<String, Filters>,
    pub row_limit: Option<u64>,
    pub cardinality_limit: Option<u64>,
}
