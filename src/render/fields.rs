//! CSV records written field by field through csv-core (which decides quoting and
//! escapes), with the one distinction the csv crate's writer cannot make: empty text is
//! written `""` while an empty value (NULL with the default `null = ""`) is written as
//! nothing, as PostgreSQL's `COPY … CSV` and the sqlite3 shell do, so that a reader can
//! tell them apart.

use std::io::{self, Write};

use csv_core::{QuoteStyle, Terminator, WriteResult, Writer, WriterBuilder};

/// Writes CSV records into `W` through a buffer of `capacity` bytes.
pub struct FieldWriter<W: Write> {
    core: Writer,
    out: W,
    buf: Vec<u8>,
    len: usize,
    terminator: &'static [u8],
    /// No field of the current record is written yet.
    first: bool,
}

impl<W: Write> FieldWriter<W> {
    pub fn new(out: W, delimiter: u8, crlf: bool, capacity: usize) -> Self {
        let core = WriterBuilder::new()
            .delimiter(delimiter)
            .quote_style(QuoteStyle::Necessary)
            .terminator(Terminator::Any(b'\n'))
            .build();
        FieldWriter {
            core,
            out,
            buf: vec![0; capacity.max(64)],
            len: 0,
            terminator: if crlf { b"\r\n" } else { b"\n" },
            first: true,
        }
    }

    /// One field: quoted when it needs to be (a delimiter, quote or line break inside).
    /// An empty `value` is written as nothing: an empty value, not empty text.
    pub fn field(&mut self, mut value: &[u8]) -> io::Result<()> {
        self.separate()?;
        loop {
            let (res, nin, nout) = self.core.field(value, &mut self.buf[self.len..]);
            self.len += nout;
            value = &value[nin..];
            match res {
                WriteResult::InputEmpty => return Ok(()),
                WriteResult::OutputFull => self.flush_buf()?,
            }
        }
    }

    /// Empty text: `""`.
    pub fn empty_text(&mut self) -> io::Result<()> {
        self.separate()?;
        self.raw(b"\"\"")
    }

    /// Ends the record (closing a quoted last field).
    pub fn end_record(&mut self) -> io::Result<()> {
        // The core writes a pending closing quote with the delimiter; the delimiter
        // itself is dropped and the line ends instead.
        let mut tail = [0u8; 2];
        let (_, n) = self.core.delimiter(&mut tail);
        self.raw(&tail[..n.saturating_sub(1)])?;
        self.raw(self.terminator)?;
        self.first = true;
        Ok(())
    }

    /// Writes what is buffered and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush_buf()?;
        Ok(self.out)
    }

    fn separate(&mut self) -> io::Result<()> {
        if self.first {
            self.first = false;
            return Ok(());
        }
        let mut sep = [0u8; 2];
        let (_, n) = self.core.delimiter(&mut sep);
        self.raw(&sep[..n])
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() - self.len < bytes.len() {
            self.flush_buf()?;
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf[..self.len])?;
        self.len = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(records: &[&[Option<&str>]], crlf: bool, capacity: usize) -> String {
        let mut w = FieldWriter::new(Vec::new(), b',', crlf, capacity);
        for r in records {
            for f in r.iter() {
                match f {
                    Some("") => w.empty_text().unwrap(),
                    Some(s) => w.field(s.as_bytes()).unwrap(),
                    None => w.field(b"").unwrap(),
                }
            }
            w.end_record().unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn empty_text_and_empty_values_differ_and_quoting_is_rfc_4180() {
        let rows: &[&[Option<&str>]] = &[
            &[Some("a"), Some("b"), Some("c")],
            &[None, Some(""), Some("x\"y")],
            &[Some("l1\nl2"), Some("1,5"), None],
            &[None],
            &[Some("")],
            &[Some("q\"")],
        ];
        let want = "a,b,c\n,\"\",\"x\"\"y\"\n\"l1\nl2\",\"1,5\",\n\n\"\"\n\"q\"\"\"\n";
        assert_eq!(write(rows, false, 4096), want);
        // The same through a buffer smaller than the fields.
        assert_eq!(write(rows, false, 64), want);
        assert_eq!(
            write(&[&[Some("a"), Some("b\nc")]], true, 4096),
            "a,\"b\nc\"\r\n"
        );
    }
}
