//! The pieces items are written out with: little-endian numbers and texts
//! (a `u32` length, `u32::MAX` for none, and the bytes), and a reader that
//! takes them back in order and says when an item is cut short.

/// Append a text (`None`: absent).
pub(crate) fn put_text(out: &mut Vec<u8>, t: Option<&str>) {
    match t {
        Some(t) => {
            out.extend_from_slice(&(t.len() as u32).to_le_bytes());
            out.extend_from_slice(t.as_bytes());
        }
        None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
}

/// What is left of one encoded item, read field by field.
pub(crate) struct Fields<'a> {
    rest: &'a [u8],
    /// The error when a field runs past the end.
    short: &'static str,
}

impl<'a> Fields<'a> {
    /// Read `bytes`; `short` is the error for an item cut short.
    pub(crate) fn new(bytes: &'a [u8], short: &'static str) -> Fields<'a> {
        Fields { rest: bytes, short }
    }

    /// The error for an item cut short.
    pub(crate) fn short(&self) -> &'static str {
        self.short
    }

    /// Whether every byte has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    /// Bytes left.
    pub(crate) fn left(&self) -> usize {
        self.rest.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let (b, tail) = self.rest.split_at_checked(n).ok_or(self.short)?;
        self.rest = tail;
        Ok(b)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn half(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    pub(crate) fn word(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    pub(crate) fn text(&mut self) -> Result<Option<String>, &'static str> {
        match self.half()? {
            u32::MAX => Ok(None),
            n => {
                let b = self.take(n as usize)?;
                Ok(Some(std::str::from_utf8(b).map_err(|_| "text written out is not UTF-8")?.to_string()))
            }
        }
    }
}
