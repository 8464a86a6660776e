use super::*;
use crate::source::ColumnType;
use chrono::NaiveDateTime;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn options(compression: ParquetCompression, row_group_rows: u32) -> ParquetOptions {
    ParquetOptions {
        compression,
        row_group_rows,
    }
}

fn render(o: &ParquetOptions, columns: &[Column<'_>], rows: &[Vec<Cell<'_>>]) -> Result<Vec<u8>> {
    let mut r = ParquetRenderer::new(Vec::new(), o)?;
    r.columns(columns)?;
    for row in rows {
        for c in row {
            r.cell(*c)?;
        }
        r.end_row()?;
    }
    assert_eq!(r.rows(), rows.len() as u64);
    r.finish()
}

fn read(file: Vec<u8>) -> (SerializedFileReader<bytes::Bytes>, Vec<Vec<Field>>) {
    let reader = SerializedFileReader::new(bytes::Bytes::from(file)).unwrap();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            r.unwrap()
                .get_column_iter()
                .map(|(_, f)| f.clone())
                .collect()
        })
        .collect();
    (reader, rows)
}

/// `name: PHYSICAL logical` of each column of the file.
fn schema(reader: &SerializedFileReader<bytes::Bytes>) -> Vec<String> {
    let descr = reader.metadata().file_metadata().schema_descr();
    descr
        .columns()
        .iter()
        .map(|c| {
            format!(
                "{}: {} {:?} {:?}",
                c.name(),
                c.physical_type(),
                c.logical_type_ref(),
                c.self_type().get_basic_info().repetition()
            )
        })
        .collect()
}

fn col(name: &str, ty: ColumnType) -> Column<'_> {
    Column { name, ty }
}

