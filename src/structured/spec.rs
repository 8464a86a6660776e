//! Structured outputs (views and engagement reports, summaries and detail reports of
//! events): what a `kind = "summary"` or `kind = "detail"` output asks for, in
//! the logical names of an events mapping. Checked when the configuration is loaded,
//! which also resolves every logical name an output uses to the column that holds it
//! (a `Column`), so that `compile` never looks a name up and has no case for a name the
//! mapping lacks; compiled to the source's SQL dialect by `compile`.

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

/// A logical name of an output, resolved against the events mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The logical name (`network`): it names the output column.
    pub name: String,
    /// The physical column that holds it (a dimension's first column).
    pub column: String,
}

impl Column {
    /// The column of `logical` in `m` (see `EventsMapping::column`), if it has one.
    pub fn resolve(m: &EventsMapping, logical: &str) -> Option<Column> {
        m.column(logical).map(|column| Column {
            name: logical.to_string(),
            column: column.to_string(),
        })
    }

    /// The column of the measure `name` in `m`, if it has one.
    pub fn measure(m: &EventsMapping, name: &str) -> Option<Column> {
        m.measures.get(name).map(|column| Column {
            name: name.to_string(),
            column: column.clone(),
        })
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
    Traffic {
        /// The traffic type counted (`click`).
        value: String,
        /// The mapping's traffic column.
        column: String,
    },
    /// `distinct:country`: distinct values of a dimension.
    Distinct(Column),
    /// `sum:revenue`: the total of a measure (an amount), rounded to 6 decimals.
    Sum(Column),
    /// `nonzero:revenue`: events with a measure above zero ("# revenue
    /// generating events").
    NonZero(Column),
}

impl Counter {
    pub const FORMS: &'static str =
        "count, count:TRAFFIC, distinct:DIMENSION, sum:MEASURE, nonzero:MEASURE";

    /// The output column's name.
    pub fn column_name(&self) -> String {
        match self {
            Counter::Count => "count".into(),
            Counter::Traffic { value, .. } => format!("{value}_count"),
            Counter::Distinct(d) => format!("distinct_{}", d.name),
            Counter::Sum(m) => format!("{}_sum", m.name),
            Counter::NonZero(m) => format!("{}_events", m.name),
        }
    }
}

/// A filter on one dimension: its columns (every matched touchpoint's) and the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionFilter {
    pub columns: Vec<String>,
    pub values: Vec<String>,
}

/// Filters, ANDed with each other; the values of one filter are ORed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Keep an event if any of the dimension's columns holds one of the values.
    pub include: Vec<DimensionFilter>,
    /// Keep an event if any of the dimension's columns holds none of the values (or is
    /// empty).
    pub exclude: Vec<DimensionFilter>,
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

/// A column of a detail report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailColumn {
    /// The event's time, labelled in the report's zone.
    Time,
    /// Shown as stored: the row id or a measure.
    Plain(Column),
    /// Shown as text: a dimension, the traffic type or the tags.
    Text(Column),
}

impl DetailColumn {
    /// The column of `logical` in `m`, shown as it must be, if `m` has it.
    pub fn resolve(m: &EventsMapping, logical: &str) -> Option<DetailColumn> {
        match logical {
            TIME => Some(DetailColumn::Time),
            ID => Column::resolve(m, ID).map(DetailColumn::Plain),
            other if m.measures.contains_key(other) => {
                Column::measure(m, other).map(DetailColumn::Plain)
            }
            other => Column::resolve(m, other).map(DetailColumn::Text),
        }
    }

    /// The logical name, which names the output column.
    pub fn name(&self) -> &str {
        match self {
            DetailColumn::Time => TIME,
            DetailColumn::Plain(c) | DetailColumn::Text(c) => &c.name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Summary {
        group_by: Vec<Column>,
        time_series: TimeSeries,
        counters: Vec<Counter>,
    },
    Detail {
        /// `default` already expanded, privacy columns removed.
        columns: Vec<DetailColumn>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> EventsMapping {
        EventsMapping {
            table: vec!["events".into()],
            time: "ts".into(),
            time_format: TimeFormat::Text,
            traffic: Some("kind".into()),
            id: Some("event_id".into()),
            dimensions: BTreeMap::from([(
                "network".into(),
                vec!["click_network".into(), "view_network".into()],
            )]),
            tags: None,
            measures: BTreeMap::from([("revenue".into(), "amount".into())]),
            default_columns: Vec::new(),
        }
    }

    fn col(name: &str, column: &str) -> Column {
        Column {
            name: name.into(),
            column: column.into(),
        }
    }

    #[test]
    fn detail_columns_resolve_to_what_compile_writes() {
        let m = mapping();
        let resolve = |n: &str| DetailColumn::resolve(&m, n);
        assert_eq!(resolve(TIME), Some(DetailColumn::Time));
        assert_eq!(resolve(ID), Some(DetailColumn::Plain(col(ID, "event_id"))));
        assert_eq!(
            resolve("revenue"),
            Some(DetailColumn::Plain(col("revenue", "amount")))
        );
        assert_eq!(
            resolve("network"),
            Some(DetailColumn::Text(col("network", "click_network")))
        );
        assert_eq!(
            resolve(TRAFFIC),
            Some(DetailColumn::Text(col(TRAFFIC, "kind")))
        );
        assert_eq!(resolve(TAGS), None);
        assert_eq!(resolve("country"), None);
        assert_eq!(resolve("revenue").unwrap().name(), "revenue");
    }

    #[test]
    fn measures_resolve_only_as_measures() {
        let m = mapping();
        assert_eq!(
            Column::measure(&m, "revenue"),
            Some(col("revenue", "amount"))
        );
        assert_eq!(Column::measure(&m, "network"), None);
        assert_eq!(
            Counter::Sum(col("revenue", "amount")).column_name(),
            "revenue_sum"
        );
    }
}
