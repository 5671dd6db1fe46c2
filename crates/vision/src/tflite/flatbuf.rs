//! A bounds-checked reader for the FlatBuffers wire format, just enough to walk a TFLite model.
//!
//! Every offset read from the file is validated before use, so a corrupt or hostile file yields
//! an error instead of a panic or an out-of-bounds read.

use super::ConvertError;

type Result<T> = std::result::Result<T, ConvertError>;

fn corrupt(what: &str) -> ConvertError {
    ConvertError::Corrupt(what.to_string())
}

#[derive(Clone, Copy)]
pub struct Buf<'a>(pub &'a [u8]);

impl<'a> Buf<'a> {
    fn bytes(&self, pos: usize, len: usize) -> Result<&'a [u8]> {
        let end = pos
            .checked_add(len)
            .ok_or_else(|| corrupt("offset overflow"))?;
        self.0
            .get(pos..end)
            .ok_or_else(|| corrupt("offset past the end of the file"))
    }

    fn u16(&self, pos: usize) -> Result<u16> {
        let b = self.bytes(pos, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&self, pos: usize) -> Result<u32> {
        let b = self.bytes(pos, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&self, pos: usize) -> Result<i32> {
        Ok(self.u32(pos)? as i32)
    }

    /// Follows the unsigned offset stored at `pos` (offsets are relative to where they are stored).
    fn follow(&self, pos: usize) -> Result<usize> {
        let rel = self.u32(pos)? as usize;
        let target = pos
            .checked_add(rel)
            .ok_or_else(|| corrupt("offset overflow"))?;
        if target >= self.0.len() {
            return Err(corrupt("offset past the end of the file"));
        }
        Ok(target)
    }

    pub fn root(self) -> Result<Table<'a>> {
        let pos = self.follow(0)?;
        Table::at(self, pos)
    }
}

#[derive(Clone, Copy)]
pub struct Table<'a> {
    buf: Buf<'a>,
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    fn at(buf: Buf<'a>, pos: usize) -> Result<Self> {
        let soff = buf.i32(pos)? as i64;
        let vtable = pos as i64 - soff;
        if vtable < 0 {
            return Err(corrupt("vtable before the start of the file"));
        }
        let vtable = vtable as usize;
        let vtable_len = buf.u16(vtable)? as usize;
        buf.bytes(vtable, vtable_len)?;
        Ok(Table {
            buf,
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Absolute position of field `id`, or `None` when the field holds its default.
    fn field(&self, id: usize) -> Result<Option<usize>> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = self.buf.u16(self.vtable + slot)? as usize;
        Ok(if off == 0 { None } else { Some(self.pos + off) })
    }

    pub fn u8_or(&self, id: usize, default: u8) -> Result<u8> {
        match self.field(id)? {
            Some(p) => Ok(self.buf.bytes(p, 1)?[0]),
            None => Ok(default),
        }
    }

    pub fn bool_or(&self, id: usize, default: bool) -> Result<bool> {
        Ok(self.u8_or(id, default as u8)? != 0)
    }

    pub fn i32_or(&self, id: usize, default: i32) -> Result<i32> {
        match self.field(id)? {
            Some(p) => self.buf.i32(p),
            None => Ok(default),
        }
    }

    pub fn u32_or(&self, id: usize, default: u32) -> Result<u32> {
        match self.field(id)? {
            Some(p) => self.buf.u32(p),
            None => Ok(default),
        }
    }

    pub fn table(&self, id: usize) -> Result<Option<Table<'a>>> {
        match self.field(id)? {
            Some(p) => Ok(Some(Table::at(self.buf, self.buf.follow(p)?)?)),
            None => Ok(None),
        }
    }

    pub fn vector(&self, id: usize, elem_size: usize) -> Result<Option<Vector<'a>>> {
        let Some(p) = self.field(id)? else {
            return Ok(None);
        };
        let start = self.buf.follow(p)?;
        let len = self.buf.u32(start)? as usize;
        let byte_len = len
            .checked_mul(elem_size)
            .ok_or_else(|| corrupt("vector length overflow"))?;
        self.buf.bytes(start + 4, byte_len)?;
        Ok(Some(Vector {
            buf: self.buf,
            start: start + 4,
            len,
            elem_size,
        }))
    }

    pub fn string(&self, id: usize) -> Result<String> {
        Ok(match self.vector(id, 1)? {
            Some(v) => String::from_utf8_lossy(v.bytes()).into_owned(),
            None => String::new(),
        })
    }

    pub fn i32s(&self, id: usize) -> Result<Vec<i32>> {
        match self.vector(id, 4)? {
            Some(v) => (0..v.len).map(|i| v.buf.i32(v.start + 4 * i)).collect(),
            None => Ok(Vec::new()),
        }
    }

    pub fn tables(&self, id: usize) -> Result<Vec<Table<'a>>> {
        match self.vector(id, 4)? {
            Some(v) => (0..v.len)
                .map(|i| Table::at(v.buf, v.buf.follow(v.start + 4 * i)?))
                .collect(),
            None => Ok(Vec::new()),
        }
    }
}

pub struct Vector<'a> {
    buf: Buf<'a>,
    start: usize,
    len: usize,
    elem_size: usize,
}

impl<'a> Vector<'a> {
    pub fn bytes(&self) -> &'a [u8] {
        // Range validated when the vector was created.
        &self.buf.0[self.start..self.start + self.len * self.elem_size]
    }
}