#[test]
fn typed_columns_read_back_with_their_types() {
    let columns = [
        col("i", ColumnType::Int),
        col("r", ColumnType::Real),
        col("n", ColumnType::Numeric),
        col("b", ColumnType::Bool),
        col("t", ColumnType::Text),
        col("d", ColumnType::Date),
        col("ts", ColumnType::Timestamp),
        col("tz", ColumnType::TimestampTz),
        col("x", ColumnType::Blob),
    ];
    let rows = [
        vec![
            Cell::Int(-7),
            Cell::Real(0.1),
            Cell::Number("12345678901234567890.12"),
            Cell::Bool(true),
            Cell::Text("=cmd"),
            Cell::Text("2024-02-29"),
            Cell::Text("2024-03-01 12:30:45.5"),
            Cell::Text("2024-03-01T11:00:00Z"),
            Cell::Blob(&[0, 255]),
        ],
        vec![Cell::Null; 9],
        vec![
            Cell::Int(i64::MAX),
            Cell::Int(3),
            Cell::Null,
            Cell::Int(0),
            Cell::Text(""),
            Cell::Text("1969-12-31"),
            Cell::Text("2024-03-01T00:00:00"),
            Cell::Text("2024-03-01T01:00:00+01:00"),
            Cell::Blob(b""),
        ],
    ];
    let file = render(&ParquetOptions::default(), &columns, &rows).unwrap();
    let (reader, back) = read(file);
    assert_eq!(
        schema(&reader),
        [
            "i: INT64 None OPTIONAL",
            "r: DOUBLE None OPTIONAL",
            "n: BYTE_ARRAY Some(String) OPTIONAL",
            "b: BOOLEAN None OPTIONAL",
            "t: BYTE_ARRAY Some(String) OPTIONAL",
            "d: INT32 Some(Date) OPTIONAL",
            "ts: INT64 Some(Timestamp(TimestampType { is_adjusted_to_u_t_c: false, unit: MICROS })) OPTIONAL",
            "tz: INT64 Some(Timestamp(TimestampType { is_adjusted_to_u_t_c: true, unit: MICROS })) OPTIONAL",
            "x: BYTE_ARRAY None OPTIONAL",
        ]
    );
    let ts = NaiveDateTime::parse_from_str("2024-03-01 12:30:45.5", "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_micros();
    assert_eq!(
        back[0],
        [
            Field::Long(-7),
            Field::Double(0.1),
            Field::Str("12345678901234567890.12".into()),
            Field::Bool(true),
            Field::Str("=cmd".into()),
            Field::Date(19782),
            Field::TimestampMicros(ts),
            Field::TimestampMicros(1_709_290_800_000_000),
            Field::Bytes(ByteArray::from(vec![0u8, 255])),
        ]
    );
    assert_eq!(back[1], vec![Field::Null; 9]);
    assert_eq!(back[2][1], Field::Double(3.0));
    assert_eq!(back[2][3], Field::Bool(false));
    assert_eq!(back[2][4], Field::Str(String::new()));
    assert_eq!(back[2][5], Field::Date(-1));
    assert_eq!(back[2][7], Field::TimestampMicros(1_709_251_200_000_000));
    assert_eq!(back[2][8], Field::Bytes(ByteArray::from(Vec::new())));
}

#[test]
fn unknown_columns_take_the_type_of_the_first_row_group() {
    let u = ColumnType::Unknown;
    let columns = [
        col("ints", u),
        col("mixed", u),
        col("text", u),
        col("nulls", u),
        col("bools", u),
        col("sqlite_numeric", ColumnType::Numeric),
    ];
    let rows = [
        vec![
            Cell::Int(1),
            Cell::Int(1),
            Cell::Int(1),
            Cell::Null,
            Cell::Bool(true),
            Cell::Int(100),
        ],
        vec![
            Cell::Int(2),
            Cell::Real(2.5),
            Cell::Text("b"),
            Cell::Null,
            Cell::Null,
            Cell::Int(7),
        ],
        // The second row group: values that fit the types of the first.
        vec![
            Cell::Null,
            Cell::Int(3),
            Cell::Real(0.5),
            Cell::Text("late"),
            Cell::Bool(false),
            Cell::Real(0.25),
        ],
    ];
    let file = render(&options(ParquetCompression::Zstd, 2), &columns, &rows).unwrap();
    let (reader, back) = read(file);
    assert_eq!(reader.num_row_groups(), 2);
    assert_eq!(
        schema(&reader),
        [
            "ints: INT64 None OPTIONAL",
            "mixed: DOUBLE None OPTIONAL",
            "text: BYTE_ARRAY Some(String) OPTIONAL",
            "nulls: BYTE_ARRAY Some(String) OPTIONAL",
            "bools: BOOLEAN None OPTIONAL",
            "sqlite_numeric: DOUBLE None OPTIONAL",
        ]
    );
    assert_eq!(back[0][1], Field::Double(1.0));
    assert_eq!(back[0][2], Field::Str("1".into()));
    assert_eq!(back[2][2], Field::Str("0.5".into()));
    assert_eq!(back[2][3], Field::Str("late".into()));
    assert_eq!(back[0][5], Field::Double(100.0));
    assert_eq!(back[2][5], Field::Double(0.25));
}

#[test]
fn a_later_value_that_does_not_fit_fails_saying_what_to_do() {
    let columns = [col("n", ColumnType::Unknown)];
    let rows = [
        vec![Cell::Int(1)],
        vec![Cell::Int(2)],
        vec![Cell::Real(2.5)],
    ];
    let err = render(&options(ParquetCompression::None, 2), &columns, &rows).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a real number does not fit the column's Parquet type INT64; declare the column's type in the output's `types` or CAST it in the query"
    );
    let columns = [col("d", ColumnType::Date)];
    let err = render(
        &ParquetOptions::default(),
        &columns,
        &[vec![Cell::Text("soon")]],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the text \"soon\" does not fit the column's Parquet type DATE; declare the column's type in the output's `types` or CAST it in the query"
    );
}

#[test]
fn row_groups_are_cut_by_rows_and_every_row_reads_back() {
    let rows: Vec<Vec<Cell<'_>>> = (0..25)
        .map(|i| vec![Cell::Int(i), Cell::Text("x")])
        .collect();
    let columns = [col("i", ColumnType::Int), col("t", ColumnType::Text)];
    for codec in [
        ParquetCompression::None,
        ParquetCompression::Snappy,
        ParquetCompression::Zstd,
    ] {
        let file = render(&options(codec, 10), &columns, &rows).unwrap();
        let (reader, back) = read(file);
        assert_eq!(reader.num_row_groups(), 3);
        let ints: Vec<_> = back.iter().map(|r| r[0].clone()).collect();
        assert_eq!(ints, (0..25).map(Field::Long).collect::<Vec<_>>());
    }
}

#[test]
fn no_rows_make_a_file_with_the_columns_only() {
    let columns = [col("a", ColumnType::Int), col("b", ColumnType::Unknown)];
    let file = render(&ParquetOptions::default(), &columns, &[]).unwrap();
    let (reader, back) = read(file);
    assert!(back.is_empty());
    assert_eq!(
        schema(&reader),
        [
            "a: INT64 None OPTIONAL",
            "b: BYTE_ARRAY Some(String) OPTIONAL"
        ]
    );
}
