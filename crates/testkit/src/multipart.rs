//! A `multipart/form-data` body built by hand, byte for byte as a client would send it, for
//! the server's tests and the HTTP benchmarks alike.

/// The boundary every [`Form`] uses; the `Content-Type` header must name it.
pub const BOUNDARY: &str = "livegate-test-boundary-7d1f";

/// The `Content-Type` header value for a [`Form`]'s body.
pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Parts in the order they were added: (field name, file name for a file part, bytes).
#[derive(Default, Clone)]
pub struct Form {
    parts: Vec<(String, Option<String>, Vec<u8>)>,
}

impl Form {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.parts
            .push((name.into(), None, value.as_bytes().to_vec()));
        self
    }
    pub fn file(mut self, name: &str, filename: &str, bytes: &[u8]) -> Self {
        self.parts
            .push((name.into(), Some(filename.into()), bytes.to_vec()));
        self
    }
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, filename, bytes) in &self.parts {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match filename {
                Some(f) => out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }
}
